/*
 * example.009, Partition1 - writes to shared memory and signals Partition2.
 *
 * On each tick of a 1 s periodic HW-clock timer the handler writes a counter
 * to the memory area shared with Partition2 and raises IPVI 0 on it. After
 * the second tick the handler disarms the timer, so that no third tick can
 * overwrite the shared word before the program halts.
 */
#include <stdio.h>
#include <prtos.h>
#include <irqs.h>

#define PRINT(...) do { \
        printf("[%d] ", PRTOS_PARTITION_SELF); \
        printf(__VA_ARGS__); \
    } while (0)

#define PERIOD 1000000LL /* us */
#define TICKS 2
#define SHARED_ADDR 0x6300000
#define READER 2

static volatile prtos_s32_t timer_count = 0;
static prtos_u32_t shm_counter = 0;

static void hw_timer_handler(trap_ctxt_t *ctxt)
{
    PRINT("SHM WRITE %d\n", shm_counter);
    *(volatile prtos_u32_t *)SHARED_ADDR = shm_counter;
    shm_counter++;
    prtos_raise_partition_ipvi(READER, PRTOS_VT_EXT_IPVI0);

    timer_count++;
    if (timer_count >= TICKS)
        prtos_set_timer(PRTOS_HW_CLOCK, 0, 0);
}

void partition_main(void)
{
    prtos_time_t now;

    install_trap_handler(BAIL_PRTOSEXT_TRAP(PRTOS_VT_EXT_HW_TIMER), hw_timer_handler);
    hw_sti();
    prtos_clear_irqmask(0, 1 << PRTOS_VT_EXT_HW_TIMER);

    prtos_get_time(PRTOS_HW_CLOCK, &now);
    PRINT("Setting HW timer at 1 sec period\n");
    prtos_set_timer(PRTOS_HW_CLOCK, now + PERIOD, PERIOD);

    while (timer_count < TICKS)
        ;

    PRINT("Verification Passed\n");
    PRINT("Halting\n");
    prtos_halt_partition(PRTOS_PARTITION_SELF);
}
