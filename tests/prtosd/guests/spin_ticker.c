/* Spins; a periodic HW timer (an odd period) raises an IPVI on the partition of the other CPU and
 * prints when. Its first tick comes after a short burst of work, so some grants of the other CPU
 * start while this one is not yet spinning. */
#include <stdio.h>
#include <prtos.h>
#include <irqs.h>

#define PERIOD 23457LL /* us */

static volatile int ticks;

static void tick(trap_ctxt_t *ctxt)
{
    prtos_time_t now;

    prtos_get_time(PRTOS_HW_CLOCK, &now);
    ticks++;
    printf("[%d] tick %d at %lld\n", PRTOS_PARTITION_SELF, ticks, now);
    prtos_raise_partition_ipvi(1, PRTOS_VT_EXT_IPVI0);
}

void partition_main(void)
{
    prtos_time_t now;
    volatile unsigned long i;

    install_trap_handler(BAIL_PRTOSEXT_TRAP(PRTOS_VT_EXT_HW_TIMER), tick);
    hw_sti();
    prtos_clear_irqmask(0, 1 << PRTOS_VT_EXT_HW_TIMER);
    for (i = 0; i < 200000; i++)
        ;
    prtos_get_time(PRTOS_HW_CLOCK, &now);
    prtos_set_timer(PRTOS_HW_CLOCK, now + PERIOD, PERIOD);
    for (;;)
        ;
}
