/* ud2 in every round: X86_INVALID_OPCODE. */
#define FAULT_TRAP 6
#define FAULT() asm volatile("ud2")
#include "hm_common.c"
