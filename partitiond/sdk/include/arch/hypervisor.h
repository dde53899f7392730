/*
 * arch/hypervisor.h - x86 part of the libprtos start-up.
 */
#ifndef _PRTOS_ARCH_HYPERVISOR_H_
#define _PRTOS_ARCH_HYPERVISOR_H_

#include <hypervisor.h>

#ifndef __ASSEMBLY__

/* Architecture-specific start-up of libprtos; nothing to do on x86. */
extern __stdcall void init_arch_libprtos(void);

#endif /* __ASSEMBLY__ */

#endif /* _PRTOS_ARCH_HYPERVISOR_H_ */
