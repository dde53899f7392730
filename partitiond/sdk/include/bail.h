/*
 * bail.h - BAIL runtime services a program may call directly
 * (partition-api.md 15.3, 15.6). Declared here (D-55) so that assert() and
 * multi-vCPU programs compile with a modern compiler.
 */
#ifndef _BAIL_BAIL_H_
#define _BAIL_BAIL_H_

#include <prtos_inc/arch/arch_types.h>

#ifndef __ASSEMBLY__

/* Prints the message (adding a newline if it lacks one) and halts the partition. */
extern void bail_halt(char *fmt, ...) __attribute__((noreturn));
/* Same as bail_halt; the target of failed assertions. */
extern void line_halt(char *fmt, ...) __attribute__((noreturn));
/* On vCPU 0, starts every other vCPU of the partition at the BAIL entry point. */
extern void setup_vcpus(void);

/* The program's entry point, called on every vCPU by the start-up code. */
extern void partition_main(void);

#endif /* __ASSEMBLY__ */

#endif /* _BAIL_BAIL_H_ */
