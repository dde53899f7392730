/*
 * comm.h - sampling and queuing port functions of libprtos.
 *
 * Each builds a descriptor for the caller's own partition; the kernel
 * checks everything else (semantics.md section 6).
 */
#ifndef _PRTOS_COMM_H_
#define _PRTOS_COMM_H_

#include <hypervisor.h>

#ifndef __ASSEMBLY__

extern __stdcall prtos_s32_t prtos_create_sampling_port(char *port_name, prtos_u32_t max_msg_size,
                                                        prtos_u32_t direction, prtos_time_t valid_period);
extern __stdcall prtos_s32_t prtos_write_sampling_message(prtos_s32_t port_desc, void *msg_ptr, prtos_u32_t msg_size);
extern __stdcall prtos_s32_t prtos_read_sampling_message(prtos_s32_t port_desc, void *msg_ptr, prtos_u32_t msg_size,
                                                         prtos_u32_t *flags);
extern __stdcall prtos_s32_t prtos_get_sampling_port_status(prtos_u32_t port_desc,
                                                            prtos_sampling_port_status_t *status);
extern __stdcall prtos_s32_t prtos_get_sampling_port_info(char *port_name, prtos_sampling_port_info_t *info);

extern __stdcall prtos_s32_t prtos_create_queuing_port(char *port_name, prtos_u32_t max_num_of_msgs,
                                                       prtos_u32_t max_msg_size, prtos_u32_t direction);
extern __stdcall prtos_s32_t prtos_send_queuing_message(prtos_s32_t port_desc, void *msg_ptr, prtos_u32_t msg_size);
extern __stdcall prtos_s32_t prtos_receive_queuing_message(prtos_s32_t port_desc, void *msg_ptr,
                                                           prtos_u32_t msg_size);
extern __stdcall prtos_s32_t prtos_get_queuing_port_status(prtos_u32_t port_desc, prtos_queuing_port_status_t *status);
extern __stdcall prtos_s32_t prtos_get_queuing_port_info(char *port_name, prtos_queuing_port_info_t *info);

#endif /* __ASSEMBLY__ */

#endif /* _PRTOS_COMM_H_ */
