/*
 * arch.c - the guest IDT and GDT, the trap handler table and its dispatcher
 * (partition-api.md 15.4).
 *
 * The kernel delivers every interrupt through the IDT registered with
 * prtos_x86_load_idtr, so BAIL gives every vector 0..287 a gate (D-57) and
 * funnels them all into one C dispatcher that looks up the program's
 * handler.
 */
#include <irqs.h>
#include <stdio.h>

#define STUB_SIZE 16

#define GATE_PRESENT 0x80
#define GATE_DPL1 0x20
#define GATE_TYPE_INTERRUPT 0xE
#define GATE_TYPE_TRAP 0xF

/* Ring-1 flat segments that end below the hypervisor window (0xFC000000). */
#define GDT_LIMIT_PAGES ((CONFIG_PRTOS_OFFSET >> 12) - 1)
#define GDT_ENTRIES 3

extern char __bail_trap_stubs[];

trap_handler_t part_trap_handlers_table[TRAPTAB_LENGTH];

static struct x86_gate bail_idt[BAIL_IDT_ENTRIES] __attribute__((aligned(8)));
static generic_desc_t bail_gdt[GDT_ENTRIES] __attribute__((aligned(8)));

/* Vectors 1, 2, 13, 14 and every external vector enter with the virtual IF off. */
static int is_interrupt_gate(prtos_s32_t vector) {
    return vector == 1 || vector == 2 || vector == 13 || vector == 14 || vector >= 32;
}

/* Segment descriptor: base 0, limit GDT_LIMIT_PAGES pages, 32-bit, present, DPL 1. */
static void set_flat_desc(generic_desc_t *d, prtos_u32_t type) {
    prtos_u32_t limit = GDT_LIMIT_PAGES;

    d->high = limit & 0xFFFF;
    d->low = X86DESC_LOW_P | (1 << X86DESC_LOW_DPL_POS) | X86DESC_LOW_S | (type << X86DESC_LOW_TYPE_POS) |
             (limit & 0xF0000) | (1 << 22) /* 32-bit */ | (1 << 23) /* 4 KiB granularity */;
}

void init_arch(void) {
    struct x86_desc_reg idtr, gdtr;
    prtos_s32_t v;

    for (v = 0; v < BAIL_IDT_ENTRIES; v++) {
        prtos_u32_t addr = (prtos_u32_t)__bail_trap_stubs + STUB_SIZE * v;
        prtos_u32_t type = is_interrupt_gate(v) ? GATE_TYPE_INTERRUPT : GATE_TYPE_TRAP;

        bail_idt[v].high0 = (addr & 0xFFFF) | ((prtos_u32_t)GUEST_CS_SEL << 16);
        bail_idt[v].low0 = (addr & 0xFFFF0000) | ((GATE_PRESENT | GATE_DPL1 | type) << 8);
    }
    bail_gdt[0].high = 0;
    bail_gdt[0].low = 0;
    set_flat_desc(&bail_gdt[1], 0xA); /* code: execute/read */
    set_flat_desc(&bail_gdt[2], 0x2); /* data: read/write */

    idtr.limit = sizeof(bail_idt) - 1;
    idtr.linear_base = (prtos_u32_t)bail_idt;
    prtos_x86_load_idtr(&idtr);
    gdtr.limit = sizeof(bail_gdt) - 1;
    gdtr.linear_base = (prtos_u32_t)bail_gdt;
    prtos_x86_load_gdt(&gdtr);
}

/* Reports the trap and returns, so the interrupted code continues at ip. */
static void unexpected_trap(trap_ctxt_t *ctxt) {
    printf("[P%d:%d] Unexpected trap 0x%x (ip: 0x%x)\n", (int)PRTOS_PARTITION_SELF, (int)prtos_get_vcpuid(),
           ctxt->irq_nr, ctxt->ip);
}

/* Called by the common trap stub with the frame it built. */
void __bail_dispatch_trap(trap_ctxt_t *ctxt) {
    trap_handler_t h = 0;

    if (ctxt->irq_nr < TRAPTAB_LENGTH) h = part_trap_handlers_table[ctxt->irq_nr];
    if (!h) h = unexpected_trap;
    h(ctxt);
}

prtos_s32_t install_trap_handler(prtos_s32_t n, trap_handler_t h) {
    if (n < 0 || n >= TRAPTAB_LENGTH) return -1;
    part_trap_handlers_table[n] = h ? h : unexpected_trap;
    return 0;
}

void setup_irqs(void) {
    prtos_s32_t n;

    if (prtos_get_vcpuid() == 0) {
        for (n = 0; n < TRAPTAB_LENGTH; n++) part_trap_handlers_table[n] = unexpected_trap;
    }
    for (n = 0; n < PRTOS_VT_EXT_MAX; n++) prtos_route_irq(PRTOS_EXTIRQ_TYPE, n, BAIL_PRTOSEXT_TRAP(n));
}
