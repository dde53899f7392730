/* Local hypercalls and one HW timer interrupt, for the audit of vCPU events; then it halts. */
#include <stdio.h>
#include <prtos.h>
#include <irqs.h>

static volatile int ticks;
static prtos_time_t armed, fired;

static void on_timer(trap_ctxt_t *ctxt)
{
    (void)ctxt;
    prtos_get_time(PRTOS_HW_CLOCK, &fired);
    ticks++;
}

void partition_main(void)
{
    install_trap_handler(BAIL_PRTOSEXT_TRAP(PRTOS_VT_EXT_HW_TIMER), on_timer);
    prtos_clear_irqmask(0, 1 << PRTOS_VT_EXT_HW_TIMER);
    hw_sti();
    prtos_get_time(PRTOS_HW_CLOCK, &armed);
    prtos_set_timer(PRTOS_HW_CLOCK, armed + 200, 0);
    while (!ticks)
        ;
    printf("[%d] armed %lld fired %lld\n", PRTOS_PARTITION_SELF, armed, fired);
    prtos_halt_partition(PRTOS_PARTITION_SELF);
}
