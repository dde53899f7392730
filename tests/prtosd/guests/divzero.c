/* Divides by zero in its second slot; the HM table decides what happens. */
#include <stdio.h>
#include <prtos.h>

volatile int zero;

void partition_main(void)
{
    printf("[%d] before\n", PRTOS_PARTITION_SELF);
    prtos_idle_self();
    printf("[%d] dividing\n", PRTOS_PARTITION_SELF);
    printf("[%d] result %d\n", PRTOS_PARTITION_SELF, 10 / zero);
}
