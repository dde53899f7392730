/* A read of an unmapped page in every round: X86_PAGE_FAULT. */
#define FAULT_TRAP 14
#define FAULT() (void)*(volatile prtos_u32_t *)0x10000000
#include "hm_common.c"
