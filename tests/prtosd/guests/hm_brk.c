/* int3 in every round: X86_BREAKPOINT (a trap, execution resumes after it). */
#define FAULT_TRAP 3
#define FAULT() asm volatile("int3")
#include "hm_common.c"
