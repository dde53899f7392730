/*
 * prtos_inc/objects/mem.h - the memory object (class 5): inter-partition copy.
 */
#ifndef _PRTOS_INC_OBJECTS_MEM_H_
#define _PRTOS_INC_OBJECTS_MEM_H_

#include <prtos_inc/arch/arch_types.h>

#define PRTOS_OBJ_MEM_CPY_AREA 0x1

#ifndef __ASSEMBLY__

/* Addresses are physical (Area@start); id 0xFF (UNCHECKED_ID) ties a range to no partition. */
struct cpy_area {
    prtos_id_t dst_id;
    prtos_address_t dst_addr;
    prtos_id_t src_id;
    prtos_address_t src_addr;
    prtos_s_size_t size;
};

union mem_cmd {
    struct cpy_area cpy_area;
};

#endif /* __ASSEMBLY__ */

#endif /* _PRTOS_INC_OBJECTS_MEM_H_ */
