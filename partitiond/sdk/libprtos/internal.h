/*
 * internal.h - helpers shared by the libprtos sources (not installed for
 * partition programs).
 */
#ifndef _LIBPRTOS_INTERNAL_H_
#define _LIBPRTOS_INTERNAL_H_

#include <prtos.h>

/*
 * Number of partitions as the kernel mirrors it into PCT flags bits 16..23.
 * It is non-zero only for system partitions, which makes it the library's
 * "system partition" test (D-43); bit 0x100 is a cache flag set for all.
 */
static __inline__ prtos_u32_t __prtos_num_of_partitions(void) {
    return (prtos_get_pct0()->flags & KTHREAD_NO_PARTITIONS_FIELD) >> 16;
}

static __inline__ prtos_s32_t __prtos_is_system_partition(void) {
    return __prtos_num_of_partitions() != 0;
}

#endif /* _LIBPRTOS_INTERNAL_H_ */
