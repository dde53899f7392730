/*
 * Entry points for the emulated-call tests: the header-only PCT accessors
 * are static inline, so they are wrapped here to be callable by address.
 */
#include <prtos.h>

prtos_s32_t harness_partition_self(void);
prtos_s32_t harness_partition_self(void) {
    return PRTOS_PARTITION_SELF;
}

prtos_s32_t harness_vcpu_self(void);
prtos_s32_t harness_vcpu_self(void) {
    return PRTOS_VCPU_SELF;
}

prtos_u32_t harness_number_vcpus(void);
prtos_u32_t harness_number_vcpus(void) {
    return prtos_get_number_vcpus();
}
