/* bail_exit.c - exit() halts the partition whatever the status. */
#include <stdio.h>
#include <stdlib.h>
#include <irqs.h>

void partition_main(void) {
    printf("exiting\n");
    exit(3);
    printf("never\n");
}
