/*
 * bail_traps.c - a trap and an interrupt round trip through BAIL's stubs.
 *
 * run_div() loads known values into every general register and divides by
 * zero. The divide-error handler records the frame, moves ip past the
 * faulting instruction, changes EAX and ESI and clears the IF bit of the
 * saved flags; run_div() then stores the registers as they came back.
 */
#include <stdio.h>
#include <irqs.h>

extern char trap_div[], trap_div_end[];
extern void run_div(prtos_u32_t *out);

__asm__(
    ".text\n"
    ".globl run_div\n"
    "run_div:\n"
    "    pushl %ebp\n"
    "    pushl %ebx\n"
    "    pushl %esi\n"
    "    pushl %edi\n"
    "    movl $0x11111111, %ebx\n"
    "    xorl %ecx, %ecx\n"
    "    movl $0x33333333, %edx\n"
    "    movl $0x44444444, %esi\n"
    "    movl $0x55555555, %edi\n"
    "    movl $0x66666666, %ebp\n"
    "    movl $0x77777777, %eax\n"
    ".globl trap_div\n"
    "trap_div:\n"
    "    divl %ecx\n"
    ".globl trap_div_end\n"
    "trap_div_end:\n"
    "    pushl %eax\n"
    "    movl 24(%esp), %eax\n" /* out */
    "    popl 24(%eax)\n"
    "    movl %ebx, 0(%eax)\n"
    "    movl %ecx, 4(%eax)\n"
    "    movl %edx, 8(%eax)\n"
    "    movl %esi, 12(%eax)\n"
    "    movl %edi, 16(%eax)\n"
    "    movl %ebp, 20(%eax)\n"
    "    popl %edi\n"
    "    popl %esi\n"
    "    popl %ebx\n"
    "    popl %ebp\n"
    "    ret\n");

static trap_ctxt_t seen, gp;
static prtos_u32_t irq_if = 0xdead;

static void on_divide(trap_ctxt_t *ctxt) {
    seen = *ctxt;
    ctxt->ip = (prtos_u32_t)trap_div_end;
    ctxt->eax = 0x1234;
    ctxt->esi += 1;
    ctxt->flags &= ~_CPU_FLAG_IF;
}

/* A trap with an error code: the stub must not push a dummy one. */
static void on_gp(trap_ctxt_t *ctxt) {
    gp = *ctxt;
    ctxt->ip += 2; /* skip "int $0x40" */
    ctxt->ebx = 0xb0b;
}

static void on_timer(trap_ctxt_t *ctxt) {
    irq_if = hw_is_sti();
    printf("irq vector=%u err=%u\n", ctxt->irq_nr, ctxt->err_code);
}

void partition_main(void) {
    prtos_u32_t regs[7];

    printf("size=%u\n", (prtos_u32_t)sizeof(trap_ctxt_t));
    install_trap_handler(DIVIDE_ERROR, on_divide);
    hw_sti();
    run_div(regs);
    printf("frame ebx=%x ecx=%x edx=%x esi=%x edi=%x ebp=%x eax=%x\n", seen.ebx, seen.ecx, seen.edx, seen.esi,
           seen.edi, seen.ebp, seen.eax);
    printf("frame vector=%u err=%u ip_ok=%d cs=%x if=%x\n", seen.irq_nr, seen.err_code,
           seen.ip == (prtos_u32_t)trap_div, seen.cs, seen.flags & _CPU_FLAG_IF);
    printf("after ebx=%x ecx=%x edx=%x esi=%x edi=%x ebp=%x eax=%x\n", regs[0], regs[1], regs[2], regs[3], regs[4],
           regs[5], regs[6]);
    printf("after if=%x\n", hw_is_sti());

    /* An extended interrupt: vector 224, through an interrupt gate. */
    install_trap_handler(BAIL_PRTOSEXT_TRAP(PRTOS_VT_EXT_HW_TIMER), on_timer);
    hw_sti();
    prtos_clear_irqmask(0, (1 << PRTOS_VT_EXT_HW_TIMER) | (1 << PRTOS_VT_EXT_EXEC_TIMER));
    prtos_set_irqpend(0, 1 << PRTOS_VT_EXT_HW_TIMER);
    printf("handler if=%x after if=%x\n", irq_if, hw_is_sti());

    /* A general-protection fault: error code (0x40 << 3) | 2 from the CPU. */
    {
        prtos_u32_t ebx_after;

        install_trap_handler(GENERAL_PROTECTION_FAULT, on_gp);
        __asm__ __volatile__("movl $0x5a5a, %%ebx\n\tint $0x40\n\t" : "=b"(ebx_after) : : "memory");
        printf("gp vector=%u err=%x ebx=%x after=%x if=%x\n", gp.irq_nr, gp.err_code, gp.ebx, ebx_after,
               gp.flags & _CPU_FLAG_IF);
    }

    /* No handler for ext IRQ 1: the unexpected-trap handler reports it. */
    prtos_set_irqpend(0, 1 << PRTOS_VT_EXT_EXEC_TIMER);
    printf("done\n");
}
