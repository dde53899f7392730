/*
 * arch/prtoshypercalls.h - x86 hypercall wrappers and the trap primitives.
 *
 * Binary ABI (docs/abi.md): "int $0x82" with the hypercall number in EAX and
 * up to five argument words in EBX, ECX, EDX, ESI, EDI; the result comes back
 * in EAX and every other register is preserved. The virtual IRET is
 * "int $0x83" and uses no register.
 */
#ifndef _PRTOS_ARCH_PRTOSHYPERCALLS_H_
#define _PRTOS_ARCH_PRTOSHYPERCALLS_H_

#include <prtoshypercalls.h>

#ifndef __ASSEMBLY__

/* x86 architecture calls. */
extern __stdcall prtos_s32_t prtos_x86_load_cr0(prtos_word_t val);
extern __stdcall prtos_s32_t prtos_x86_load_cr3(prtos_word_t val);
extern __stdcall prtos_s32_t prtos_x86_load_cr4(prtos_word_t val);
extern __stdcall prtos_s32_t prtos_x86_load_tss(struct x86_tss *t);
extern __stdcall prtos_s32_t prtos_x86_load_gdt(struct x86_desc_reg *desc);
extern __stdcall prtos_s32_t prtos_x86_load_idtr(struct x86_desc_reg *desc);
extern __stdcall prtos_s32_t prtos_x86_update_ss_sp(prtos_word_t ss, prtos_word_t sp, prtos_u32_t level);
extern __stdcall prtos_s32_t prtos_x86_update_gdt(prtos_s32_t entry, struct x86_desc *gdt);
extern __stdcall prtos_s32_t prtos_x86_update_idt(prtos_s32_t entry, struct x86_gate *desc);
extern __stdcall void prtos_x86_set_if(void);
extern __stdcall void prtos_x86_clear_if(void);
extern __stdcall void prtos_x86_iret(void);
extern __stdcall prtos_s32_t prtos_x86_set_watchpoint(prtos_address_t v_addr);

extern __stdcall void prtos_lazy_x86_load_cr0(prtos_word_t val);
extern __stdcall void prtos_lazy_x86_load_cr3(prtos_word_t val);
extern __stdcall void prtos_lazy_x86_load_cr4(prtos_word_t val);
extern __stdcall void prtos_lazy_x86_load_tss(struct x86_tss *t);
extern __stdcall void prtos_lazy_x86_load_gdt(struct x86_desc_reg *desc);
extern __stdcall void prtos_lazy_x86_load_idtr(struct x86_desc_reg *desc);
extern __stdcall void prtos_lazy_x86_update_ss_sp(prtos_word_t ss, prtos_word_t sp, prtos_u32_t level);
extern __stdcall void prtos_lazy_x86_update_gdt(prtos_s32_t entry, struct x86_desc *gdt);
extern __stdcall void prtos_lazy_x86_update_idt(prtos_s32_t entry, struct x86_gate *desc);

/* Needed by the wrapper generators below (defined in hypervisor.h's library part). */
extern __stdcall prtos_s32_t prtos_flush_hyp_batch(void);

#ifndef __prtos_cli
#define __prtos_cli() prtos_x86_clear_if()
#endif
#ifndef __prtos_sti
#define __prtos_sti() prtos_x86_set_if()
#endif

/*
 * Raw traps. The number and the arguments are bound to their registers by
 * the constraints; EAX is the only register the kernel changes. The memory
 * clobber is there because many calls read or write guest buffers.
 */
#define __PRTOS_HCALL_INSN "int $" TO_STR(PRTOS_HYPERCALL_VECTOR)
#define __PRTOS_IRET_INSN "int $" TO_STR(PRTOS_IRET_VECTOR)

static __inline__ prtos_s32_t __prtos_hcall_0(prtos_u32_t nr) {
    prtos_s32_t r;
    __asm__ __volatile__(__PRTOS_HCALL_INSN : "=a"(r) : "0"(nr) : "memory");
    return r;
}

static __inline__ prtos_s32_t __prtos_hcall_1(prtos_u32_t nr, prtos_u32_t a0) {
    prtos_s32_t r;
    __asm__ __volatile__(__PRTOS_HCALL_INSN : "=a"(r) : "0"(nr), "b"(a0) : "memory");
    return r;
}

