/*
 * hypercalls.c - the portable hypercall wrappers.
 *
 * Almost every wrapper is produced by the prtos_hcallNr generators, which
 * flush the lazy batch first (partition-api.md section 4, D-31). The four
 * calls that must never flush are written out by hand.
 */
#include <prtos.h>

/* Never flushes: it is what a flush itself uses. */
__stdcall prtos_s32_t prtos_multicall(void *start_addr, void *end_addr) {
    return __prtos_hcall_2(multicall_nr, (prtos_u32_t)start_addr, (prtos_u32_t)end_addr);
}

prtos_hcall1r(halt_partition, prtos_u32_t, partition_id)
prtos_hcall1r(suspend_partition, prtos_u32_t, partition_id)
prtos_hcall1r(resume_partition, prtos_u32_t, partition_id)
prtos_hcall3r(reset_partition, prtos_u32_t, partition_id, prtos_u32_t, reset_mode, prtos_u32_t, status)
prtos_hcall1r(shutdown_partition, prtos_u32_t, partition_id)
prtos_hcall0r(halt_system)
prtos_hcall1r(reset_system, prtos_u32_t, reset_mode)
prtos_hcall0r(idle_self)

prtos_hcall2r(get_time, prtos_u32_t, clock_id, prtos_time_t *, time)

/* Never flushes; the two 64-bit values travel as low word, high word. */
__stdcall prtos_s32_t prtos_set_timer(prtos_u32_t clock_id, prtos_time_t abs_time, prtos_time_t interval) {
    return __prtos_hcall_5(set_timer_nr, clock_id, (prtos_u32_t)((prtos_u64_t)abs_time & 0xFFFFFFFFU),
                           (prtos_u32_t)((prtos_u64_t)abs_time >> 32), (prtos_u32_t)((prtos_u64_t)interval & 0xFFFFFFFFU),
                           (prtos_u32_t)((prtos_u64_t)interval >> 32));
}

prtos_hcall4r(read_object, prtos_obj_desc_t, obj_desc, void *, buffer, prtos_u32_t, size, prtos_u32_t *, flags)
prtos_hcall4r(write_object, prtos_obj_desc_t, obj_desc, void *, buffer, prtos_u32_t, size, prtos_u32_t *, flags)
prtos_hcall3r(seek_object, prtos_obj_desc_t, obj_desc, prtos_u32_t, offset, prtos_u32_t, whence)
prtos_hcall3r(ctrl_object, prtos_obj_desc_t, obj_desc, prtos_u32_t, cmd, void *, arg)

prtos_hcall2r(clear_irqmask, prtos_u32_t, hw_irqs_mask, prtos_u32_t, ext_irqs_mask)
prtos_hcall2r(set_irqmask, prtos_u32_t, hw_irqs_mask, prtos_u32_t, ext_irqs_mask)
prtos_hcall2r(set_irqpend, prtos_u32_t, hw_irq_pend, prtos_u32_t, ext_irq_pend)
prtos_hcall2r(clear_irqpend, prtos_u32_t, hw_irq_pend, prtos_u32_t, ext_irq_pend)
prtos_hcall3r(route_irq, prtos_u32_t, type, prtos_u32_t, irq, prtos_u16_t, vector)

prtos_hcall2r(update_page32, prtos_address_t, p_addr, prtos_u32_t, val)
prtos_hcall2r(set_page_type, prtos_address_t, p_addr, prtos_u32_t, type)
prtos_hcall1r(invld_tlb, prtos_address_t, v_addr)

prtos_hcall1r(raise_ipvi, prtos_u8_t, ipvi_number)
prtos_hcall2r(raise_partition_ipvi, prtos_u32_t, partition_id, prtos_u8_t, ipvi_number)
prtos_hcall2r(override_trap_hndl, prtos_s32_t, entry, struct trap_handler *, handler)

prtos_hcall2r(switch_sched_plan, prtos_u32_t, new_plan_id, prtos_u32_t *, current_plan_id)
prtos_hcall2r(get_gid_by_name, prtos_u8_t *, name, prtos_u32_t, entity)
prtos_hcall4r(reset_vcpu, prtos_u32_t, vcpu_id, prtos_address_t, ptdl1, prtos_address_t, entry, prtos_u32_t, status)
prtos_hcall1r(halt_vcpu, prtos_u32_t, vcpu_id)
prtos_hcall1r(suspend_vcpu, prtos_u32_t, vcpu_id)
prtos_hcall1r(resume_vcpu, prtos_u32_t, vcpu_id)

/* Never flushes: the batch lookup itself needs the vCPU id. */
__stdcall prtos_id_t prtos_get_vcpuid(void) {
    return (prtos_id_t)__prtos_hcall_0(get_vcpuid_nr);
}

prtos_lazy_hcall2(update_page32, prtos_address_t, p_addr, prtos_u32_t, val)
prtos_lazy_hcall2(set_page_type, prtos_address_t, p_addr, prtos_u32_t, type)
prtos_lazy_hcall1(invld_tlb, prtos_address_t, v_addr)

/*
 * Cache control has no hypercall on x86 (D-26): the calls only validate
 * the mask, so that portable code links and gets a meaningful result.
 */
__stdcall prtos_s32_t prtos_flush_cache(prtos_u32_t cache) {
    if (cache & ~(prtos_u32_t)(PRTOS_DCACHE | PRTOS_ICACHE)) return PRTOS_INVALID_PARAM;
    return PRTOS_OK;
}

__stdcall prtos_s32_t prtos_set_cache_state(prtos_u32_t cache) {
    if (cache & ~(prtos_u32_t)(PRTOS_DCACHE | PRTOS_ICACHE)) return PRTOS_INVALID_PARAM;
    return PRTOS_OK;
}
