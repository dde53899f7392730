/*
 * prtos_inc/arch/segments.h - x86 segment selectors and descriptor formats.
 *
 * The selector values are those of the upstream GDT layout; with this
 * SDK's ABI only GUEST_CS_SEL and GUEST_DS_SEL are ever loaded into guest
 * segment registers (docs/abi.md).
 */
#ifndef _PRTOS_INC_ARCH_SEGMENTS_H_
#define _PRTOS_INC_ARCH_SEGMENTS_H_

#include <prtos_inc/linkage.h>
#include <prtos_inc/arch/arch_types.h>

#define EARLY_CS_SEL 0x08
#define EARLY_DS_SEL 0x10
#define PRTOS_HYPERCALL_CALLGATE_SEL 0x108
#define PRTOS_USER_HYPERCALL_CALLGATE_SEL 0x110
#define PRTOS_IRET_CALLGATE_SEL 0x118
#define CS_SEL 0x128
#define DS_SEL 0x130
#define GUEST_CS_SEL 0x139
#define GUEST_DS_SEL 0x141
#define PERCPU_SEL 0x148
#define TSS_SEL 0x150
#define PCT_SEL 0x159

#define PRTOS_GDT_ENTRIES 12
#define EARLY_PRTOS_GDT_ENTRIES 3

/* Views of the second ("low") word of a segment descriptor. */
#define X86DESC_LOW_P (1 << 15)
#define X86DESC_LOW_DPL_POS 13
#define X86DESC_LOW_DPL_MASK (3 << X86DESC_LOW_DPL_POS)
#define X86DESC_LOW_S (1 << 12)
#define X86DESC_LOW_TYPE_POS 8
#define X86DESC_LOW_TYPE_MASK (0xF << X86DESC_LOW_TYPE_POS)

/* Present bit in the second word of a gate descriptor. */
#define X86GATE_LOW0_P (1 << 15)

#ifndef __ASSEMBLY__

/* An 8-byte segment descriptor: bit-field view, call-gate view, or two words. */
struct x86_desc {
    union {
        struct {
            prtos_u32_t seg_limit15_0 : 16, base15_0 : 16;
            prtos_u32_t base23_16 : 8, type : 4, s : 1, dpl : 2, present : 1, seg_limit19_16 : 4, avl : 1,
                reserved : 1, d_b : 1, granularity : 1, base31_24 : 8;
        } __PACKED;
        struct {
            prtos_u32_t offset15_0 : 16, seg_selector : 16;
            prtos_u32_t word_count : 8, access : 8, offset31_16 : 16;
        } __PACKED;
        struct {
            prtos_u32_t high, low;
        } __PACKED;
    };
} __PACKED;

/* An 8-byte IDT gate (access: P, DPL and type; 0xE interrupt, 0xF trap gate). */
struct x86_gate {
    union {
        struct {
            prtos_u32_t offset15_0 : 16, seg_selector : 16;
            prtos_u32_t word_count : 8, access : 8, offset31_16 : 16;
        } __PACKED;
        struct {
            prtos_u32_t high0, low0;
        } __PACKED;
    };
} __PACKED;

/* The standard 32-bit task-state segment; every 16-bit selector is padded to 32 bits. */
struct x86_tss {
    prtos_u16_t back_link, __blh;
    prtos_u32_t sp0;
    prtos_u16_t ss0, __ss0h;
    prtos_u32_t sp1;
    prtos_u16_t ss1, __ss1h;
    prtos_u32_t sp2;
    prtos_u16_t ss2, __ss2h;
    prtos_u32_t cr3;
    prtos_u32_t ip;
    prtos_u32_t flags;
    prtos_u32_t ax;
    prtos_u32_t cx;
    prtos_u32_t dx;
    prtos_u32_t bx;
    prtos_u32_t sp;
    prtos_u32_t bp;
    prtos_u32_t si;
    prtos_u32_t di;
    prtos_u16_t es, __esh;
    prtos_u16_t cs, __csh;
    prtos_u16_t ss, __ssh;
    prtos_u16_t ds, __dsh;
    prtos_u16_t fs, __fsh;
    prtos_u16_t gs, __gsh;
    prtos_u16_t ldt, __ldth;
    prtos_u16_t trace_trap;
    prtos_u16_t io_git_map_offset;
} __PACKED;

/* A descriptor seen as two raw words. */
typedef struct {
    prtos_u32_t high;
    prtos_u32_t low;
} generic_desc_t;

#endif /* __ASSEMBLY__ */

#endif /* _PRTOS_INC_ARCH_SEGMENTS_H_ */
