/*
 * prtos_inc/prtosconf.h - configuration constants a partition can see:
 * HM events and actions, memory-area and partition flags, port kinds.
 */
#ifndef _PRTOS_INC_PRTOSCONF_H_
#define _PRTOS_INC_PRTOSCONF_H_

#include <prtos_inc/config.h>
#include <prtos_inc/arch/arch_types.h>
#include <prtos_inc/arch/prtosconf.h>

/* Generic HM events (x86 events follow, see arch/prtosconf.h). */
#define PRTOS_HM_EV_FATAL_ERROR 0
#define PRTOS_HM_EV_SYSTEM_ERROR 1
#define PRTOS_HM_EV_PARTITION_ERROR 2
#define PRTOS_HM_EV_FP_ERROR 3
#define PRTOS_HM_EV_MEM_PROTECTION 4
#define PRTOS_HM_EV_UNEXPECTED_TRAP 5
#define PRTOS_HM_MAX_GENERIC_EVENTS 6

#define PRTOS_HM_MAX_EVENTS (PRTOS_HM_MAX_GENERIC_EVENTS + PRTOS_HM_MAX_ARCH_EVENTS)

/* HM actions. */
#define PRTOS_HM_AC_IGNORE 0
#define PRTOS_HM_AC_SHUTDOWN 1
#define PRTOS_HM_AC_PARTITION_COLD_RESET 2
#define PRTOS_HM_AC_PARTITION_WARM_RESET 3
#define PRTOS_HM_AC_HYPERVISOR_COLD_RESET 4
#define PRTOS_HM_AC_HYPERVISOR_WARM_RESET 5
#define PRTOS_HM_AC_SUSPEND 6
#define PRTOS_HM_AC_PARTITION_HALT 7
#define PRTOS_HM_AC_HYPERVISOR_HALT 8
#define PRTOS_HM_AC_PROPAGATE 9
#define PRTOS_HM_AC_SWITCH_TO_MAINTENANCE 10
#define PRTOS_HM_MAX_ACTIONS 11

#define PRTOS_HM_LOG_DISABLED 0
#define PRTOS_HM_LOG_ENABLED 1

/* Reset status values (PCT reset_status). */
#define PRTOS_RESET_STATUS_PARTITION_NORMAL_START 0
#define PRTOS_RESET_STATUS_PARTITION_RESTART 1
#define PRTOS_HM_RESET_STATUS_MODULE_RESTART 2
#define PRTOS_HM_RESET_STATUS_PARTITION_RESTART 3
#define PRTOS_HM_RESET_STATUS_USER_CODE_BIT 16
#define PRTOS_HM_RESET_STATUS_EVENT_MASK 0xFFFF

/* Memory-area flags (struct prtos_physical_mem_map.flags). */
#define PRTOS_MEM_AREA_SHARED (1 << 0)
#define PRTOS_MEM_AREA_UNMAPPED (1 << 1)
#define PRTOS_MEM_AREA_READONLY (1 << 2)
#define PRTOS_MEM_AREA_UNCACHEABLE (1 << 3)
#define PRTOS_MEM_AREA_ROM (1 << 4)
#define PRTOS_MEM_AREA_FLAG0 (1 << 5)
#define PRTOS_MEM_AREA_FLAG1 (1 << 6)
#define PRTOS_MEM_AREA_FLAG2 (1 << 7)
#define PRTOS_MEM_AREA_FLAG3 (1 << 8)
#define PRTOS_MEM_AREA_TAGGED (1 << 9)
#define PRTOS_MEM_AREA_IOMMU (1 << 10)

/* Partition configuration flags. */
#define PRTOS_PART_BOOT 0x1
#define PRTOS_PART_SYSTEM 0x100
#define PRTOS_PART_FP 0x200
#define PRTOS_PART_HWVIRT 0x400

/* Port directions and kinds. */
#define PRTOS_SOURCE_PORT 0x2
#define PRTOS_DESTINATION_PORT 0x1
#define PRTOS_SAMPLING_PORT 0
#define PRTOS_QUEUING_PORT 1
#define PRTOS_SAMPLING_CHANNEL 0
#define PRTOS_QUEUING_CHANNEL 1
#define PRTOS_NULL_CHANNEL (-1)

#endif /* _PRTOS_INC_PRTOSCONF_H_ */
