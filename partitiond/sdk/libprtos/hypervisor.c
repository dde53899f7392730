/*
 * hypervisor.c - console output and inter-partition memory copy.
 */
#include <prtos.h>

/* The console object of the caller's own partition; flags are ignored. */
__stdcall prtos_s32_t prtos_write_console(char *buffer, prtos_s32_t length) {
    return prtos_write_object(OBJDESC_BUILD(OBJ_CLASS_CONSOLE, PRTOS_PARTITION_SELF, 0), buffer, (prtos_u32_t)length,
                              0);
}

__stdcall prtos_s32_t prtos_memory_copy(prtos_id_t dst_id, prtos_u32_t dst_addr, prtos_id_t src_id,
                                        prtos_u32_t src_addr, prtos_u32_t size) {
    union mem_cmd cmd;
    cmd.cpy_area.dst_id = dst_id;
    cmd.cpy_area.dst_addr = dst_addr;
    cmd.cpy_area.src_id = src_id;
    cmd.cpy_area.src_addr = src_addr;
    cmd.cpy_area.size = (prtos_s_size_t)size;
    return prtos_ctrl_object(OBJDESC_BUILD(OBJ_CLASS_MEM, 0, 0), PRTOS_OBJ_MEM_CPY_AREA, &cmd);
}
