/*
 * irqs.h - BAIL's trap and interrupt layer (partition-api.md 15.4).
 *
 * Every vector of the guest IDT enters a BAIL stub that saves the
 * interrupted registers as a trap_ctxt_t and calls the handler installed
 * for that vector; whatever the handler leaves in the frame (registers,
 * ip, the IF bit of flags) is what the interrupted code resumes with.
 */
#ifndef _BAIL_IRQS_H_
#define _BAIL_IRQS_H_

#include <prtos.h>
#include <bail.h>

/* Entries of the handler table: one per IDT vector that can carry a handler. */
#define TRAPTAB_LENGTH 256

/* Vectors of the guest IDT built by init_arch (D-57: all of them have a gate). */
#define BAIL_IDT_ENTRIES 288

/* IDT vector BAIL routes extended interrupt n to (224 + n). */
#define BAIL_PRTOSEXT_TRAP(_trap) (((_trap) - PRTOS_VT_EXT_FIRST) + 224)

#ifndef __ASSEMBLY__

/* The frame a trap stub builds on the stack (72 bytes, lowest address first). */
typedef struct trap_ctxt {
    prtos_u32_t ebx;
    prtos_u32_t ecx;
    prtos_u32_t edx;
    prtos_u32_t esi;
    prtos_u32_t edi;
    prtos_u32_t ebp;
    prtos_u32_t eax;
    prtos_u32_t ds;
    prtos_u32_t es;
    prtos_u32_t fs;
    prtos_u32_t gs;
    prtos_u32_t irq_nr;   /* the IDT vector, e.g. 224 for ext IRQ 0 */
    prtos_u32_t err_code; /* the trap's error code, or 0 */
    prtos_u32_t ip;       /* where execution resumes */
    prtos_u32_t cs;
    prtos_u32_t flags;    /* bit 9 = virtual IF after return */
    prtos_u32_t sp;       /* not restored: no stack switch ever happens */
    prtos_u32_t ss;
} trap_ctxt_t;

typedef void (*trap_handler_t)(trap_ctxt_t *);

/* Handler of each vector, shared by all vCPUs of the partition. */
extern trap_handler_t part_trap_handlers_table[TRAPTAB_LENGTH];

/* Installs h (NULL: the unexpected-trap handler) for vector n; -1 if n is not 0..255. */
extern prtos_s32_t install_trap_handler(prtos_s32_t n, trap_handler_t h);
/* Fills the handler table (vCPU 0) and routes ext IRQ n to vector 224 + n (every vCPU). */
extern void setup_irqs(void);
/* Builds and loads the guest IDT and GDT of the calling vCPU. */
extern void init_arch(void);

/* Virtual interrupt flag of the calling vCPU. */
static __inline__ void hw_cli(void) {
    prtos_x86_clear_if();
}

static __inline__ void hw_sti(void) {
    prtos_x86_set_if();
}

static __inline__ prtos_s32_t hw_is_sti(void) {
    return prtos_get_pct()->iflags & _CPU_FLAG_IF;
}

#endif /* __ASSEMBLY__ */

#endif /* _BAIL_IRQS_H_ */
