/*
 * config.h - BAIL build-time constants: the CONFIG_* values of the x86
 * reference build and the per-vCPU stack size of the start-up code.
 */
#ifndef _BAIL_CONFIG_H_
#define _BAIL_CONFIG_H_

#include <autoconf.h>

/* Stack of each vCPU, set up by the start-up code (start.S uses it too). */
#define STACK_SIZE (CONFIG_STACK_KB * 1024)

/* Bytes of the per-vCPU console line buffer of putchar(). */
#define BAIL_LINE_BUFFER_SIZE 4096

#endif /* _BAIL_CONFIG_H_ */
