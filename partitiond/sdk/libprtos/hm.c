/*
 * hm.c - health-monitor log access. Only system partitions may use it; the
 * library says so at once instead of trapping (D-43).
 */
#include "internal.h"

#define HM_LOG_DESC OBJDESC_BUILD(OBJ_CLASS_HM, PRTOS_HYPERVISOR_ID, 0)

/* Returns 1 when a record was read, 0 when the log had nothing unread. */
__stdcall prtos_s32_t prtos_hm_read(prtos_hm_log_t *hm_log_ptr) {
    prtos_s32_t ret;
    if (!__prtos_is_system_partition()) return PRTOS_PERM_ERROR;
    if (!hm_log_ptr) return PRTOS_INVALID_PARAM;
    ret = prtos_read_object(HM_LOG_DESC, hm_log_ptr, sizeof(prtos_hm_log_t), 0);
    if (ret < 0) return ret;
    return (ret >= (prtos_s32_t)sizeof(prtos_hm_log_t)) ? 1 : 0;
}

__stdcall prtos_s32_t prtos_hm_seek(prtos_s32_t offset, prtos_u32_t whence) {
    if (!__prtos_is_system_partition()) return PRTOS_PERM_ERROR;
    return prtos_seek_object(HM_LOG_DESC, (prtos_u32_t)offset, whence);
}

__stdcall prtos_s32_t prtos_hm_status(prtos_hm_status_t *hm_status_ptr) {
    if (!__prtos_is_system_partition()) return PRTOS_PERM_ERROR;
    if (!hm_status_ptr) return PRTOS_INVALID_PARAM;
    return prtos_ctrl_object(HM_LOG_DESC, PRTOS_HM_GET_STATUS, hm_status_ptr);
}
