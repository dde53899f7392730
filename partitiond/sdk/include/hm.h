/*
 * hm.h - health-monitor log functions of libprtos (system partitions only).
 */
#ifndef _PRTOS_HM_H_
#define _PRTOS_HM_H_

#include <hypervisor.h>

#ifndef __ASSEMBLY__

extern __stdcall prtos_s32_t prtos_hm_read(prtos_hm_log_t *hm_log_ptr);
extern __stdcall prtos_s32_t prtos_hm_seek(prtos_s32_t offset, prtos_u32_t whence);
extern __stdcall prtos_s32_t prtos_hm_status(prtos_hm_status_t *hm_status_ptr);

#endif /* __ASSEMBLY__ */

#endif /* _PRTOS_HM_H_ */
