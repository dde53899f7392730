/* A read at 0xFC000000 (the hypervisor window) in every round: MEM_PROTECTION. */
#define FAULT_TRAP 14
#define FAULT() (void)*(volatile prtos_u32_t *)0xFC000000
#include "hm_common.c"
