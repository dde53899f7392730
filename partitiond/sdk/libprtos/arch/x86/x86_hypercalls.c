/*
 * arch/x86/x86_hypercalls.c - the x86 hypercall wrappers, their lazy forms and
 * the virtual IRET entry.
 */
#include <prtos.h>

prtos_hcall1r(x86_load_cr0, prtos_word_t, val)
prtos_hcall1r(x86_load_cr3, prtos_word_t, val)
prtos_hcall1r(x86_load_cr4, prtos_word_t, val)
prtos_hcall1r(x86_load_tss, struct x86_tss *, t)
prtos_hcall1r(x86_load_gdt, struct x86_desc_reg *, desc)
prtos_hcall1r(x86_load_idtr, struct x86_desc_reg *, desc)
prtos_hcall3r(x86_update_ss_sp, prtos_word_t, ss, prtos_word_t, sp, prtos_u32_t, level)
prtos_hcall2r(x86_update_gdt, prtos_s32_t, entry, struct x86_desc *, gdt)
prtos_hcall2r(x86_update_idt, prtos_s32_t, entry, struct x86_gate *, desc)

/*
 * Calls 42 and 43 return nothing and keep EAX. They flush first like every
 * wrapper but make their call even if the flush failed: a void function has
 * no way to report the error, and leaving the virtual IF unchanged would be
 * worse than losing the batch result.
 */
__stdcall void prtos_x86_set_if(void) {
    prtos_flush_hyp_batch();
    __prtos_hcall_noret(x86_set_if_nr);
}

__stdcall void prtos_x86_clear_if(void) {
    prtos_flush_hyp_batch();
    __prtos_hcall_noret(x86_clear_if_nr);
}

/* No hardware watchpoints in the emulated CPU (D-26). */
__stdcall prtos_s32_t prtos_x86_set_watchpoint(prtos_address_t v_addr) {
    (void)v_addr;
    return PRTOS_OP_NOT_ALLOWED;
}

prtos_lazy_hcall1(x86_load_cr0, prtos_word_t, val)
prtos_lazy_hcall1(x86_load_cr3, prtos_word_t, val)
prtos_lazy_hcall1(x86_load_cr4, prtos_word_t, val)
prtos_lazy_hcall1(x86_load_tss, struct x86_tss *, t)
prtos_lazy_hcall1(x86_load_gdt, struct x86_desc_reg *, desc)
prtos_lazy_hcall1(x86_load_idtr, struct x86_desc_reg *, desc)
prtos_lazy_hcall3(x86_update_ss_sp, prtos_word_t, ss, prtos_word_t, sp, prtos_u32_t, level)
prtos_lazy_hcall2(x86_update_gdt, prtos_s32_t, entry, struct x86_desc *, gdt)
prtos_lazy_hcall2(x86_update_idt, prtos_s32_t, entry, struct x86_gate *, desc)

/*
 * prtos_x86_iret: the virtual IRET. The kernel pops EIP, CS and EFLAGS from
 * the stack at the moment of "int $0x83", so the function first drops its
 * own return address: "call prtos_x86_iret" with ESP pointing at the frame
 * behaves exactly like executing "int $0x83" there. LEA leaves EFLAGS alone
 * (not that it matters: the popped EFLAGS replace them). It never returns
 * and does not flush the batch.
 */
__asm__(".text\n"
        ".globl prtos_x86_iret\n"
        ".type prtos_x86_iret, @function\n"
        ".p2align 4\n"
        "prtos_x86_iret:\n"
        "    leal 4(%esp), %esp\n"
        "    " __PRTOS_IRET_INSN "\n"
        ".size prtos_x86_iret, . - prtos_x86_iret\n");
