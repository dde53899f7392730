/*
 * stdlib.c - number conversion and basename (partition-api.md 16.2,
 * D-48, D-53). There is no errno: out-of-range values are clamped.
 */
#include <ctype.h>
#include <limits.h>
#include <stdlib.h>

static int digit_value(int c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'z') return c - 'a' + 10;
    if (c >= 'A' && c <= 'Z') return c - 'A' + 10;
    return 99;
}

/*
 * The common part of the strto* family: parses sign and digits and returns
 * the magnitude, saturated at `limit` (the largest magnitude the caller's
 * type can hold for that sign; *overflow is set when it was exceeded).
 */
static prtos_u64_t parse_number(const char *s, char **end, prtos_s32_t base, int is_signed, prtos_u64_t pos_limit,
                                prtos_u64_t neg_limit, int *neg, int *overflow) {
    const char *p = s;
    prtos_u64_t acc = 0, limit;
    int any = 0;

    *neg = 0;
    *overflow = 0;
    if (base < 0 || base == 1 || base > 36) {
        if (end) *end = (char *)s;
        return 0;
    }
    while (isspace((unsigned char)*p)) p++;
    if (*p == '-' || *p == '+') {
        *neg = *p == '-';
        p++;
    }
    if ((base == 0 || base == 16) && p[0] == '0' && (p[1] == 'x' || p[1] == 'X') && digit_value(p[2]) < 16) {
        p += 2;
        base = 16;
    } else if (base == 0) {
        base = p[0] == '0' ? 8 : 10;
    }
    limit = (*neg && is_signed) ? neg_limit : pos_limit;
    for (;; p++) {
        int d = digit_value((unsigned char)*p);

        if (d >= base) break;
        any = 1;
        if (*overflow) continue;
        if (acc > (limit - (prtos_u64_t)d) / (prtos_u64_t)base) {
            *overflow = 1;
            acc = limit;
        } else {
            acc = acc * (prtos_u64_t)base + (prtos_u64_t)d;
        }
    }
    if (end) *end = (char *)(any ? p : s);
    return any ? acc : 0;
}

prtos_s64_t strtoll(const char *s, char **end, prtos_s32_t base) {
    int neg, overflow;
    prtos_u64_t m = parse_number(s, end, base, 1, (prtos_u64_t)LLONG_MAX, (prtos_u64_t)LLONG_MAX + 1, &neg, &overflow);

    return neg ? (prtos_s64_t)(0 - m) : (prtos_s64_t)m;
}

prtos_u64_t strtoull(const char *s, char **end, prtos_s32_t base) {
    int neg, overflow;
    prtos_u64_t m = parse_number(s, end, base, 0, ULLONG_MAX, ULLONG_MAX, &neg, &overflow);

    if (overflow) return ULLONG_MAX;
    return neg ? 0 - m : m;
}

prtos_s32_t strtol(const char *s, char **end, prtos_s32_t base) {
    int neg, overflow;
    prtos_u64_t m = parse_number(s, end, base, 1, (prtos_u64_t)INT_MAX, (prtos_u64_t)INT_MAX + 1, &neg, &overflow);

    return neg ? (prtos_s32_t)(0 - (prtos_u32_t)m) : (prtos_s32_t)m;
}

prtos_u32_t strtoul(const char *s, char **end, prtos_s32_t base) {
    int neg, overflow;
    prtos_u64_t m = parse_number(s, end, base, 0, UINT_MAX, UINT_MAX, &neg, &overflow);

    if (overflow) return UINT_MAX;
    return neg ? 0 - (prtos_u32_t)m : (prtos_u32_t)m;
}

/* Upstream prefix rules (0x: hex, 0: octal), with every hex digit accepted (D-53). */
prtos_s32_t atoi(const char *s) {
    prtos_u32_t acc = 0, base = 10;
    int neg = 0;

    if (!s) return 0;
    while (isspace((unsigned char)*s)) s++;
    if (*s == '-' || *s == '+') {
        neg = *s == '-';
        s++;
    }
    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        base = 16;
        s += 2;
    } else if (s[0] == '0') {
        base = 8;
        s++;
    }
    for (;; s++) {
        int d = digit_value((unsigned char)*s);

        if (d >= (int)base) break;
        acc = acc * base + (prtos_u32_t)d;
    }
    return neg ? (prtos_s32_t)(0 - acc) : (prtos_s32_t)acc;
}

char *basename(char *path) {
    char *p, *last = path;

    if (!path) return path;
    for (p = path; *p; p++) {
        if (*p == '/') last = p + 1;
    }
    return last;
}
