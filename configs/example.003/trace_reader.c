/*
 * example.003, Partition2 (system partition) - read the other partitions'
 * trace streams.
 *
 * In each of two slots it reads one event from Partition0's stream and one
 * from Partition1's stream and prints it.
 */
#include <stdio.h>
#include <prtos.h>

#define PRINT(...) do { \
        printf("[%d] ", PRTOS_PARTITION_SELF); \
        printf(__VA_ARGS__); \
    } while (0)

#define NUM_WRITERS 2
#define NUM_ROUNDS 2

void partition_main(void)
{
    prtos_trace_event_t event;
    prtos_s32_t stream, round, pid;

    PRINT(" --------- Trace Log ---------------\n");
    for (round = 0; round < NUM_ROUNDS; round++) {
        for (pid = 0; pid < NUM_WRITERS; pid++) {
            stream = prtos_trace_open(pid);
            if (prtos_trace_read(stream, &event) > 0)
                PRINT("[Trace] part_id: %x time: %lld opCode: %x payload: {%x,%x}\n",
                      pid, event.timestamp, event.op_code_hi, event.payload[0], event.payload[1]);
        }
        prtos_idle_self();
    }

    PRINT("Verification Passed\n");
    PRINT("Halting\n");
    prtos_halt_partition(PRTOS_PARTITION_SELF);
}
