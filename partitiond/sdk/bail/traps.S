/*
 * traps.S - the entry stubs of the guest IDT (partition-api.md 15.4).
 *
 * One 16-byte stub per vector (init_arch computes gate addresses as
 * __bail_trap_stubs + 16 * vector). A stub makes the stack look the same
 * for every vector (error code, vector), then the common part saves the
 * registers so that the frame is a trap_ctxt_t (11.11), calls the C
 * dispatcher and returns through the virtual IRET. Segment registers are
 * pushed for the frame layout only: the partition runs in a flat model, so
 * they are dropped on the way out instead of being reloaded.
 */
#define __ASSEMBLY__
#include <prtos_inc/arch/hypercalls.h>
#include <irqs.h>

#define STUB_SIZE 16

    .text
    .balign STUB_SIZE
    .globl __bail_trap_stubs
__bail_trap_stubs:
    .set .Lvec, 0
    .rept BAIL_IDT_ENTRIES
0:
    .if !((.Lvec == 8) || ((.Lvec >= 10) && (.Lvec <= 14)) || (.Lvec == 17))
    pushl $0                    /* no error code from the CPU: make room for one */
    .endif
    pushl $.Lvec
    jmp __bail_trap_common
    .org 0b + STUB_SIZE, 0xCC   /* fails to assemble if a stub outgrew its slot */
    .set .Lvec, .Lvec + 1
    .endr

__bail_trap_common:
    pushl %gs
    pushl %fs
    pushl %es
    pushl %ds
    pushl %eax
    pushl %ebp
    pushl %edi
    pushl %esi
    pushl %edx
    pushl %ecx
    pushl %ebx
    cld
    movl %esp, %eax
    pushl %eax                  /* trap_ctxt_t * */
    call __bail_dispatch_trap
    addl $4, %esp
    popl %ebx
    popl %ecx
    popl %edx
    popl %esi
    popl %edi
    popl %ebp
    popl %eax
    addl $24, %esp              /* ds, es, fs, gs, irq_nr, err_code */
    int $PRTOS_IRET_VECTOR      /* pops ip, cs, flags; IF comes from flags */
