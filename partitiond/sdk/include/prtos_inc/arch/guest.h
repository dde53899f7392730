/*
 * prtos_inc/arch/guest.h - the x86 part of the Partition Control Table.
 *
 * The kernel records the guest's descriptor tables and control registers
 * here (prtos_x86_* hypercalls) so that the guest can read them back.
 */
#ifndef _PRTOS_INC_ARCH_GUEST_H_
#define _PRTOS_INC_ARCH_GUEST_H_

#include <prtos_inc/config.h>
#include <prtos_inc/linkage.h>
#include <prtos_inc/arch/arch_types.h>
#include <prtos_inc/arch/paging.h>
#include <prtos_inc/arch/processor.h>
#include <prtos_inc/arch/segments.h>
#include <prtos_inc/arch/irqs.h>

#ifndef __ASSEMBLY__

/* Operand of lgdt/lidt: 16-bit limit followed by the 32-bit linear base. */
struct x86_desc_reg {
    prtos_u16_t limit;
    prtos_u32_t linear_base;
} __PACKED;

struct pct_arch {
    struct x86_desc_reg gdtr;
    struct x86_desc_reg idtr;
    prtos_u32_t max_idt_vec;
    volatile prtos_u32_t tr;
    prtos_u32_t cr4;
    prtos_u32_t cr3;
    prtos_u32_t cr2;
    prtos_u32_t cr0;
};

/* Trap handler descriptor of prtos_override_trap_hndl (no effect on x86). */
struct trap_handler {
    prtos_u16_t cs;
    prtos_u32_t ip;
};

/* The PCT field that holds the level-1 page directory address. */
#define _ARCH_PTDL1_REG cr3

#endif /* __ASSEMBLY__ */

#endif /* _PRTOS_INC_ARCH_GUEST_H_ */
