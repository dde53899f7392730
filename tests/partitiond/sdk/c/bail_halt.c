/*
 * bail_halt.c - bail_halt() prints its message (completing the line) and
 * halts; nothing after it runs.
 */
#include <stdio.h>
#include <irqs.h>

void partition_main(void) {
    printf("before\n");
    bail_halt("stopping %d", 7);
    printf("never\n");
}
