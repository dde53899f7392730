/*
 * example.003, Partition0 and Partition1 - write trace events.
 *
 * Each partition writes two WARNING events to its own trace stream, one per
 * slot. payload[0] holds the partition id, payload[1] a value that counts up
 * from 0 in Partition0 and down from 0xffff in Partition1.
 */
#include <stdio.h>
#include <string.h>
#include <prtos.h>

#define PRINT(...) do { \
        printf("[%d] ", PRTOS_PARTITION_SELF); \
        printf(__VA_ARGS__); \
    } while (0)

#define TRACE_BITMASK 0x01
#define NUM_EVENTS 2

void partition_main(void)
{
    prtos_trace_event_t event;
    prtos_s32_t self = PRTOS_PARTITION_SELF;
    prtos_s32_t i;

    memset(&event, 0, sizeof(event));
    event.op_code_hi = PRTOS_TRACE_WARNING << TRACE_OPCODE_CRIT_BIT;
    event.payload[0] = self;
    event.payload[1] = (self == 0) ? 0 : 0xFFFF;

    for (i = 0; i < NUM_EVENTS; i++) {
        PRINT("New trace: %x\n", event.payload[1]);
        prtos_trace_event(TRACE_BITMASK, &event);
        if (self == 0)
            event.payload[1]++;
        else
            event.payload[1]--;
        prtos_idle_self();
    }

    PRINT("Verification Passed\n");
    PRINT("Halting\n");
    prtos_halt_partition(PRTOS_PARTITION_SELF);
}
