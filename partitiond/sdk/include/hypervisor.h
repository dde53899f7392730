/*
 * hypervisor.h - libprtos services built on the hypercalls: start-up
 * (init_libprtos), PCT accessors, the lazy batch, console and memory copy.
 *
 * The partition's own id always comes from the read-only PCT, never from
 * anything the guest can write, so PRTOS_PARTITION_SELF reads vCPU 0's PCT.
 */
#ifndef _PRTOS_HYPERVISOR_H_
#define _PRTOS_HYPERVISOR_H_

#include <prtoshypercalls.h>

#ifndef __ASSEMBLY__

/* Per-vCPU pointers into the PCT array, indexed by vCPU id (48 bytes). */
struct lib_prtos_params {
    partition_control_table_t *part_ctrl_table[CONFIG_MAX_NO_VCPUS];
    struct prtos_physical_mem_map *part_mem_map[CONFIG_MAX_NO_VCPUS];
    prtos_word_t *comm_port_bitmap[CONFIG_MAX_NO_VCPUS];
};

extern struct lib_prtos_params lib_prtos_params;

extern __stdcall void init_libprtos(partition_control_table_t *part_ctrl_table);

/* Lazy batch (section 7.2): one 1024-word batch per vCPU. */
#define PRTOS_BATCH_WORDS 1024
extern __stdcall void prtos_lazy_hypercall(prtos_u32_t hypercall_nr, prtos_s32_t num_of_args, ...);
extern __stdcall prtos_s32_t prtos_flush_hyp_batch(void);
extern __stdcall void init_batch(void);

/* Console and inter-partition copy. */
extern __stdcall prtos_s32_t prtos_write_console(char *buffer, prtos_s32_t length);
extern __stdcall prtos_s32_t prtos_memory_copy(prtos_id_t dst_id, prtos_u32_t dst_addr, prtos_id_t src_id,
                                               prtos_u32_t src_addr, prtos_u32_t size);

/* PCT accessors. prtos_get_pct() costs one hypercall (the vCPU id). */
static __inline__ partition_control_table_t *prtos_get_pct(void) {
    return lib_prtos_params.part_ctrl_table[prtos_get_vcpuid()];
}

static __inline__ partition_control_table_t *prtos_get_pct0(void) {
    return lib_prtos_params.part_ctrl_table[0];
}

static __inline__ struct prtos_physical_mem_map *prtos_get_partition_mmap(void) {
    return lib_prtos_params.part_mem_map[prtos_get_vcpuid()];
}

static __inline__ prtos_word_t *prtos_get_commport_bitmap(void) {
    return lib_prtos_params.comm_port_bitmap[prtos_get_vcpuid()];
}

static __inline__ prtos_u32_t prtos_get_number_vcpus(void) {
    return prtos_get_pct0()->num_of_vcpus;
}

#define PRTOS_PARTITION_SELF (PCT_GET_PARTITION_ID(prtos_get_pct0()))
#define PRTOS_VCPU_SELF (PCT_GET_VCPU_ID(prtos_get_pct()))

/*
 * Lazy wrapper generators: each defines "prtos_lazy_<name>", which appends
 * a record for hypercall <name>_nr to the calling vCPU's batch.
 */
#define prtos_lazy_hcall0(_hc) \
    __stdcall void prtos_lazy_##_hc(void) { prtos_lazy_hypercall(_hc##_nr, 0); }

#define prtos_lazy_hcall1(_hc, _t0, _a0) \
    __stdcall void prtos_lazy_##_hc(_t0 _a0) { prtos_lazy_hypercall(_hc##_nr, 1, (prtos_u32_t)(_a0)); }

#define prtos_lazy_hcall2(_hc, _t0, _a0, _t1, _a1)                                          \
    __stdcall void prtos_lazy_##_hc(_t0 _a0, _t1 _a1) {                                     \
        prtos_lazy_hypercall(_hc##_nr, 2, (prtos_u32_t)(_a0), (prtos_u32_t)(_a1));          \
    }

#define prtos_lazy_hcall3(_hc, _t0, _a0, _t1, _a1, _t2, _a2)                                             \
    __stdcall void prtos_lazy_##_hc(_t0 _a0, _t1 _a1, _t2 _a2) {                                         \
        prtos_lazy_hypercall(_hc##_nr, 3, (prtos_u32_t)(_a0), (prtos_u32_t)(_a1), (prtos_u32_t)(_a2));   \
    }

#define prtos_lazy_hcall4(_hc, _t0, _a0, _t1, _a1, _t2, _a2, _t3, _a3)                                   \
    __stdcall void prtos_lazy_##_hc(_t0 _a0, _t1 _a1, _t2 _a2, _t3 _a3) {                                \
        prtos_lazy_hypercall(_hc##_nr, 4, (prtos_u32_t)(_a0), (prtos_u32_t)(_a1), (prtos_u32_t)(_a2),    \
                             (prtos_u32_t)(_a3));                                                        \
    }

#define prtos_lazy_hcall5(_hc, _t0, _a0, _t1, _a1, _t2, _a2, _t3, _a3, _t4, _a4)                         \
    __stdcall void prtos_lazy_##_hc(_t0 _a0, _t1 _a1, _t2 _a2, _t3 _a3, _t4 _a4) {                       \
        prtos_lazy_hypercall(_hc##_nr, 5, (prtos_u32_t)(_a0), (prtos_u32_t)(_a1), (prtos_u32_t)(_a2),    \
                             (prtos_u32_t)(_a3), (prtos_u32_t)(_a4));                                    \
    }

#endif /* __ASSEMBLY__ */

#include <arch/hypervisor.h>

#endif /* _PRTOS_HYPERVISOR_H_ */
