/*
 * arch/x86/x86_init.c - architecture part of the libprtos start-up.
 */
#include <prtos.h>

/* Nothing to prepare on x86: the ABI needs no per-vCPU set-up in the guest. */
__stdcall void init_arch_libprtos(void) {
}
