/* An UNRECOVERABLE trace record in every round: PARTITION_ERROR (the call itself returns). */
#include <prtos.h>

static void write_unrecoverable(void)
{
    prtos_trace_event_t event = {0};

    event.op_code_hi = PRTOS_TRACE_UNRECOVERABLE << TRACE_OPCODE_CRIT_BIT;
    event.payload[0] = 0xBAD;
    prtos_trace_event(1, &event);
}

#define FAULT_TRAP 3
#define FAULT() write_unrecoverable()
#include "hm_common.c"
