/*
 * string.c - BAIL's memory and string functions (partition-api.md 16.1).
 *
 * The compiler may emit calls to memcpy/memset/memmove for structure copies
 * even in freestanding code, so these must always exist. Byte loops keep
 * them obviously correct; the partition code that uses them is small.
 */
#include <string.h>

void *memset(void *dst, prtos_s32_t c, prtos_u32_t n) {
    unsigned char *d = dst;

    while (n--) *d++ = (unsigned char)c;
    return dst;
}

void *memcpy(void *dst, const void *src, prtos_u32_t n) {
    unsigned char *d = dst;
    const unsigned char *s = src;

    while (n--) *d++ = *s++;
    return dst;
}

void *memmove(void *dst, const void *src, prtos_u_size_t n) {
    unsigned char *d = dst;
    const unsigned char *s = src;

    if (d == s || n == 0) return dst;
    if (d < s || d >= s + n) {
        while (n--) *d++ = *s++;
    } else {
        d += n;
        s += n;
        while (n--) *--d = *--s;
    }
    return dst;
}

prtos_s32_t memcmp(const void *a, const void *b, prtos_u32_t n) {
    const unsigned char *p = a, *q = b;

    for (; n; n--, p++, q++) {
        if (*p != *q) return (prtos_s32_t)*p - (prtos_s32_t)*q;
    }
    return 0;
}

char *strcpy(char *dst, const char *src) {
    char *d = dst;

    while ((*d++ = *src++) != 0) {
    }
    return dst;
}

/* Zero-fills up to n and always terminates: d[n-1] = 0 when src was too long (K-12). */
char *strncpy(char *dst, const char *src, prtos_u_size_t n) {
    prtos_u_size_t i = 0;

    for (; i < n && src[i]; i++) dst[i] = src[i];
    if (i == n && n > 0) {
        dst[n - 1] = 0;
        return dst;
    }
    for (; i < n; i++) dst[i] = 0;
    return dst;
}

char *strcat(char *dst, const char *src) {
    strcpy(dst + strlen(dst), src);
    return dst;
}

char *strncat(char *dst, const char *src, prtos_u_size_t n) {
    char *d = dst + strlen(dst);

    while (n-- && *src) *d++ = *src++;
    *d = 0;
    return dst;
}

prtos_s32_t strcmp(const char *a, const char *b) {
    const unsigned char *p = (const unsigned char *)a, *q = (const unsigned char *)b;

    while (*p && *p == *q) {
        p++;
        q++;
    }
    return (prtos_s32_t)*p - (prtos_s32_t)*q;
}

prtos_s32_t strncmp(const char *a, const char *b, prtos_u_size_t n) {
    const unsigned char *p = (const unsigned char *)a, *q = (const unsigned char *)b;

    for (; n; n--, p++, q++) {
        if (*p != *q || !*p) return (prtos_s32_t)*p - (prtos_s32_t)*q;
    }
    return 0;
}

/* strlen(NULL) is 0, as upstream (K-13). */
prtos_u32_t strlen(const char *s) {
    prtos_u32_t n = 0;

    if (!s) return 0;
    while (s[n]) n++;
    return n;
}

char *strchr(const char *s, prtos_s32_t c) {
    for (;; s++) {
        if (*s == (char)c) return (char *)s;
        if (!*s) return NULL;
    }
}

char *strrchr(const char *s, prtos_s32_t c) {
    const char *found = NULL;

    for (;; s++) {
        if (*s == (char)c) found = s;
        if (!*s) return (char *)found;
    }
}

char *strstr(const char *haystack, const char *needle) {
    prtos_u32_t n = strlen(needle);

    if (!n) return (char *)haystack;
    for (; *haystack; haystack++) {
        if (*haystack == *needle && !strncmp(haystack, needle, n)) return (char *)haystack;
    }
    return NULL;
}
