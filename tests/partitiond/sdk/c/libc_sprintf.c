/*
 * libc_sprintf.c - return values, termination and truncation of the string
 * variants of printf (D-49, D-51).
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <irqs.h>

static char big[3000];

static void show(const char *name, int ret, const char *buf, int n) {
    int i;

    printf("%s=%d:", name, ret);
    for (i = 0; i < n; i++) putchar(buf[i] ? buf[i] : '.');
    putchar('\n');
}

static int wrap_vsnprintf(char *s, int n, const char *fmt, ...) {
    va_list ap;
    int r;

    va_start(ap, fmt);
    r = vsnprintf(s, n, fmt, ap);
    va_end(ap);
    return r;
}

static int wrap_vprintf(const char *fmt, ...) {
    va_list ap;
    int r;

    va_start(ap, fmt);
    r = vprintf(fmt, ap);
    va_end(ap);
    return r;
}

void partition_main(void) {
    char buf[16];
    int r;

    memset(buf, 'X', sizeof(buf));
    r = sprintf(buf, "%s-%d", "ab", 12);
    show("sprintf", r, buf, 7);
    memset(buf, 'X', sizeof(buf));
    r = snprintf(buf, 4, "%d", 123456);
    show("snprintf_trunc", r, buf, 6);
    memset(buf, 'X', sizeof(buf));
    r = snprintf(buf, 0, "abc");
    show("snprintf_zero", r, buf, 3);
    memset(buf, 'X', sizeof(buf));
    r = snprintf(buf, 1, "abc");
    show("snprintf_one", r, buf, 3);
    memset(buf, 'X', sizeof(buf));
    r = snprintf(buf, -5, "abc");
    show("snprintf_negative", r, buf, 3);
    r = snprintf(NULL, 0, "%lld", -1234567890123LL);
    printf("snprintf_null=%d\n", r);
    memset(buf, 'X', sizeof(buf));
    r = snprintf(buf, 8, "%s", "1234567");
    show("snprintf_fit", r, buf, 9);
    memset(buf, 'X', sizeof(buf));
    r = wrap_vsnprintf(buf, 5, "%x|%X", 0xabcdef, 0xabcdef);
    show("vsnprintf", r, buf, 7);
    r = sprintf(big, "%2000d", 7);
    printf("sprintf_long=%d %u %c\n", r, strlen(big), big[1999]);
    r = wrap_vprintf("vprintf %s %d", "x", 5);
    printf(" =%d\n", r);
}
