/*
 * prtos_inc/arch/processor.h - EFLAGS and control-register bits.
 *
 * The PCT's iflags word uses the EFLAGS layout (bit 9 = virtual IF), and
 * prtos_x86_load_cr0/cr4 take raw control-register values.
 */
#ifndef _PRTOS_INC_ARCH_PROCESSOR_H_
#define _PRTOS_INC_ARCH_PROCESSOR_H_

#include <prtos_inc/arch/arch_types.h>

#define _CPU_FLAG_TF 0x00000100
#define _CPU_FLAG_IF 0x00000200
#define _CPU_FLAG_IOPL 0x00003000

#define _CR0_PE 0x00000001
#define _CR0_EM 0x00000004
#define _CR0_TS 0x00000008
#define _CR0_ET 0x00000010
#define _CR0_WP 0x00010000
#define _CR0_PG 0x80000000

#define _CR4_PSE 0x00000010
#define _CR4_PAE 0x00000020
#define _CR4_PGE 0x00000080

#endif /* _PRTOS_INC_ARCH_PROCESSOR_H_ */
