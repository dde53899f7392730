/*
 * stdlib.h - number conversion and process exit for BAIL programs
 * (partition-api.md 16.2). There is no heap.
 */
#ifndef _BAIL_STDLIB_H_
#define _BAIL_STDLIB_H_

#include <stddef.h>
#include <prtos_inc/arch/arch_types.h>

extern prtos_s32_t atoi(const char *s);
extern prtos_s32_t strtol(const char *s, char **end, prtos_s32_t base);
extern prtos_u32_t strtoul(const char *s, char **end, prtos_s32_t base);
extern prtos_s64_t strtoll(const char *s, char **end, prtos_s32_t base);
extern prtos_u64_t strtoull(const char *s, char **end, prtos_s32_t base);
extern char *basename(char *path);
extern void exit(prtos_s32_t status) __attribute__((noreturn));

#endif /* _BAIL_STDLIB_H_ */
