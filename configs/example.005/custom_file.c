/*
 * example.005, Partition0 - a custom file loaded with the image.
 *
 * The program declares its own image header with one custom-file slot: a
 * 2048-byte buffer in section .custom. The loader copies the custom file
 * into that buffer before the partition starts; the program prints it.
 */
#include <stdio.h>
#include <prtos.h>

#define PRINT(...) do { \
        printf("[%d] ", PRTOS_PARTITION_SELF); \
        printf(__VA_ARGS__); \
    } while (0)

#define CUSTOM_FILE_SIZE 2048
#define PAGE_TABLE_SIZE (CONFIG_SIZE_PAGE_TABLE * PAGE_SIZE)

/* Filled by the loader; the zeros after the file's contents end the string. */
char custom_file[CUSTOM_FILE_SIZE] __attribute__((section(".custom"))) = { 0 };

/* Reserved for the hypervisor, like the one in BAIL's default header. */
static prtos_u8_t page_table[PAGE_TABLE_SIZE]
    __attribute__((aligned(PAGE_SIZE), section(".bss.noinit")));

struct prtos_image_hdr prtos_image_hdr __PRTOS_IMAGE_HDR = {
    PRTOS_EXEC_PARTITION_MAGIC,
    PRTOS_SET_VERSION(PRTOS_ABI_VERSION, PRTOS_ABI_SUBVERSION, PRTOS_ABI_REVISION),
    PRTOS_SET_VERSION(PRTOS_API_VERSION, PRTOS_API_SUBVERSION, PRTOS_API_REVISION),
    (prtos_address_t)page_table,
    PAGE_TABLE_SIZE,
    1,
    {
        { (prtos_address_t)custom_file, CUSTOM_FILE_SIZE },
    },
    PRTOS_EXEC_PARTITION_MAGIC,
};

void partition_main(void)
{
    PRINT("----- Contents of the Custom File -----\n");
    PRINT("%s\n", custom_file);
    PRINT("----- Contents of the Custom File -----\n");
    PRINT("Verification Passed\n");
    PRINT("Halting\n");
    prtos_halt_partition(PRTOS_PARTITION_SELF);
}
