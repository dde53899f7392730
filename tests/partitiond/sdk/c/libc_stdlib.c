/*
 * libc_stdlib.c - number conversion and basename (partition-api.md 16.2,
 * D-53). Each line is "function(i,base)=value end", i indexing inputs[]
 * (the test holds the same list).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ctype.h>
#include <limits.h>
#include <stddef.h>
#include <irqs.h>

static const char *inputs[] = {
    "123", "  -42abc", "+7", "0x1f", "0X1F", "017", "019", "0x", "0xg", "zz", "101",
    "2147483647", "2147483648", "-2147483648", "-2147483649", "99999999999999999999",
    "abc", "", "  +", "4294967295", "4294967296", "-1", "0xFFFFFFFF",
    "9223372036854775807", "9223372036854775808", "-9223372036854775808", "-9223372036854775809",
    "18446744073709551615", "18446744073709551616", "0x7fffffffffffffff", "\t\n 7", "-0",
};
static const int bases[] = {0, 2, 8, 10, 16, 36, 1, 37};

struct pair {
    char a;
    int b;
};

void partition_main(void) {
    unsigned i, j;
    char *end;
    char path1[] = "/a/b/c", path2[] = "c", path3[] = "/a/b/", path4[] = "dir/file.c";

    for (i = 0; i < sizeof(inputs) / sizeof(inputs[0]); i++) {
        const char *s = inputs[i];

        printf("atoi(%u)=%d\n", i, atoi(s));
        for (j = 0; j < sizeof(bases) / sizeof(bases[0]); j++) {
            int b = bases[j];
            long l = strtol(s, &end, b);
            unsigned long ul;
            long long ll;
            unsigned long long ull;

            printf("strtol(%u,%d)=%ld %d\n", i, b, l, (int)(end - s));
            ul = strtoul(s, &end, b);
            printf("strtoul(%u,%d)=%lu %d\n", i, b, ul, (int)(end - s));
            ll = strtoll(s, &end, b);
            printf("strtoll(%u,%d)=%lld %d\n", i, b, ll, (int)(end - s));
            ull = strtoull(s, &end, b);
            printf("strtoull(%u,%d)=%llu %d\n", i, b, ull, (int)(end - s));
        }
    }
    printf("atoi_misc=%d %d %d\n", atoi("08"), atoi("0xfg"), atoi(NULL));
    printf("strtol_null_end=%ld\n", strtol("55", NULL, 10));
    printf("basename=%s|%s|%s|%s\n", basename(path1), basename(path2), basename(path3), basename(path4));
    printf("ctype=%d%d%d%d%d%d%d%d\n", !!isdigit('7'), !!isdigit('a'), !!isspace('\v'), !!isspace('x'),
           !!isxdigit('F'), !!isxdigit('g'), !!isalnum('Z'), !!isalnum('_'));
    printf("limits=%d %d %u %ld %ld %lu\n", INT_MIN, INT_MAX, UINT_MAX, LONG_MIN, LONG_MAX, ULONG_MAX);
    printf("llimits=%lld %lld %llu\n", LLONG_MIN, LLONG_MAX, ULLONG_MAX);
    printf("offsetof=%u\n", (unsigned)offsetof(struct pair, b));
}