static __inline__ prtos_s32_t __prtos_hcall_2(prtos_u32_t nr, prtos_u32_t a0, prtos_u32_t a1) {
    prtos_s32_t r;
    __asm__ __volatile__(__PRTOS_HCALL_INSN : "=a"(r) : "0"(nr), "b"(a0), "c"(a1) : "memory");
    return r;
}

static __inline__ prtos_s32_t __prtos_hcall_3(prtos_u32_t nr, prtos_u32_t a0, prtos_u32_t a1, prtos_u32_t a2) {
    prtos_s32_t r;
    __asm__ __volatile__(__PRTOS_HCALL_INSN : "=a"(r) : "0"(nr), "b"(a0), "c"(a1), "d"(a2) : "memory");
    return r;
}

static __inline__ prtos_s32_t __prtos_hcall_4(prtos_u32_t nr, prtos_u32_t a0, prtos_u32_t a1, prtos_u32_t a2,
                                              prtos_u32_t a3) {
    prtos_s32_t r;
    __asm__ __volatile__(__PRTOS_HCALL_INSN : "=a"(r) : "0"(nr), "b"(a0), "c"(a1), "d"(a2), "S"(a3) : "memory");
    return r;
}

static __inline__ prtos_s32_t __prtos_hcall_5(prtos_u32_t nr, prtos_u32_t a0, prtos_u32_t a1, prtos_u32_t a2,
                                              prtos_u32_t a3, prtos_u32_t a4) {
    prtos_s32_t r;
    __asm__ __volatile__(__PRTOS_HCALL_INSN
                         : "=a"(r)
                         : "0"(nr), "b"(a0), "c"(a1), "d"(a2), "S"(a3), "D"(a4)
                         : "memory");
    return r;
}

/* Calls 42 and 43 keep EAX as well: nothing is returned. */
static __inline__ void __prtos_hcall_noret(prtos_u32_t nr) {
    __asm__ __volatile__(__PRTOS_HCALL_INSN : : "a"(nr) : "memory");
}

static __inline__ void __prtos_iret(void) {
    __asm__ __volatile__(__PRTOS_IRET_INSN : : : "memory");
}

/*
 * Wrapper generators: each defines "prtos_<name>" for hypercall <name>_nr.
 * The returning forms (prtos_hcallNr) give back the flush error, if any,
 * without making their own call (D-31); the void forms flush and then always
 * make their call, since they cannot report anything.
 */
#define __PRTOS_FLUSH_OR_RETURN()                 \
    do {                                          \
        prtos_s32_t __flush = prtos_flush_hyp_batch(); \
        if (__flush < 0) return __flush;          \
    } while (0)

#define prtos_hcall0r(_hc)                                          \
    __stdcall prtos_s32_t prtos_##_hc(void) {                       \
        __PRTOS_FLUSH_OR_RETURN();                                  \
        return __prtos_hcall_0(_hc##_nr);                           \
    }

#define prtos_hcall1r(_hc, _t0, _a0)                                \
    __stdcall prtos_s32_t prtos_##_hc(_t0 _a0) {                    \
        __PRTOS_FLUSH_OR_RETURN();                                  \
        return __prtos_hcall_1(_hc##_nr, (prtos_u32_t)(_a0));       \
    }

#define prtos_hcall2r(_hc, _t0, _a0, _t1, _a1)                                          \
    __stdcall prtos_s32_t prtos_##_hc(_t0 _a0, _t1 _a1) {                               \
        __PRTOS_FLUSH_OR_RETURN();                                                      \
        return __prtos_hcall_2(_hc##_nr, (prtos_u32_t)(_a0), (prtos_u32_t)(_a1));       \
    }

#define prtos_hcall3r(_hc, _t0, _a0, _t1, _a1, _t2, _a2)                                                  \
    __stdcall prtos_s32_t prtos_##_hc(_t0 _a0, _t1 _a1, _t2 _a2) {                                        \
        __PRTOS_FLUSH_OR_RETURN();                                                                        \
        return __prtos_hcall_3(_hc##_nr, (prtos_u32_t)(_a0), (prtos_u32_t)(_a1), (prtos_u32_t)(_a2));     \
    }

