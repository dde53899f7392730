/*
 * example.007, Partition1 and Partition2 - count five slots, then halt.
 *
 * The counter lives on the stack: after a reset the partition starts again
 * from partition_main and counts from 1.
 */
#include <stdio.h>
#include <prtos.h>

#define PRINT(...) do { \
        printf("[%d] ", PRTOS_PARTITION_SELF); \
        printf(__VA_ARGS__); \
    } while (0)

#define NUM_COUNTS 5

void partition_main(void)
{
    prtos_s32_t counter = 0;
    prtos_s32_t i;

    PRINT("Partition %d\n", PRTOS_PARTITION_SELF);
    for (i = 0; i < NUM_COUNTS; i++) {
        counter++;
        PRINT("cnt: %d\n", counter);
        prtos_idle_self();
    }
    prtos_halt_partition(PRTOS_PARTITION_SELF);
}
