/*
 * example.007, Partition0 (system partition) - manages the other two.
 *
 * One step per slot: suspend both partitions, resume them, try to halt
 * them (they have halted themselves by then), restart them with a warm
 * reset and finally halt the whole system. After each successful call it
 * prints the state of both partitions.
 */
#include <stdio.h>
#include <prtos.h>

#define PRINT(...) do { \
        printf("[%d] ", PRTOS_PARTITION_SELF); \
        printf(__VA_ARGS__); \
    } while (0)

#define FIRST 1
#define SECOND 2

static void print_status(void)
{
    prtos_part_status_t first, second;

    prtos_get_partition_status(FIRST, &first);
    prtos_get_partition_status(SECOND, &second);
    PRINT("Status P2 => 0x%x ;  P3 => 0x%x\n", first.state, second.state);
}

static void report(prtos_s32_t id, prtos_s32_t ret, const char *what)
{
    PRINT("Partition %d  %d is %s\n", id, ret, what);
    if (ret >= 0)
        print_status();
}

void partition_main(void)
{
    PRINT("Partition %d\n", PRTOS_PARTITION_SELF);
    print_status();
    prtos_idle_self();

    report(FIRST, prtos_suspend_partition(FIRST), "suspended");
    prtos_idle_self();
    report(SECOND, prtos_suspend_partition(SECOND), "suspended");
    prtos_idle_self();

    prtos_idle_self();

    report(FIRST, prtos_resume_partition(FIRST), "resumed ");
    prtos_idle_self();
    report(SECOND, prtos_resume_partition(SECOND), "resumed ");
    prtos_idle_self();

    prtos_idle_self();

    report(FIRST, prtos_halt_partition(FIRST), "halted ");
    prtos_idle_self();
    report(SECOND, prtos_halt_partition(SECOND), "halted ");
    prtos_idle_self();

    report(FIRST, prtos_reset_partition(FIRST, PRTOS_WARM_RESET, 0), "restarted ");
    prtos_idle_self();
    report(SECOND, prtos_reset_partition(SECOND, PRTOS_WARM_RESET, 0), "restarted ");
    prtos_idle_self();

    PRINT("Verification Passed\n");
    PRINT("Halting System ...\n");
    prtos_halt_system();
}
