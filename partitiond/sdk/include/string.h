/*
 * string.h - BAIL's memory and string functions (partition-api.md 16.1).
 *
 * Sizes keep upstream's prtos_* spellings so that existing code compiles
 * without warnings; comparisons are made on unsigned char (D-52).
 */
#ifndef _BAIL_STRING_H_
#define _BAIL_STRING_H_

#include <stddef.h>
#include <prtos_inc/arch/arch_types.h>

extern void *memset(void *dst, prtos_s32_t c, prtos_u32_t n);
extern void *memcpy(void *dst, const void *src, prtos_u32_t n);
extern void *memmove(void *dst, const void *src, prtos_u_size_t n);
extern prtos_s32_t memcmp(const void *a, const void *b, prtos_u32_t n);
extern char *strcpy(char *dst, const char *src);
extern char *strncpy(char *dst, const char *src, prtos_u_size_t n);
extern char *strcat(char *dst, const char *src);
extern char *strncat(char *dst, const char *src, prtos_u_size_t n);
extern prtos_s32_t strcmp(const char *a, const char *b);
extern prtos_s32_t strncmp(const char *a, const char *b, prtos_u_size_t n);
extern prtos_u32_t strlen(const char *s);
extern char *strchr(const char *s, prtos_s32_t c);
extern char *strrchr(const char *s, prtos_s32_t c);
extern char *strstr(const char *haystack, const char *needle);

#endif /* _BAIL_STRING_H_ */
