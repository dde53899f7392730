/*
 * prtos_inc/objects/trace.h - trace stream objects (class 2).
 */
#ifndef _PRTOS_INC_OBJECTS_TRACE_H_
#define _PRTOS_INC_OBJECTS_TRACE_H_

#include <prtos_inc/config.h>
#include <prtos_inc/linkage.h>
#include <prtos_inc/arch/arch_types.h>

/* Criticality levels. */
#define PRTOS_TRACE_NOTIFY 0
#define PRTOS_TRACE_DEBUG 1
#define PRTOS_TRACE_WARNING 2
#define PRTOS_TRACE_UNRECOVERABLE 3

#define PRTOSTRACE_SIGNATURE 0xC33C
#define PRTOSTRACE_PAYLOAD_LENGTH 4

/* op_code_hi */
#define TRACE_OPCODE_SEQ_MASK 0xFFFFFFF0
#define TRACE_OPCODE_SEQ_BIT 4
#define TRACE_OPCODE_CRIT_MASK 0xE
#define TRACE_OPCODE_CRIT_BIT 1
#define TRACE_OPCODE_SYS_MASK 0x1
#define TRACE_OPCODE_SYS_BIT 0

/* op_code_lo */
#define TRACE_OPCODE_CODE_MASK 0xFFFF0000
#define TRACE_OPCODE_CODE_BIT 16
#define TRACE_OPCODE_VCPUID_MASK 0xFF00
#define TRACE_OPCODE_VCPUID_BIT 8
#define TRACE_OPCODE_PARTID_MASK 0xFF
#define TRACE_OPCODE_PARTID_BIT 0

/* ctrl commands. */
#define PRTOS_TRACE_GET_STATUS 0
#define PRTOS_TRACE_LOCK 1
#define PRTOS_TRACE_UNLOCK 2
#define PRTOS_TRACE_RESET 3

#define TRACE_BM_ALWAYS (~0)

#ifndef __ASSEMBLY__

/* One trace record (36 bytes); the kernel stamps header fields in place. */
struct prtos_trace_event {
    prtos_u16_t signature;
    prtos_u16_t checksum;
    prtos_u32_t op_code_hi;
    prtos_u32_t op_code_lo;
    prtos_time_t timestamp;
    prtos_word_t payload[PRTOSTRACE_PAYLOAD_LENGTH];
} __PACKED;

typedef struct prtos_trace_event prtos_trace_event_t;

typedef struct prtos_trace_status {
    prtos_s32_t num_of_events;
    prtos_s32_t max_events;
    prtos_s32_t current_event;
} prtos_trace_status_t;

union trace_cmd {
    prtos_trace_status_t status;
};

#endif /* __ASSEMBLY__ */

#endif /* _PRTOS_INC_OBJECTS_TRACE_H_ */
