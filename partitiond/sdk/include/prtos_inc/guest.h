/*
 * prtos_inc/guest.h - the Partition Control Table (PCT) and the virtual
 * interrupt numbers a partition sees.
 *
 * The PCT is the only state the kernel shares with the guest without a
 * hypercall; fields the kernel changes while the partition runs are
 * declared volatile so that polling loops re-read them.
 */
#ifndef _PRTOS_INC_GUEST_H_
#define _PRTOS_INC_GUEST_H_

#include <prtos_inc/config.h>
#include <prtos_inc/linkage.h>
#include <prtos_inc/arch/arch_types.h>
#include <prtos_inc/arch/guest.h>

/* Identifiers. */
#define PRTOS_HYPERVISOR_ID 0xFF
#define UNCHECKED_ID 0xFF
#define KTHREAD_MAGIC 0xA5A55A5A

/* Kernel-thread flags mirrored into the PCT flags word. */
#define KTHREAD_FP_F (1 << 1)
#define KTHREAD_HALTED_F (1 << 2)
#define KTHREAD_SUSPENDED_F (1 << 3)
#define KTHREAD_READY_F (1 << 4)
#define KTHREAD_FLUSH_DCACHE_F (1 << 5)
#define KTHREAD_FLUSH_ICACHE_F (1 << 6)
#define KTHREAD_DCACHE_ENABLED_F (1 << 7)
#define KTHREAD_ICACHE_ENABLED_F (1 << 8)
#define KTHREAD_NO_PARTITIONS_FIELD (0xFF << 16)
#define KTHREAD_TRAP_PENDING_F (1U << 31)

/* Hardware interrupt lines (names are upstream leftovers, plain line numbers on x86). */
#define PRTOS_VT_HW_FIRST 0
#define PRTOS_VT_HW_LAST 31
#define PRTOS_VT_HW_MAX 32
#define PRTOS_VT_HW_INTERNAL_BUS_TRAP_NR (1 + PRTOS_VT_HW_FIRST)
#define PRTOS_VT_HW_UART2_TRAP_NR (2 + PRTOS_VT_HW_FIRST)
#define PRTOS_VT_HW_UART1_TRAP_NR (3 + PRTOS_VT_HW_FIRST)
#define PRTOS_VT_HW_IO_IRQ0_TRAP_NR (4 + PRTOS_VT_HW_FIRST)
#define PRTOS_VT_HW_IO_IRQ1_TRAP_NR (5 + PRTOS_VT_HW_FIRST)
#define PRTOS_VT_HW_IO_IRQ2_TRAP_NR (6 + PRTOS_VT_HW_FIRST)
#define PRTOS_VT_HW_IO_IRQ3_TRAP_NR (7 + PRTOS_VT_HW_FIRST)
#define PRTOS_VT_HW_TIMER1_TRAP_NR (8 + PRTOS_VT_HW_FIRST)
#define PRTOS_VT_HW_TIMER2_TRAP_NR (9 + PRTOS_VT_HW_FIRST)
#define PRTOS_VT_HW_DSU_TRAP_NR (11 + PRTOS_VT_HW_FIRST)
#define PRTOS_VT_HW_PCI_TRAP_NR (14 + PRTOS_VT_HW_FIRST)

/* Extended (virtual) interrupts. */
#define PRTOS_VT_EXT_FIRST 0
#define PRTOS_VT_EXT_LAST 31
#define PRTOS_VT_EXT_MAX 32
#define PRTOS_VT_EXT_HW_TIMER (0 + PRTOS_VT_EXT_FIRST)
#define PRTOS_VT_EXT_EXEC_TIMER (1 + PRTOS_VT_EXT_FIRST)
#define PRTOS_VT_EXT_WATCHDOG_TIMER (2 + PRTOS_VT_EXT_FIRST)
#define PRTOS_VT_EXT_SHUTDOWN (3 + PRTOS_VT_EXT_FIRST)
#define PRTOS_VT_EXT_SAMPLING_PORT (4 + PRTOS_VT_EXT_FIRST)
#define PRTOS_VT_EXT_QUEUING_PORT (5 + PRTOS_VT_EXT_FIRST)
#define PRTOS_VT_EXT_CYCLIC_SLOT_START (8 + PRTOS_VT_EXT_FIRST)
#define PRTOS_VT_EXT_MEM_PROTECT (16 + PRTOS_VT_EXT_FIRST)
#define PRTOS_VT_EXT_IPVI0 (24 + PRTOS_VT_EXT_FIRST)
#define PRTOS_VT_EXT_IPVI1 (25 + PRTOS_VT_EXT_FIRST)
#define PRTOS_VT_EXT_IPVI2 (26 + PRTOS_VT_EXT_FIRST)
#define PRTOS_VT_EXT_IPVI3 (27 + PRTOS_VT_EXT_FIRST)
#define PRTOS_VT_EXT_IPVI4 (28 + PRTOS_VT_EXT_FIRST)
#define PRTOS_VT_EXT_IPVI5 (29 + PRTOS_VT_EXT_FIRST)
#define PRTOS_VT_EXT_IPVI6 (30 + PRTOS_VT_EXT_FIRST)
#define PRTOS_VT_EXT_IPVI7 (31 + PRTOS_VT_EXT_FIRST)

