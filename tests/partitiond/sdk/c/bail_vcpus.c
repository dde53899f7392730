/*
 * bail_vcpus.c - setup_vcpus() on vCPU 0 resets the other vCPUs at BAIL's
 * entry point; a secondary vCPU runs on its own stack and does not clear
 * .bss (partition-api.md 15.2, 15.3).
 */
#include <config.h>
#include <stdio.h>
#include <irqs.h>

extern char _stack[];
prtos_u32_t marker = 0;
prtos_u32_t bss_marker;

void partition_main(void) {
    char here;
    prtos_u32_t sp = (prtos_u32_t)&here, st = (prtos_u32_t)_stack;
    prtos_u32_t vcpu = prtos_get_vcpuid();

    printf("vcpu=%u self=%u/%u stack=%u bss=%x\n", vcpu, (prtos_u32_t)PRTOS_VCPU_SELF, prtos_get_number_vcpus(),
           (sp - st) / STACK_SIZE, bss_marker);
    setup_vcpus();
}
