/*
 * example.009, Partition2 - reads shared memory when Partition1 signals.
 *
 * IPVI 0 from Partition1 means a new value is in the shared memory area.
 */
#include <stdio.h>
#include <prtos.h>
#include <irqs.h>

#define PRINT(...) do { \
        printf("[%d] ", PRTOS_PARTITION_SELF); \
        printf(__VA_ARGS__); \
    } while (0)

#define SHARED_ADDR 0x6300000
#define LAST_VALUE 1

static void ipvi_handler(trap_ctxt_t *ctxt)
{
    prtos_u32_t value = *(volatile prtos_u32_t *)SHARED_ADDR;

    PRINT("READ SHM %d\n", value);
    if (value == LAST_VALUE)
        PRINT("Verification Passed\n");
}

void partition_main(void)
{
    install_trap_handler(BAIL_PRTOSEXT_TRAP(PRTOS_VT_EXT_IPVI0), ipvi_handler);
    hw_sti();
    prtos_clear_irqmask(0, 1 << PRTOS_VT_EXT_IPVI0);

    PRINT("Waiting for messages\n");
    while (1)
        ;
}
