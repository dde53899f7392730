/* Counts its slots; restarts from 1 after a reset because the counter lives on the stack. */
#include <stdio.h>
#include <prtos.h>

void partition_main(void)
{
    int n = 0;
    for (;;) {
        n++;
        printf("[1] slot %d\n", n);
        prtos_idle_self();
    }
}
