/*
 * prtos_inc/objdir.h - object descriptors and object classes.
 *
 * A descriptor packs class, vCPU, partition and object id into one word;
 * hypercalls 11..14 route on it (partition-api.md section 8).
 */
#ifndef _PRTOS_INC_OBJDIR_H_
#define _PRTOS_INC_OBJDIR_H_

#include <prtos_inc/arch/arch_types.h>

#define OBJ_CLASS_NULL 0
#define OBJ_CLASS_CONSOLE 1
#define OBJ_CLASS_TRACE 2
#define OBJ_CLASS_SAMPLING_PORT 3
#define OBJ_CLASS_QUEUING_PORT 4
#define OBJ_CLASS_MEM 5
#define OBJ_CLASS_HM 6
#define OBJ_CLASS_STATUS 7
#define OBJ_NO_CLASSES 8

#define OBJDESC_VALIDITY_BIT 31
#define OBJDESC_VALIDITY_MASK (1U << OBJDESC_VALIDITY_BIT)
#define OBJDESC_CLASS_MASK 0x7F
#define OBJDESC_VCPUID_MASK 0xF
#define OBJDESC_NODEID_MASK 0xF
#define OBJDESC_PARTITIONID_MASK 0x3FF
#define OBJDESC_ID_MASK 0x3FF

#define OBJDESC_CLASS_SHIFT 24
#define OBJDESC_VCPUID_SHIFT 20
#define OBJDESC_NODEID_SHIFT 20
#define OBJDESC_PARTITIONID_SHIFT 10
#define OBJDESC_ID_SHIFT 0

#define OBJDESC_GET_CLASS(oD) ((((prtos_u32_t)(oD)) >> OBJDESC_CLASS_SHIFT) & OBJDESC_CLASS_MASK)
#define OBJDESC_GET_VCPUID(oD) ((((prtos_u32_t)(oD)) >> OBJDESC_VCPUID_SHIFT) & OBJDESC_VCPUID_MASK)
#define OBJDESC_GET_NODEID(oD) ((((prtos_u32_t)(oD)) >> OBJDESC_NODEID_SHIFT) & OBJDESC_NODEID_MASK)
#define OBJDESC_GET_PARTITIONID(oD) ((((prtos_u32_t)(oD)) >> OBJDESC_PARTITIONID_SHIFT) & OBJDESC_PARTITIONID_MASK)
#define OBJDESC_GET_ID(oD) ((((prtos_u32_t)(oD)) >> OBJDESC_ID_SHIFT) & OBJDESC_ID_MASK)

#define OBJDESC_SET_CLASS(oD, v) \
    ((((prtos_u32_t)(oD)) & ~((prtos_u32_t)OBJDESC_CLASS_MASK << OBJDESC_CLASS_SHIFT)) | \
     (((prtos_u32_t)(v) & OBJDESC_CLASS_MASK) << OBJDESC_CLASS_SHIFT))
#define OBJDESC_SET_VCPUID(oD, v) \
    ((((prtos_u32_t)(oD)) & ~((prtos_u32_t)OBJDESC_VCPUID_MASK << OBJDESC_VCPUID_SHIFT)) | \
     (((prtos_u32_t)(v) & OBJDESC_VCPUID_MASK) << OBJDESC_VCPUID_SHIFT))
#define OBJDESC_SET_NODEID(oD, v) OBJDESC_SET_VCPUID(oD, v)
#define OBJDESC_SET_PARTITIONID(oD, v) \
    ((((prtos_u32_t)(oD)) & ~((prtos_u32_t)OBJDESC_PARTITIONID_MASK << OBJDESC_PARTITIONID_SHIFT)) | \
     (((prtos_u32_t)(v) & OBJDESC_PARTITIONID_MASK) << OBJDESC_PARTITIONID_SHIFT))
#define OBJDESC_SET_ID(oD, v) \
    ((((prtos_u32_t)(oD)) & ~((prtos_u32_t)OBJDESC_ID_MASK << OBJDESC_ID_SHIFT)) | \
     (((prtos_u32_t)(v) & OBJDESC_ID_MASK) << OBJDESC_ID_SHIFT))

#define OBJDESC_IS_VALID(oD) ((((prtos_u32_t)(oD)) & OBJDESC_VALIDITY_MASK) ? 0 : 1)
#define OBJDESC_SET_INVALID(oD) (((prtos_u32_t)(oD)) | OBJDESC_VALIDITY_MASK)
#define OBJDESC_SET_VALID(oD) (((prtos_u32_t)(oD)) & ~OBJDESC_VALIDITY_MASK)

#define OBJDESC_BUILD(class, partition_id, id) \
    (((((prtos_u32_t)(class)) & OBJDESC_CLASS_MASK) << OBJDESC_CLASS_SHIFT) | \
     ((((prtos_u32_t)(partition_id)) & OBJDESC_PARTITIONID_MASK) << OBJDESC_PARTITIONID_SHIFT) | \
     ((((prtos_u32_t)(id)) & OBJDESC_ID_MASK) << OBJDESC_ID_SHIFT))

#define OBJDESC_BUILD_VCPUID(class, vcpu_id, partition_id, id) \
    (OBJDESC_BUILD(class, partition_id, id) | ((((prtos_u32_t)(vcpu_id)) & OBJDESC_VCPUID_MASK) << OBJDESC_VCPUID_SHIFT))
#define OBJDESC_BUILD_NODEID(class, node_id, partition_id, id) OBJDESC_BUILD_VCPUID(class, node_id, partition_id, id)

#endif /* _PRTOS_INC_OBJDIR_H_ */
