/*
 * prtos_inc/prtosef.h - the partition image header and version helpers.
 *
 * The runtime validates this header before it resets a partition, so its
 * layout and magic numbers are part of the guest contract.
 */
#ifndef _PRTOS_INC_PRTOSEF_H_
#define _PRTOS_INC_PRTOSEF_H_

#include <prtos_inc/config.h>
#include <prtos_inc/linkage.h>
#include <prtos_inc/arch/arch_types.h>

#define PRTOS_SET_VERSION(_ver, _subver, _rev) ((((_ver) & 0xFF) << 16) | (((_subver) & 0xFF) << 8) | ((_rev) & 0xFF))
#define PRTOS_GET_VERSION(_v) (((_v) >> 16) & 0xFF)
#define PRTOS_GET_SUBVERSION(_v) (((_v) >> 8) & 0xFF)
#define PRTOS_GET_REVISION(_v) ((_v) & 0xFF)

#define PRTOS_EXEC_PARTITION_MAGIC 0x24584D69
#define PRTOS_EXEC_HYP_MAGIC 0x24584D68
#define PEF_SIGNATURE 0x24584546
#define PRTOS_PACKAGE_SIGNATURE 0x24584354
#define PRTOSC_SIGNATURE 0x24584D43

#define __PRTOS_IMAGE_HDR __attribute__((section(".prtos_image_hdr")))

#ifndef __ASSEMBLY__

struct pef_custom_file {
    prtos_address_t start_addr;
    prtos_u_size_t size;
} __PACKED;

/* One per image, in section .prtos_image_hdr (52 bytes). */
struct prtos_image_hdr {
    prtos_u32_t start_signature;
    prtos_u32_t compilation_prtos_abi_version;
    prtos_u32_t compilation_prtos_api_version;
    prtos_address_t page_table;
    prtos_u_size_t page_table_size;
    prtos_u32_t num_of_custom_files;
    struct pef_custom_file custom_file_table[CONFIG_MAX_NO_CUSTOMFILES];
    prtos_u32_t end_signature;
} __PACKED;

#endif /* __ASSEMBLY__ */

#endif /* _PRTOS_INC_PRTOSEF_H_ */
