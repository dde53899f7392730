/*
 * helloworld_smp - the same program runs in both partitions, one per CPU.
 * Each prints its partition id, vCPU id and PCT name, then halts itself.
 */
#include <stdio.h>
#include <prtos.h>

void partition_main(void)
{
    printf("I'm Partition%d:vCPU%d,My name is %s\n",
           PRTOS_PARTITION_SELF, prtos_get_vcpuid(), prtos_get_pct()->name);
    printf("Verification Passed\n");
    prtos_halt_partition(PRTOS_PARTITION_SELF);
}
