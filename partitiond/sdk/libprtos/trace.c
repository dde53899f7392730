/*
 * trace.c - trace streams. A stream handle is simply the trace object's
 * descriptor, so opening creates no kernel state (D-43 for the checks).
 */
#include "internal.h"

__stdcall prtos_s32_t prtos_trace_open(prtos_id_t id) {
    if (id == PRTOS_PARTITION_SELF) return (prtos_s32_t)OBJDESC_BUILD(OBJ_CLASS_TRACE, id, 0);
    if (!__prtos_is_system_partition()) return PRTOS_PERM_ERROR;
    if (id != PRTOS_HYPERVISOR_ID && id >= __prtos_num_of_partitions()) return PRTOS_INVALID_PARAM;
    return (prtos_s32_t)OBJDESC_BUILD(OBJ_CLASS_TRACE, id, 0);
}

/*
 * The bitmask travels by pointer; the kernel stores the record only if it
 * matches the partition's configured trace bitmask, and a filtered record
 * is reported as PRTOS_INVALID_CONFIG.
 */
__stdcall prtos_s32_t prtos_trace_event(prtos_u32_t bitmask, prtos_trace_event_t *event) {
    prtos_s32_t ret;
    if (!event) return PRTOS_INVALID_PARAM;
    ret = prtos_write_object(OBJDESC_BUILD(OBJ_CLASS_TRACE, PRTOS_PARTITION_SELF, 0), event,
                             sizeof(prtos_trace_event_t), &bitmask);
    if (ret < 0) return ret;
    if (ret < (prtos_s32_t)sizeof(prtos_trace_event_t)) return PRTOS_INVALID_CONFIG;
    return PRTOS_OK;
}

__stdcall prtos_s32_t prtos_trace_read(prtos_s32_t trace_stream, prtos_trace_event_t *trace_event_ptr) {
    prtos_s32_t ret;
    if (OBJDESC_GET_CLASS(trace_stream) != OBJ_CLASS_TRACE) return PRTOS_INVALID_PARAM;
    if (!trace_event_ptr) return PRTOS_INVALID_PARAM;
    ret = prtos_read_object((prtos_obj_desc_t)trace_stream, trace_event_ptr, sizeof(prtos_trace_event_t), 0);
    if (ret < 0) return ret;
    return (ret >= (prtos_s32_t)sizeof(prtos_trace_event_t)) ? 1 : 0;
}

__stdcall prtos_s32_t prtos_trace_seek(prtos_s32_t trace_stream, prtos_s32_t offset, prtos_u32_t whence) {
    if (OBJDESC_GET_CLASS(trace_stream) != OBJ_CLASS_TRACE) return PRTOS_INVALID_PARAM;
    return prtos_seek_object((prtos_obj_desc_t)trace_stream, (prtos_u32_t)offset, whence);
}

__stdcall prtos_s32_t prtos_trace_status(prtos_s32_t trace_stream, prtos_trace_status_t *trace_status_ptr) {
    if (OBJDESC_GET_CLASS(trace_stream) != OBJ_CLASS_TRACE) return PRTOS_INVALID_PARAM;
    if (!trace_status_ptr) return PRTOS_INVALID_PARAM;
    return prtos_ctrl_object((prtos_obj_desc_t)trace_stream, PRTOS_TRACE_GET_STATUS, trace_status_ptr);
}
