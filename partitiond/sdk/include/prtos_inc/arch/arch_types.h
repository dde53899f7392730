/*
 * prtos_inc/arch/arch_types.h - the fixed-width types of the i386 ABI.
 *
 * Every public structure is written with these names so that its layout is
 * the i386 one (64-bit members only 4-byte aligned inside structures).
 */
#ifndef _PRTOS_INC_ARCH_ARCH_TYPES_H_
#define _PRTOS_INC_ARCH_ARCH_TYPES_H_

#include <prtos_inc/config.h>

#define MAX_U8 0xFF
#define MAX_S8 0x7F
#define MAX_U16 0xFFFF
#define MAX_S16 0x7FFF
#define MAX_U32 0xFFFFFFFF
#define MAX_S32 0x7FFFFFFF
#define MAX_U64 0xFFFFFFFFFFFFFFFFULL
#define MAX_S64 0x7FFFFFFFFFFFFFFFLL
#define MAX_PRTOSTIME MAX_S64

#define PRTOS_LOG2_WORD_SZ 5

#ifndef __ASSEMBLY__

typedef unsigned char prtos_u8_t;
typedef char prtos_s8_t;
typedef unsigned short prtos_u16_t;
typedef short prtos_s16_t;
typedef unsigned int prtos_u32_t;
typedef int prtos_s32_t;
__extension__ typedef unsigned long long prtos_u64_t;
__extension__ typedef long long prtos_s64_t;

typedef prtos_s64_t prtos_time_t;
typedef prtos_s64_t hw_time_t;
typedef long prtos_long_t;

typedef prtos_u32_t prtos_word_t;
typedef prtos_u32_t prtos_id_t;
typedef prtos_u32_t prtos_address_t;
typedef prtos_u32_t prtos_u_size_t;
typedef prtos_s32_t prtos_s_size_t;
typedef prtos_u16_t prtos_io_address_t;
typedef prtos_u32_t prtos_obj_desc_t;

#define PTR2ADDR(x) ((prtos_word_t)x)
#define ADDR2PTR(x) ((void *)((prtos_word_t)x))
#define PRNT_ADDR_FMT "l"

#endif /* __ASSEMBLY__ */

#endif /* _PRTOS_INC_ARCH_ARCH_TYPES_H_ */
