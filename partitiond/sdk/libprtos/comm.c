/*
 * comm.c - sampling and queuing ports.
 *
 * Descriptors always name the caller's own partition; create and info use
 * port id 0 because the port is identified by name there. The status and
 * info calls return PRTOS_OK on success rather than the raw kernel value
 * (D-44, D-45).
 */
#include <prtos.h>

__stdcall prtos_s32_t prtos_create_sampling_port(char *port_name, prtos_u32_t max_msg_size, prtos_u32_t direction,
                                                 prtos_time_t valid_period) {
    union sampling_port_cmd cmd;
    cmd.create.port_name = port_name;
    cmd.create.max_msg_size = max_msg_size;
    cmd.create.direction = direction;
    cmd.create.valid_period = valid_period;
    return prtos_ctrl_object(OBJDESC_BUILD(OBJ_CLASS_SAMPLING_PORT, PRTOS_PARTITION_SELF, 0), PRTOS_COMM_CREATE_PORT,
                             &cmd);
}

__stdcall prtos_s32_t prtos_write_sampling_message(prtos_s32_t port_desc, void *msg_ptr, prtos_u32_t msg_size) {
    return prtos_write_object(OBJDESC_BUILD(OBJ_CLASS_SAMPLING_PORT, PRTOS_PARTITION_SELF, port_desc), msg_ptr,
                              msg_size, 0);
}

__stdcall prtos_s32_t prtos_read_sampling_message(prtos_s32_t port_desc, void *msg_ptr, prtos_u32_t msg_size,
                                                  prtos_u32_t *flags) {
    return prtos_read_object(OBJDESC_BUILD(OBJ_CLASS_SAMPLING_PORT, PRTOS_PARTITION_SELF, port_desc), msg_ptr,
                             msg_size, flags);
}

__stdcall prtos_s32_t prtos_get_sampling_port_status(prtos_u32_t port_desc, prtos_sampling_port_status_t *status) {
    prtos_s32_t ret;
    if (!status) return PRTOS_INVALID_PARAM;
    ret = prtos_ctrl_object(OBJDESC_BUILD(OBJ_CLASS_SAMPLING_PORT, PRTOS_PARTITION_SELF, port_desc),
                            PRTOS_COMM_GET_PORT_STATUS, status);
    return (ret < 0) ? ret : PRTOS_OK;
}

__stdcall prtos_s32_t prtos_get_sampling_port_info(char *port_name, prtos_sampling_port_info_t *info) {
    prtos_s32_t ret;
    if (!info) return PRTOS_INVALID_PARAM;
    info->port_name = port_name;
    ret = prtos_ctrl_object(OBJDESC_BUILD(OBJ_CLASS_SAMPLING_PORT, PRTOS_PARTITION_SELF, 0), PRTOS_COMM_GET_PORT_INFO,
                            info);
    return (ret < 0) ? ret : PRTOS_OK;
}

__stdcall prtos_s32_t prtos_create_queuing_port(char *port_name, prtos_u32_t max_num_of_msgs, prtos_u32_t max_msg_size,
                                                prtos_u32_t direction) {
    union queuing_port_cmd cmd;
    cmd.create.port_name = port_name;
    cmd.create.max_num_of_msgs = max_num_of_msgs;
    cmd.create.max_msg_size = max_msg_size;
    cmd.create.direction = direction;
    return prtos_ctrl_object(OBJDESC_BUILD(OBJ_CLASS_QUEUING_PORT, PRTOS_PARTITION_SELF, 0), PRTOS_COMM_CREATE_PORT,
                             &cmd);
}

__stdcall prtos_s32_t prtos_send_queuing_message(prtos_s32_t port_desc, void *msg_ptr, prtos_u32_t msg_size) {
    return prtos_write_object(OBJDESC_BUILD(OBJ_CLASS_QUEUING_PORT, PRTOS_PARTITION_SELF, port_desc), msg_ptr, msg_size,
                              0);
}

__stdcall prtos_s32_t prtos_receive_queuing_message(prtos_s32_t port_desc, void *msg_ptr, prtos_u32_t msg_size) {
    return prtos_read_object(OBJDESC_BUILD(OBJ_CLASS_QUEUING_PORT, PRTOS_PARTITION_SELF, port_desc), msg_ptr, msg_size,
                             0);
}

__stdcall prtos_s32_t prtos_get_queuing_port_status(prtos_u32_t port_desc, prtos_queuing_port_status_t *status) {
    prtos_s32_t ret;
    if (!status) return PRTOS_INVALID_PARAM;
    ret = prtos_ctrl_object(OBJDESC_BUILD(OBJ_CLASS_QUEUING_PORT, PRTOS_PARTITION_SELF, port_desc),
                            PRTOS_COMM_GET_PORT_STATUS, status);
    return (ret < 0) ? ret : PRTOS_OK;
}

__stdcall prtos_s32_t prtos_get_queuing_port_info(char *port_name, prtos_queuing_port_info_t *info) {
    prtos_s32_t ret;
    if (!info) return PRTOS_INVALID_PARAM;
    info->port_name = port_name;
    ret = prtos_ctrl_object(OBJDESC_BUILD(OBJ_CLASS_QUEUING_PORT, PRTOS_PARTITION_SELF, 0), PRTOS_COMM_GET_PORT_INFO,
                            info);
    return (ret < 0) ? ret : PRTOS_OK;
}
