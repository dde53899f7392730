/* The neighbour of the hostile partition: a marker string the hostile one must never obtain, and
 * a slot counter whose console output and memory are compared with an undisturbed run. */
#include <stdio.h>
#include <prtos.h>

volatile char secret[64] = "VICTIM-SECRET-1d9c5e7a";
static volatile unsigned int history[1024];

void partition_main(void)
{
    unsigned int n = 0;

    for (;;) {
        history[n % 1024] = n * 2654435761u + (unsigned int)secret[n % 16];
        n++;
        printf("[1] slot %u\n", n);
        prtos_idle_self();
    }
}
