/*
 * image_hdr.c - the default image header (partition-api.md 15.1).
 *
 * This object is only pulled from the BAIL archive when the program does
 * not define prtos_image_hdr itself, so a program-defined header (with
 * custom files, example.005) replaces it instead of clashing with it.
 */
#include <prtos.h>

#define BAIL_PAGE_TABLE_SIZE (CONFIG_SIZE_PAGE_TABLE * PAGE_SIZE)

/* Reserved for the hypervisor's use; never cleared, never touched by BAIL. */
static prtos_u8_t bail_page_table[BAIL_PAGE_TABLE_SIZE]
    __attribute__((aligned(PAGE_SIZE), section(".bss.noinit")));

struct prtos_image_hdr prtos_image_hdr __PRTOS_IMAGE_HDR = {
    PRTOS_EXEC_PARTITION_MAGIC,
    PRTOS_SET_VERSION(PRTOS_ABI_VERSION, PRTOS_ABI_SUBVERSION, PRTOS_ABI_REVISION),
    PRTOS_SET_VERSION(PRTOS_API_VERSION, PRTOS_API_SUBVERSION, PRTOS_API_REVISION),
    (prtos_address_t)bail_page_table,
    BAIL_PAGE_TABLE_SIZE,
    0,
    {{0, 0}, {0, 0}, {0, 0}},
    PRTOS_EXEC_PARTITION_MAGIC,
};
