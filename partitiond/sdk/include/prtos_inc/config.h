/*
 * prtos_inc/config.h - build-time constants of the x86 reference build.
 *
 * BAIL's own config.h defines the same values; every macro here is guarded
 * so that both headers can be included in any order without redefinition
 * diagnostics (the tokens of the two definitions need not be identical).
 */
#ifndef _PRTOS_INC_CONFIG_H_
#define _PRTOS_INC_CONFIG_H_

#ifndef CONFIG_x86
#define CONFIG_x86 1
#endif
#ifndef CONFIG_NO_CPUS
#define CONFIG_NO_CPUS 4
#endif
#ifndef CONFIG_MAX_NO_VCPUS
#define CONFIG_MAX_NO_VCPUS 4
#endif
#ifndef CONFIG_NO_HWIRQS
#define CONFIG_NO_HWIRQS 32
#endif
#ifndef CONFIG_PARTITION_NO_GDT_ENTRIES
#define CONFIG_PARTITION_NO_GDT_ENTRIES 32
#endif
#ifndef CONFIG_ID_STRING_LENGTH
#define CONFIG_ID_STRING_LENGTH 16
#endif
#ifndef CONFIG_PRTOS_MAX_IPVI
#define CONFIG_PRTOS_MAX_IPVI 8
#endif
#ifndef CONFIG_PRTOS_OFFSET
#define CONFIG_PRTOS_OFFSET 0xFC000000
#endif
#ifndef CONFIG_PRTOS_LOAD_ADDR
#define CONFIG_PRTOS_LOAD_ADDR 0x1000000
#endif
#ifndef CONFIG_MAX_NO_CUSTOMFILES
#define CONFIG_MAX_NO_CUSTOMFILES 3
#endif
#ifndef CONFIG_MAX_NO_KTHREADS
#define CONFIG_MAX_NO_KTHREADS 255
#endif
#ifndef CONFIG_SMP
#define CONFIG_SMP 1
#endif
#ifndef CONFIG_STACK_KB
#define CONFIG_STACK_KB 8
#endif
#ifndef CONFIG_SIZE_PAGE_TABLE
#define CONFIG_SIZE_PAGE_TABLE 16
#endif

/* Upstream force-includes its type header with its configuration: make both visible. */
#include <prtos_inc/arch/arch_types.h>

#endif /* _PRTOS_INC_CONFIG_H_ */
