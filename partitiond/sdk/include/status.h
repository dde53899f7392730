/*
 * status.h - status queries of libprtos.
 */
#ifndef _PRTOS_STATUS_H_
#define _PRTOS_STATUS_H_

#include <hypervisor.h>

#ifndef __ASSEMBLY__

extern __stdcall prtos_s32_t prtos_get_system_status(prtos_sys_status_t *status);
extern __stdcall prtos_s32_t prtos_get_partition_status(prtos_id_t id, prtos_part_status_t *status);
extern __stdcall prtos_s32_t prtos_get_vcpu_status(prtos_id_t vcpu_id, prtos_virtual_cpu_status_t *status);
extern __stdcall prtos_s32_t prtos_get_partition_vcpu_status(prtos_id_t partition_id, prtos_id_t vcpu_id,
                                                             prtos_virtual_cpu_status_t *status);
extern __stdcall prtos_s32_t prtos_set_partition_opmode(prtos_s32_t op_mode);
extern __stdcall prtos_s32_t prtos_get_plan_status(prtos_plan_status_t *status);
extern __stdcall prtos_s32_t prtos_get_physpage_status(prtos_address_t p_addr, prtos_phys_page_status_t *status);

#endif /* __ASSEMBLY__ */

#endif /* _PRTOS_STATUS_H_ */
