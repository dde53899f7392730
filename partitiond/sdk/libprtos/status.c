/*
 * status.c - status queries on the status object (class 7). The kernel does
 * the permission and range checks; the library adds the vCPU range check of
 * D-23 for its own partition.
 */
#include <prtos.h>

__stdcall prtos_s32_t prtos_get_system_status(prtos_sys_status_t *status) {
    return prtos_ctrl_object(OBJDESC_BUILD(OBJ_CLASS_STATUS, PRTOS_HYPERVISOR_ID, 0), PRTOS_GET_SYSTEM_STATUS, status);
}

__stdcall prtos_s32_t prtos_get_partition_status(prtos_id_t id, prtos_part_status_t *status) {
    return prtos_ctrl_object(OBJDESC_BUILD(OBJ_CLASS_STATUS, id, 0), PRTOS_GET_SYSTEM_STATUS, status);
}

__stdcall prtos_s32_t prtos_get_vcpu_status(prtos_id_t vcpu_id, prtos_virtual_cpu_status_t *status) {
    if (vcpu_id >= prtos_get_number_vcpus()) return PRTOS_INVALID_PARAM;
    return prtos_ctrl_object(OBJDESC_BUILD_VCPUID(OBJ_CLASS_STATUS, vcpu_id, PRTOS_PARTITION_SELF, 0),
                             PRTOS_GET_VCPU_STATUS, status);
}

__stdcall prtos_s32_t prtos_get_partition_vcpu_status(prtos_id_t partition_id, prtos_id_t vcpu_id,
                                                      prtos_virtual_cpu_status_t *status) {
    return prtos_ctrl_object(OBJDESC_BUILD_VCPUID(OBJ_CLASS_STATUS, vcpu_id, partition_id, 0), PRTOS_GET_VCPU_STATUS,
                             status);
}

__stdcall prtos_s32_t prtos_set_partition_opmode(prtos_s32_t op_mode) {
    return prtos_ctrl_object(OBJDESC_BUILD(OBJ_CLASS_STATUS, PRTOS_PARTITION_SELF, 0), PRTOS_SET_PARTITION_OPMODE,
                             &op_mode);
}

__stdcall prtos_s32_t prtos_get_plan_status(prtos_plan_status_t *status) {
    return prtos_ctrl_object(OBJDESC_BUILD(OBJ_CLASS_STATUS, PRTOS_PARTITION_SELF, 0), PRTOS_GET_SCHED_PLAN_STATUS,
                             status);
}

/*
 * The address travels inside the record. A NULL record gets the answer the
 * kernel would give for an unusable buffer instead of a guest page fault.
 */
__stdcall prtos_s32_t prtos_get_physpage_status(prtos_address_t p_addr, prtos_phys_page_status_t *status) {
    if (!status) return PRTOS_INVALID_PARAM;
    status->p_addr = p_addr;
    return prtos_ctrl_object(OBJDESC_BUILD(OBJ_CLASS_STATUS, PRTOS_PARTITION_SELF, 0), PRTOS_GET_PHYSPAGE_STATUS,
                             status);
}
