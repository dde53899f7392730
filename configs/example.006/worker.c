/*
 * example.006, Partition0 and Partition1 - report each slot they get.
 *
 * Prints one line per slot, ten times, then halts. Every line carries the
 * HW clock, so the output shows which plan gave the partition its slots.
 */
#include <stdio.h>
#include <prtos.h>

#define PRINT(...) do { \
        prtos_time_t __now; \
        prtos_get_time(PRTOS_HW_CLOCK, &__now); \
        printf("[%d][%lld] ", PRTOS_PARTITION_SELF, __now); \
        printf(__VA_ARGS__); \
    } while (0)

#define NUM_RUNS 10

void partition_main(void)
{
    prtos_s32_t seq;

    for (seq = 0; seq < NUM_RUNS; seq++) {
        PRINT("Run %d\n", seq);
        prtos_idle_self();
    }
    prtos_halt_partition(PRTOS_PARTITION_SELF);
}
