/*
 * prtos_inc/arch/irqs.h - x86 exception numbers.
 *
 * The trap number is also the index into trap_to_vector[] of the PCT and,
 * offset by PRTOS_HM_MAX_GENERIC_EVENTS, the HM event a fault raises.
 */
#ifndef _PRTOS_INC_ARCH_IRQS_H_
#define _PRTOS_INC_ARCH_IRQS_H_

#include <prtos_inc/arch/arch_types.h>

#define DIVIDE_ERROR 0
#define DEBUG_EXCEPTION 1
#define NMI_INTERRUPT 2
#define BREAKPOINT_EXCEPTION 3
#define OVERFLOW_EXCEPTION 4
#define BOUNDS_EXCEPTION 5
#define INVALID_OPCODE 6
#define DEVICE_NOT_AVAILABLE 7
#define DOUBLE_FAULT 8
#define COPROCESSOR_OVERRRUN 9
#define INVALID_TSS 10
#define SEGMENT_NOT_PRESENT 11
#define STACK_SEGMENT_FAULT 12
#define GENERAL_PROTECTION_FAULT 13
#define PAGE_FAULT 14
#define RESERVED2_EXCEPTION 15
#define FLOATING_POINT_ERROR 16
#define ALIGNMENT_CHECK 17
#define MACHINE_CHECK 18
#define SIMD_EXCEPTION 19

#define NO_TRAPS 32

/* One bit per trap number: the traps that push an error code. */
#define ERRCODE_TAB 0x27D00

#define FIRST_EXTERNAL_VECTOR 0x20

#endif /* _PRTOS_INC_ARCH_IRQS_H_ */
