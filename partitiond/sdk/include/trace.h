/*
 * trace.h - trace stream functions of libprtos.
 */
#ifndef _PRTOS_TRACE_H_
#define _PRTOS_TRACE_H_

#include <hypervisor.h>

#define PRTOS_TRACE_SEEK_CUR PRTOS_OBJ_SEEK_CUR
#define PRTOS_TRACE_SEEK_SET PRTOS_OBJ_SEEK_SET
#define PRTOS_TRACE_SEEK_END PRTOS_OBJ_SEEK_END

#ifndef __ASSEMBLY__

extern __stdcall prtos_s32_t prtos_trace_event(prtos_u32_t bitmask, prtos_trace_event_t *event);
extern __stdcall prtos_s32_t prtos_trace_open(prtos_id_t id);
extern __stdcall prtos_s32_t prtos_trace_read(prtos_s32_t trace_stream, prtos_trace_event_t *trace_event_ptr);
extern __stdcall prtos_s32_t prtos_trace_seek(prtos_s32_t trace_stream, prtos_s32_t offset, prtos_u32_t whence);
extern __stdcall prtos_s32_t prtos_trace_status(prtos_s32_t trace_stream, prtos_trace_status_t *trace_status_ptr);

#endif /* __ASSEMBLY__ */

#endif /* _PRTOS_TRACE_H_ */
