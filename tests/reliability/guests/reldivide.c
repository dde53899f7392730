/* Divides by zero at once, in every slot: with a warm-reset HM action it keeps the HM log busy. */
#include <stdio.h>
#include <prtos.h>

volatile int zero;

void partition_main(void)
{
    printf("[%d] result %d\n", PRTOS_PARTITION_SELF, 10 / zero);
}
