/* Each slot: many cheap hypercalls, then one line with the slot number and a clock checksum.
 * Used where the suite needs steady traffic on the partition endpoint and comparable output. */
#include <stdio.h>
#include <prtos.h>

void partition_main(void)
{
    prtos_time_t t;
    unsigned int n = 0, i, sum;

    for (;;) {
        n++;
        sum = 0;
        for (i = 0; i < 200; i++) {
            prtos_get_time(PRTOS_EXEC_CLOCK, &t);
            sum = sum * 31u + (unsigned int)t;
        }
        printf("[%d] slot %u sum %08x\n", PRTOS_PARTITION_SELF, n, sum);
        prtos_idle_self();
    }
}
