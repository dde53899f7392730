/*
 * prtos_inc/arch/paging.h - page size and the fixed guest-visible addresses.
 */
#ifndef _PRTOS_INC_ARCH_PAGING_H_
#define _PRTOS_INC_ARCH_PAGING_H_

#include <prtos_inc/arch/arch_types.h>

#include <prtos_inc/config.h>

#ifndef PAGE_SIZE
#define PAGE_SIZE 4096
#endif
#ifndef PAGE_SHIFT
#define PAGE_SHIFT 12
#endif

/* The PCT array of the partition, read-only, 256 KiB below the hypervisor window. */
#ifndef PRTOS_PCTRLTAB_ADDR
#define PRTOS_PCTRLTAB_ADDR 0xFBFC0000
#endif

#endif /* _PRTOS_INC_ARCH_PAGING_H_ */
