/*
 * example.006, Partition2 (system partition) - switches scheduling plans.
 *
 * Every second slot it asks for the next plan: 1, then 2, then 0. A switch
 * happens at the end of the major frame in which it was asked for; plan 0
 * can never be asked for, so the last request fails.
 */
#include <stdio.h>
#include <prtos.h>

#define PRINT(...) do { \
        prtos_time_t __now; \
        prtos_get_time(PRTOS_HW_CLOCK, &__now); \
        printf("[%d][%lld] ", PRTOS_PARTITION_SELF, __now); \
        printf(__VA_ARGS__); \
    } while (0)

#define NUM_RUNS 6
#define NUM_PLANS 3

void partition_main(void)
{
    prtos_u32_t plan = 0, prev_plan;
    prtos_s32_t seq;

    for (seq = 0; seq < NUM_RUNS; seq++) {
        PRINT("Run %d\n", seq);
        if ((seq % 2) == 0) {
            plan = (plan + 1) % NUM_PLANS;
            PRINT("Switch to plan %d --> ", plan);
            if (prtos_switch_sched_plan(plan, &prev_plan) < 0)
                printf("FAILED\n");
            else
                printf("OK\n");
        }
        prtos_idle_self();
    }

    PRINT("Verification Passed\n");
    PRINT("Halting\n");
    prtos_halt_partition(PRTOS_PARTITION_SELF);
}
