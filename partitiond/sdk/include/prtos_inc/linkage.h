/*
 * prtos_inc/linkage.h - attribute and stringification helpers.
 *
 * __stdcall is plain cdecl (all arguments on the stack) so that wrappers
 * keep the calling convention upstream code was written against even when
 * a program is compiled with -mregparm.
 */
#ifndef _PRTOS_INC_LINKAGE_H_
#define _PRTOS_INC_LINKAGE_H_

#include <prtos_inc/arch/arch_types.h>

#ifndef __stdcall
#define __stdcall __attribute__((regparm(0)))
#endif

#ifndef __PACKED
#define __PACKED __attribute__((packed))
#endif

#define __TO_STR(x) #x
#define TO_STR(x) __TO_STR(x)

#ifdef __ASSEMBLY__
#define ASM_ALIGN .align 4
#define ENTRY(name) \
    .globl name; \
    ASM_ALIGN;   \
    name:
#endif

#endif /* _PRTOS_INC_LINKAGE_H_ */
