/*
 * stdio.h - formatted output of BAIL programs (partition-api.md 16.3).
 *
 * printf and putchar go to the partition's console through a per-vCPU
 * line buffer; the string variants follow C99 (D-49, D-51).
 */
#ifndef _BAIL_STDIO_H_
#define _BAIL_STDIO_H_

#include <stdarg.h>
#include <stddef.h>
#include <prtos_inc/arch/arch_types.h>

#ifndef EOF
#define EOF (-1)
#endif

extern prtos_s32_t printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
extern prtos_s32_t vprintf(const char *fmt, va_list ap);
extern prtos_s32_t sprintf(char *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
extern prtos_s32_t snprintf(char *s, prtos_s32_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
extern prtos_s32_t vsprintf(char *s, const char *fmt, va_list ap);
extern prtos_s32_t vsnprintf(char *s, prtos_s32_t n, const char *fmt, va_list ap);
extern prtos_s32_t putchar(prtos_s32_t c);

#endif /* _BAIL_STDIO_H_ */
