/* hlt at privilege level 1 in every round: X86_GENERAL_PROTECTION. */
#define FAULT_TRAP 13
#define FAULT() asm volatile("hlt")
#include "hm_common.c"
