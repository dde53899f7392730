/*
 * prtos_inc/objects/hm.h - the health-monitor log object (class 6).
 */
#ifndef _PRTOS_INC_OBJECTS_HM_H_
#define _PRTOS_INC_OBJECTS_HM_H_

#include <prtos_inc/config.h>
#include <prtos_inc/linkage.h>
#include <prtos_inc/arch/arch_types.h>
#include <prtos_inc/prtosconf.h>

/* ctrl commands. */
#define PRTOS_HM_GET_STATUS 0
#define PRTOS_HM_LOCK_EVENTS 1
#define PRTOS_HM_UNLOCK_EVENTS 2
#define PRTOS_HM_RESET_EVENTS 3

#define PRTOS_HMLOG_SIGNATURE 0xFECF
#define PRTOS_HMLOG_PAYLOAD_LENGTH 4

/* op_code_hi */
#define HMLOG_OPCODE_SEQ_MASK 0xFFFFFFF0
#define HMLOG_OPCODE_SEQ_BIT 4
#define HMLOG_OPCODE_VALID_CPUCTXT_MASK 0x2
#define HMLOG_OPCODE_VALID_CPUCTXT_BIT 1
#define HMLOG_OPCODE_SYS_MASK 0x1
#define HMLOG_OPCODE_SYS_BIT 0

/* op_code_lo */
#define HMLOG_OPCODE_EVENT_MASK 0xFFFF0000
#define HMLOG_OPCODE_EVENT_BIT 16
#define HMLOG_OPCODE_VCPUID_MASK 0xFF00
#define HMLOG_OPCODE_VCPUID_BIT 8
#define HMLOG_OPCODE_PARTID_MASK 0xFF
#define HMLOG_OPCODE_PARTID_BIT 0

#ifndef __ASSEMBLY__

/* CPU context recorded with an event raised by a fault. */
struct hm_cpu_ctxt {
    prtos_u32_t pc;
    prtos_u32_t psr;
};

/* One HM log record (36 bytes). */
struct prtos_hm_log {
    prtos_u16_t signature;
    prtos_u16_t checksum;
    prtos_u32_t op_code_hi;
    prtos_u32_t op_code_lo;
    prtos_time_t timestamp;
    union {
        struct hm_cpu_ctxt cpu_ctxt;
        prtos_word_t payload[PRTOS_HMLOG_PAYLOAD_LENGTH];
    };
} __PACKED;

typedef struct prtos_hm_log prtos_hm_log_t;

typedef struct prtos_hm_status {
    prtos_s32_t num_of_events;
    prtos_s32_t max_events;
    prtos_s32_t current_event;
} prtos_hm_status_t;

union hm_cmd {
    prtos_hm_status_t status;
};

#endif /* __ASSEMBLY__ */

#endif /* _PRTOS_INC_OBJECTS_HM_H_ */