#define PRTOS_MAX_IPVI CONFIG_PRTOS_MAX_IPVI

/* Ext bits delivered like traps (ignore masks and the virtual IF). */
#define PRTOS_EXT_TRAPS (1 << 16)

/* PCT helpers: id = vcpu << 8 | partition. */
#define PCT_GET_PARTITION_ID(pct) ((pct)->id & 0xFF)
#define PCT_GET_VCPU_ID(pct) ((pct)->id >> 8)

#ifndef __ASSEMBLY__

/* Scheduling information of the slot the vCPU was last dispatched in. */
struct cyclic_sched_info {
    volatile prtos_u32_t num_of_slots; /* index of the current slot in the plan */
    volatile prtos_u32_t id;
    volatile prtos_u32_t slot_duration;
};

/* One configured memory area of the partition (PCT array, after each PCT). */
struct prtos_physical_mem_map {
    prtos_s8_t name[CONFIG_ID_STRING_LENGTH];
    prtos_address_t start_addr;
    prtos_address_t mapped_at;
    prtos_u_size_t size;
    prtos_u32_t flags;
};

/* The per-vCPU Partition Control Table (336 bytes). */
typedef struct {
    prtos_u32_t magic;
    prtos_u32_t prtos_version;
    prtos_u32_t prtos_abi_version;
    prtos_u32_t prtos_api_version;
    prtos_u_size_t part_ctrl_table_size;
    prtos_u32_t reset_counter;
    prtos_u32_t reset_status;
    prtos_u32_t cpu_khz;
    prtos_id_t id;
    prtos_u32_t num_of_vcpus;
    volatile prtos_u32_t flags;
    prtos_u32_t image_start;
    prtos_u32_t hw_irqs;
    prtos_s32_t num_of_physical_mem_areas;
    prtos_s32_t num_of_comm_ports;
    prtos_u8_t name[CONFIG_ID_STRING_LENGTH];
    volatile prtos_u32_t iflags;
    volatile prtos_u32_t hw_irqs_pend;
    volatile prtos_u32_t hw_irqs_mask;
    volatile prtos_u32_t ext_irqs_pend;
    volatile prtos_u32_t ext_irqs_to_mask;
    struct pct_arch arch;
    struct cyclic_sched_info cyclic_sched_info;
    prtos_u16_t trap_to_vector[NO_TRAPS];
    prtos_u16_t hw_irq_to_vector[CONFIG_NO_HWIRQS];
    prtos_u16_t ext_irq_to_vector[PRTOS_VT_EXT_MAX];
} partition_control_table_t;

/*
 * Bitmap helpers over arrays of 32-bit words (bit b lives in word b / 32).
 * They take max_bits so that an out-of-range bit is ignored rather than
 * written past the array.
 */
static __inline__ void prtos_set_bit(prtos_word_t bm[], prtos_u32_t bp, prtos_s32_t max_bits) {
    if (max_bits < 0 || bp >= (prtos_u32_t)max_bits) return;
    bm[bp >> PRTOS_LOG2_WORD_SZ] |= (prtos_word_t)1 << (bp & ((1 << PRTOS_LOG2_WORD_SZ) - 1));
}

static __inline__ void prtos_clear_bit(prtos_word_t bm[], prtos_u32_t bp, prtos_s32_t max_bits) {
    if (max_bits < 0 || bp >= (prtos_u32_t)max_bits) return;
    bm[bp >> PRTOS_LOG2_WORD_SZ] &= ~((prtos_word_t)1 << (bp & ((1 << PRTOS_LOG2_WORD_SZ) - 1)));
}

static __inline__ void prtos_clear_bitmap(prtos_word_t bm[], prtos_s32_t max_bits) {
    prtos_s32_t e;
    for (e = 0; e < ((max_bits + 31) >> PRTOS_LOG2_WORD_SZ); e++) bm[e] = 0;
}

static __inline__ void prtos_set_bitmap(prtos_word_t bm[], prtos_s32_t max_bits) {
    prtos_s32_t e;
    for (e = 0; e < ((max_bits + 31) >> PRTOS_LOG2_WORD_SZ); e++) bm[e] = ~(prtos_word_t)0;
}

static __inline__ prtos_s32_t prtos_is_bit_set(prtos_word_t bm[], prtos_s32_t bp, prtos_s32_t max_bits) {
    if (bp < 0 || bp >= max_bits) return -1;
    return (bm[bp >> PRTOS_LOG2_WORD_SZ] & ((prtos_word_t)1 << (bp & ((1 << PRTOS_LOG2_WORD_SZ) - 1)))) ? 1 : 0;
}

#endif /* __ASSEMBLY__ */

#endif /* _PRTOS_INC_GUEST_H_ */
