/*
 * example.008, Partition0 and Partition1 - two vCPUs per partition.
 *
 * vCPU 0 starts the partition's other vCPU with setup_vcpus(); both then
 * run this same code in parallel on the two CPUs. Each vCPU introduces
 * itself; the last vCPU also reports success. Then they spin.
 */
#include <stdio.h>
#include <prtos.h>
#include <bail.h>

#define PRINT(...) do { \
        printf("[%d] ", PRTOS_PARTITION_SELF); \
        printf(__VA_ARGS__); \
    } while (0)

void partition_main(void)
{
    prtos_u32_t vcpu;

    setup_vcpus();

    vcpu = prtos_get_vcpuid();
    PRINT("I'm Partition%d:vCPU%d,My name is %s\n\n",
          PRTOS_PARTITION_SELF, vcpu, prtos_get_pct()->name);
    if (vcpu == prtos_get_number_vcpus() - 1)
        PRINT("Verification Passed\n");

    while (1)
        ;
}
