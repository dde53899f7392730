/* Spins; prints the HW time at which each IPVI from the other CPU's partition arrives. */
#include <stdio.h>
#include <prtos.h>
#include <irqs.h>

static volatile int seen;

static void ipvi(trap_ctxt_t *ctxt)
{
    prtos_time_t now;

    prtos_get_time(PRTOS_HW_CLOCK, &now);
    seen++;
    printf("[%d] ipvi %d at %lld\n", PRTOS_PARTITION_SELF, seen, now);
}

void partition_main(void)
{
    install_trap_handler(BAIL_PRTOSEXT_TRAP(PRTOS_VT_EXT_IPVI0), ipvi);
    hw_sti();
    prtos_clear_irqmask(0, 1 << PRTOS_VT_EXT_IPVI0);
    for (;;)
        ;
}
