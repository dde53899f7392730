/* Common prelude of the engine's test guests: ABI macros, image header, a stack and an IDT. */
    .macro HC nr
    movl $\nr, %eax
    int $0x82
    .endm
    .macro IRET_ENTRY
    int $0x83
    .endm
    .macro HDR pt=0, ncf=0, cf0=0, cf0s=0
    .section .prtos_image_hdr, "a"
    .globl prtos_image_hdr
prtos_image_hdr:
    .long 0x24584D69, 0x00010000, 0x00010000, \pt, 0x10000, \ncf
    .long \cf0, \cf0s, 0, 0, 0, 0
    .long 0x24584D69
    .text
    .endm

    .section .bss
    .balign 16
stack_bottom:
    .space 8192
stack_top:
    .balign 8
idt:
    .space 256*8
    .section .data
idtr:
    .word 256*8-1
    .long idt
    .text
    .globl start
start:
    jmp main
    /* SETGATE vec, handler, access: access 0xAE = interrupt gate, 0xAF = trap gate (DPL 1). */
    .macro SETGATE vec, handler, access=0xAE
    movl $\handler, %eax
    movw %ax, idt+8*\vec
    movw $0x139, idt+8*\vec+2
    movb $0, idt+8*\vec+4
    movb $\access, idt+8*\vec+5
    shrl $16, %eax
    movw %ax, idt+8*\vec+6
    .endm
    .macro SETUP
    movl $stack_top, %esp
    movl $idtr, %ebx
    HC 38
    .endm
