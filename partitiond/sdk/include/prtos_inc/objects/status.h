/*
 * prtos_inc/objects/status.h - the status object (class 7) and its records.
 */
#ifndef _PRTOS_INC_OBJECTS_STATUS_H_
#define _PRTOS_INC_OBJECTS_STATUS_H_

#include <prtos_inc/config.h>
#include <prtos_inc/linkage.h>
#include <prtos_inc/arch/arch_types.h>

/* Partition / vCPU states. */
#define PRTOS_STATUS_IDLE 0x0
#define PRTOS_STATUS_READY 0x1
#define PRTOS_STATUS_SUSPENDED 0x2
#define PRTOS_STATUS_HALTED 0x3

/* Operation modes. */
#define PRTOS_OPMODE_IDLE 0x0
#define PRTOS_OPMODE_COLD_RESET 0x1
#define PRTOS_OPMODE_WARM_RESET 0x2
#define PRTOS_OPMODE_NORMAL 0x3

/* ctrl commands. */
#define PRTOS_GET_SYSTEM_STATUS 0x0
#define PRTOS_GET_SCHED_PLAN_STATUS 0x1
#define PRTOS_SET_PARTITION_OPMODE 0x2
#define PRTOS_GET_PHYSPAGE_STATUS 0x3
#define PRTOS_GET_VCPU_STATUS 0x4

#ifndef __ASSEMBLY__

typedef struct {
    prtos_u32_t reset_counter;
    prtos_u64_t num_of_hm_events;
    prtos_u64_t num_of_irqs;
    prtos_u64_t current_maf;
    prtos_u64_t num_of_sampling_port_msgs_read;
    prtos_u64_t num_of_sampling_port_msgs_written;
    prtos_u64_t num_of_queuing_port_msgs_sent;
    prtos_u64_t num_of_queuing_port_msgs_received;
} prtos_sys_status_t;

typedef struct {
    prtos_u32_t state;
    prtos_u32_t op_mode;
    prtos_u64_t num_of_virqs;
    prtos_u32_t reset_counter;
    prtos_u32_t reset_status;
    prtos_time_t exec_clock;
    prtos_u64_t num_of_sampling_port_msgs_read;
    prtos_u64_t num_of_sampling_port_msgs_written;
    prtos_u64_t num_of_queuing_port_msgs_sent;
    prtos_u64_t num_of_queuing_port_msgs_received;
} prtos_part_status_t;

typedef struct {
    prtos_u32_t state;
    prtos_u32_t op_mode;
} prtos_virtual_cpu_status_t;

typedef struct {
    prtos_time_t switch_time;
    prtos_s32_t next;
    prtos_s32_t current;
    prtos_s32_t prev;
} prtos_plan_status_t;

typedef struct {
    prtos_u32_t p_addr;
    prtos_u32_t unused : 2, type : 3, counter : 27;
} prtos_phys_page_status_t;

union status_fmd {
    union {
        prtos_sys_status_t system;
        prtos_part_status_t partition;
        prtos_virtual_cpu_status_t vcpu;
        prtos_plan_status_t plan;
        prtos_phys_page_status_t phys_page;
    } status;
    prtos_u32_t op_mode;
};

#endif /* __ASSEMBLY__ */

#endif /* _PRTOS_INC_OBJECTS_STATUS_H_ */
