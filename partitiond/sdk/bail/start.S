/*
 * start.S - the entry point of every vCPU of a BAIL partition
 * (partition-api.md 15.2).
 *
 * The kernel enters here with EBX = base of the PCT array and nothing else
 * set up, so the code below builds a stack before calling any C: first a
 * tiny early stack just big enough for the vCPU-id hypercall, then the
 * vCPU's own 8 KiB stack.
 */
#define __ASSEMBLY__
#include <config.h>

#define EARLY_STACK_SIZE 128

    .section .text.init, "ax"
    .globl start
    .type start, @function
start:
    /* 1. early stack; EBX (the PCT base) must survive until init_libprtos */
    movl $(_early_stack + EARLY_STACK_SIZE), %esp
    pushl %ebx
    /* 2. which vCPU are we? (the wrapper preserves EBX, ESI, EDI, EBP) */
    call prtos_get_vcpuid
    popl %ebx
    movl %eax, %esi
    /* 3. vCPU 0 clears .bss (.bss.noinit, which holds the early stack, is outside it) */
    testl %esi, %esi
    jnz 1f
    cld
    movl $_sbss, %edi
    movl $_ebss, %ecx
    subl %edi, %ecx
    xorl %eax, %eax
    rep stosb
1:
    /* 4. this vCPU's stack: _stack + (vcpu + 1) * STACK_SIZE */
    movl %esi, %eax
    incl %eax
    imull $STACK_SIZE, %eax, %eax
    addl $_stack, %eax
    movl %eax, %esp
    xorl %ebp, %ebp
    /* 5. init_libprtos(PCT base) */
    pushl %ebx
    call init_libprtos
    addl $4, %esp
    /* 6., 7. guest IDT/GDT, handler table and ext-IRQ routing */
    call init_arch
    call setup_irqs
    /* 8. the program */
    call partition_main
    /* 9. the implicit halt; it does not return, spin should it ever do */
    call __bail_implicit_halt
2:
    jmp 2b
    .size start, . - start

    /* Shared early stack: outside the cleared .bss so that clearing cannot hit it. */
    .section .bss.noinit, "aw", @nobits
    .balign 16
_early_stack:
    .skip EARLY_STACK_SIZE

    /* One stack per vCPU. */
    .section .bss, "aw", @nobits
    .balign 16
    .globl _stack
_stack:
    .skip STACK_SIZE * CONFIG_MAX_NO_VCPUS
