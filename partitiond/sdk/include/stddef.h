/*
 * stddef.h - BAIL's freestanding definitions. BAIL programs are built
 * against BAIL's headers only, so this replaces the compiler's own.
 */
#ifndef _BAIL_STDDEF_H_
#define _BAIL_STDDEF_H_

#include <prtos_inc/arch/arch_types.h>

#ifndef NULL
#define NULL ((void *)0)
#endif

#ifndef __ASSEMBLY__
typedef __SIZE_TYPE__ size_t;
typedef __PTRDIFF_TYPE__ ptrdiff_t;
#ifndef __cplusplus
typedef __WCHAR_TYPE__ wchar_t;
#endif
#endif

#define offsetof(type, member) __builtin_offsetof(type, member)

#endif /* _BAIL_STDDEF_H_ */
