/*
 * vcpus.c - starting the secondary vCPUs (partition-api.md 15.3).
 *
 * The kernel only starts vCPU 0; the others stay halted until vCPU 0 resets
 * them at BAIL's entry point, where they run the start-up sequence without
 * clearing .bss and enter partition_main themselves.
 */
#include <bail.h>
#include <prtos.h>

extern void start(void);
extern struct prtos_image_hdr prtos_image_hdr;

void setup_vcpus(void) {
    prtos_u32_t i, n;

    if (prtos_get_vcpuid() != 0) return;
    n = prtos_get_number_vcpus();
    for (i = 1; i < n; i++) prtos_reset_vcpu(i, prtos_image_hdr.page_table, (prtos_address_t)start, 0);
}