#define prtos_hcall4r(_hc, _t0, _a0, _t1, _a1, _t2, _a2, _t3, _a3)                                       \
    __stdcall prtos_s32_t prtos_##_hc(_t0 _a0, _t1 _a1, _t2 _a2, _t3 _a3) {                              \
        __PRTOS_FLUSH_OR_RETURN();                                                                       \
        return __prtos_hcall_4(_hc##_nr, (prtos_u32_t)(_a0), (prtos_u32_t)(_a1), (prtos_u32_t)(_a2),     \
                               (prtos_u32_t)(_a3));                                                      \
    }

#define prtos_hcall5r(_hc, _t0, _a0, _t1, _a1, _t2, _a2, _t3, _a3, _t4, _a4)                             \
    __stdcall prtos_s32_t prtos_##_hc(_t0 _a0, _t1 _a1, _t2 _a2, _t3 _a3, _t4 _a4) {                     \
        __PRTOS_FLUSH_OR_RETURN();                                                                       \
        return __prtos_hcall_5(_hc##_nr, (prtos_u32_t)(_a0), (prtos_u32_t)(_a1), (prtos_u32_t)(_a2),     \
                               (prtos_u32_t)(_a3), (prtos_u32_t)(_a4));                                  \
    }

#define prtos_hcall0(_hc)                                           \
    __stdcall void prtos_##_hc(void) {                              \
        prtos_flush_hyp_batch();                                    \
        (void)__prtos_hcall_0(_hc##_nr);                            \
    }

#define prtos_hcall1(_hc, _t0, _a0)                                 \
    __stdcall void prtos_##_hc(_t0 _a0) {                           \
        prtos_flush_hyp_batch();                                    \
        (void)__prtos_hcall_1(_hc##_nr, (prtos_u32_t)(_a0));        \
    }

#define prtos_hcall2(_hc, _t0, _a0, _t1, _a1)                                           \
    __stdcall void prtos_##_hc(_t0 _a0, _t1 _a1) {                                      \
        prtos_flush_hyp_batch();                                                        \
        (void)__prtos_hcall_2(_hc##_nr, (prtos_u32_t)(_a0), (prtos_u32_t)(_a1));        \
    }

#define prtos_hcall3(_hc, _t0, _a0, _t1, _a1, _t2, _a2)                                                   \
    __stdcall void prtos_##_hc(_t0 _a0, _t1 _a1, _t2 _a2) {                                               \
        prtos_flush_hyp_batch();                                                                          \
        (void)__prtos_hcall_3(_hc##_nr, (prtos_u32_t)(_a0), (prtos_u32_t)(_a1), (prtos_u32_t)(_a2));      \
    }

#define prtos_hcall4(_hc, _t0, _a0, _t1, _a1, _t2, _a2, _t3, _a3)                                        \
    __stdcall void prtos_##_hc(_t0 _a0, _t1 _a1, _t2 _a2, _t3 _a3) {                                     \
        prtos_flush_hyp_batch();                                                                         \
        (void)__prtos_hcall_4(_hc##_nr, (prtos_u32_t)(_a0), (prtos_u32_t)(_a1), (prtos_u32_t)(_a2),      \
                              (prtos_u32_t)(_a3));                                                       \
    }

#define prtos_hcall5(_hc, _t0, _a0, _t1, _a1, _t2, _a2, _t3, _a3, _t4, _a4)                              \
    __stdcall void prtos_##_hc(_t0 _a0, _t1 _a1, _t2 _a2, _t3 _a3, _t4 _a4) {                            \
        prtos_flush_hyp_batch();                                                                         \
        (void)__prtos_hcall_5(_hc##_nr, (prtos_u32_t)(_a0), (prtos_u32_t)(_a1), (prtos_u32_t)(_a2),      \
                              (prtos_u32_t)(_a3), (prtos_u32_t)(_a4));                                   \
    }

#endif /* __ASSEMBLY__ */

#endif /* _PRTOS_ARCH_PRTOSHYPERCALLS_H_ */
