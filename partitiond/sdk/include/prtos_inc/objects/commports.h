/*
 * prtos_inc/objects/commports.h - sampling and queuing port objects
 * (classes 3 and 4): commands, flags and the argument/record layouts.
 */
#ifndef _PRTOS_INC_OBJECTS_COMMPORTS_H_
#define _PRTOS_INC_OBJECTS_COMMPORTS_H_

#include <prtos_inc/config.h>
#include <prtos_inc/linkage.h>
#include <prtos_inc/arch/arch_types.h>
#include <prtos_inc/prtosconf.h>

/* ctrl commands. */
#define PRTOS_COMM_CREATE_PORT 0
#define PRTOS_COMM_GET_PORT_STATUS 1
#define PRTOS_COMM_GET_PORT_INFO 2

/* Sampling port status flags. */
#define PRTOS_COMM_PORT_STATUS_B 1
#define PRTOS_COMM_PORT_STATUS_M 0x3
#define PRTOS_COMM_EMPTY_PORT 0x0
#define PRTOS_COMM_CONSUMED_MSG (1 << PRTOS_COMM_PORT_STATUS_B)
#define PRTOS_COMM_NEW_MSG (2 << PRTOS_COMM_PORT_STATUS_B)
#define PRTOS_COMM_MSG_VALID 0x1

#define PRTOS_INFINITE_TIME ((prtos_u32_t)-1)

#ifndef __ASSEMBLY__

typedef struct prtos_sampling_port_status {
    prtos_time_t timestamp;
    prtos_u32_t last_msg_size;
    prtos_u32_t flags;
} prtos_sampling_port_status_t;

typedef struct prtos_sampling_port_info {
    char *port_name;
    prtos_time_t valid_period;
    prtos_u32_t max_msg_size;
    prtos_u32_t direction;
} prtos_sampling_port_info_t;

typedef struct prtos_queuing_port_status {
    prtos_u32_t num_of_msgs;
} prtos_queuing_port_status_t;

typedef struct prtos_queuing_port_info {
    char *port_name;
    prtos_u32_t max_msg_size;
    prtos_u32_t max_num_of_msgs;
    prtos_u32_t direction;
    prtos_time_t valid_period;
} prtos_queuing_port_info_t;

struct create_s_cmd {
    char *port_name;
    prtos_u32_t max_msg_size;
    prtos_u32_t direction;
    prtos_time_t valid_period;
};

union sampling_port_cmd {
    struct create_s_cmd create;
    prtos_sampling_port_status_t status;
    prtos_sampling_port_info_t info;
};

struct create_q_cmd {
    char *port_name;
    prtos_u32_t max_num_of_msgs;
    prtos_u32_t max_msg_size;
    prtos_u32_t direction;
};

union queuing_port_cmd {
    struct create_q_cmd create;
    prtos_queuing_port_status_t status;
    prtos_queuing_port_info_t info;
};

#endif /* __ASSEMBLY__ */

#endif /* _PRTOS_INC_OBJECTS_COMMPORTS_H_ */
