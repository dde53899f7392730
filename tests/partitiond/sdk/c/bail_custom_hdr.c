/*
 * bail_custom_hdr.c - a program-defined image header with one custom file,
 * shaped like example.005: it replaces BAIL's default header.
 */
#include <stdio.h>
#include <irqs.h>

#define CUSTOM_SIZE 2048

char custom_file[CUSTOM_SIZE] __attribute__((section(".custom")));
static prtos_u8_t own_page_table[CONFIG_SIZE_PAGE_TABLE * PAGE_SIZE]
    __attribute__((aligned(PAGE_SIZE), section(".bss.noinit")));

struct prtos_image_hdr prtos_image_hdr __PRTOS_IMAGE_HDR = {
    PRTOS_EXEC_PARTITION_MAGIC,
    PRTOS_SET_VERSION(PRTOS_ABI_VERSION, PRTOS_ABI_SUBVERSION, PRTOS_ABI_REVISION),
    PRTOS_SET_VERSION(PRTOS_API_VERSION, PRTOS_API_SUBVERSION, PRTOS_API_REVISION),
    (prtos_address_t)own_page_table,
    CONFIG_SIZE_PAGE_TABLE * PAGE_SIZE,
    1,
    {{(prtos_address_t)custom_file, CUSTOM_SIZE}},
    PRTOS_EXEC_PARTITION_MAGIC,
};

void partition_main(void) {
    printf("custom=%s\n", custom_file);
}
