/* Counts its slots forever; the suite compares its console output and memory between runs. */
#include <stdio.h>
#include <prtos.h>

static volatile unsigned int history[1024];

void partition_main(void)
{
    unsigned int n = 0;

    for (;;) {
        history[n % 1024] = n * 2654435761u;
        n++;
        printf("[%d] slot %u\n", PRTOS_PARTITION_SELF, n);
        prtos_idle_self();
    }
}
