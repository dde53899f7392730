/*
 * example.001, Partition1 - a periodic timer on the EXEC clock.
 *
 * Arms a 1 s periodic EXEC-clock timer and waits until its interrupt handler
 * has run five times, then halts. The handler prints both clocks: the HW
 * clock runs all the time, the EXEC clock only while the partition runs.
 */
#include <stdio.h>
#include <prtos.h>
#include <irqs.h>

#define PRINT(...) do { \
        printf("[%d] ", PRTOS_PARTITION_SELF); \
        printf(__VA_ARGS__); \
    } while (0)

#define PERIOD 1000000LL /* us */
#define TICKS 5

static volatile prtos_s32_t timer_count = 0;

static void exec_timer_handler(trap_ctxt_t *ctxt)
{
    prtos_time_t hw, exec;

    prtos_get_time(PRTOS_HW_CLOCK, &hw);
    prtos_get_time(PRTOS_EXEC_CLOCK, &exec);
    PRINT("[%lld:%lld] IRQ EXEC Timer\n", hw, exec);
    timer_count++;
}

void partition_main(void)
{
    prtos_time_t now;

    install_trap_handler(BAIL_PRTOSEXT_TRAP(PRTOS_VT_EXT_EXEC_TIMER), exec_timer_handler);
    hw_sti();
    prtos_clear_irqmask(0, 1 << PRTOS_VT_EXT_EXEC_TIMER);

    prtos_get_time(PRTOS_EXEC_CLOCK, &now);
    PRINT("Setting EXEC timer at 1 sec period\n");
    prtos_set_timer(PRTOS_EXEC_CLOCK, now + PERIOD, PERIOD);

    while (timer_count < TICKS)
        ;

    PRINT("Verification Passed\n");
    PRINT("Halting\n");
    prtos_halt_partition(PRTOS_PARTITION_SELF);
}
