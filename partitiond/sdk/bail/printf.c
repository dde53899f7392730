/*
 * printf.c - the printf family (partition-api.md 16.3, D-49..D-51).
 *
 * One formatter feeds three kinds of sink: the console line buffer of the
 * calling vCPU, an unbounded string (sprintf) and a bounded string
 * (snprintf). The formatter always counts every character it produces, so
 * snprintf can return the length the complete output would have had.
 */
#include <limits.h>
#include <prtos.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

extern void __bail_putchar_vcpu(prtos_u32_t vcpu, char c);

enum sink_kind { SINK_CONSOLE, SINK_STRING };

struct sink {
    enum sink_kind kind;
    prtos_u32_t vcpu;     /* SINK_CONSOLE */
    char *buf;            /* SINK_STRING */
    prtos_u32_t room;     /* characters that may still be stored (excluding the NUL) */
    prtos_s32_t count;    /* characters produced so far */
    char last;            /* last character produced */
};

static void put(struct sink *s, char c) {
    s->count++;
    s->last = c;
    if (s->kind == SINK_CONSOLE) {
        __bail_putchar_vcpu(s->vcpu, c);
    } else if (s->room) {
        *s->buf++ = c;
        s->room--;
    }
}

static void put_repeat(struct sink *s, char c, prtos_s32_t n) {
    while (n-- > 0) put(s, c);
}

#define F_LEFT 0x01
#define F_ZERO 0x02
#define F_SPACE 0x04
#define F_PLUS 0x08
#define F_ALT 0x10

/* Length modifiers. */
enum { LEN_INT, LEN_CHAR, LEN_SHORT, LEN_LONG, LEN_LLONG };

/*
 * Writes one integer conversion: `neg` and `mag` are the sign and magnitude,
 * `prec` < 0 means no precision was given.
 */
static void put_integer(struct sink *s, prtos_u64_t mag, int neg, prtos_u32_t base, int upper, int is_signed,
                        prtos_u32_t flags, prtos_s32_t width, prtos_s32_t prec) {
    const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    char tmp[24];
    prtos_s32_t n = 0, zeros, pad;
    const char *prefix = "";
    prtos_s32_t prefix_len = 0;
    char sign = 0;

    if (mag <= 0xFFFFFFFFULL) {
        prtos_u32_t m = (prtos_u32_t)mag;
        while (m) {
            tmp[n++] = digits[m % base];
            m /= base;
        }
    } else {
        while (mag) {
            tmp[n++] = digits[mag % base];
            mag /= base;
        }
    }
    /* C99: the default precision is 1; precision 0 prints nothing for 0. */
    if (prec < 0) prec = 1;
    zeros = prec > n ? prec - n : 0;
    if (flags & F_ALT) {
        if (base == 8 && zeros == 0 && (n == 0 || tmp[n - 1] != '0')) zeros = 1;
        if (base == 16 && n > 0) {
            prefix = upper ? "0X" : "0x";
            prefix_len = 2;
        }
    }
    if (is_signed) {
        if (neg)
            sign = '-';
        else if (flags & F_PLUS)
            sign = '+';
        else if (flags & F_SPACE)
            sign = ' ';
    }
    pad = width - (n + zeros + prefix_len + (sign ? 1 : 0));
    if (pad < 0) pad = 0;
    if (!(flags & F_LEFT) && !(flags & F_ZERO)) put_repeat(s, ' ', pad);
    if (sign) put(s, sign);
    while (prefix_len-- > 0) put(s, *prefix++);
    if (!(flags & F_LEFT) && (flags & F_ZERO)) put_repeat(s, '0', pad);
    put_repeat(s, '0', zeros);
    while (n > 0) put(s, tmp[--n]);
    if (flags & F_LEFT) put_repeat(s, ' ', pad);
}

static void put_padded(struct sink *s, const char *str, prtos_s32_t len, prtos_u32_t flags, prtos_s32_t width) {
    prtos_s32_t pad = width > len ? width - len : 0;

    if (!(flags & F_LEFT)) put_repeat(s, ' ', pad);
    while (len-- > 0) put(s, *str++);
    if (flags & F_LEFT) put_repeat(s, ' ', pad);
}

/* The C99 formatter. `ap` is consumed through the pointer so callers may share it. */
static prtos_s32_t format(struct sink *s, const char *fmt, va_list *ap) {
    if (!fmt) return 0;
    while (*fmt) {
        prtos_u32_t flags = 0;
        prtos_s32_t width = 0, prec = -1;
        int len = LEN_INT;
        char conv;

        if (*fmt != '%') {
            put(s, *fmt++);
            continue;
        }
        fmt++;
        for (;; fmt++) {
            if (*fmt == '-')
                flags |= F_LEFT;
            else if (*fmt == '0')
                flags |= F_ZERO;
            else if (*fmt == ' ')
                flags |= F_SPACE;
            else if (*fmt == '+')
                flags |= F_PLUS;
            else if (*fmt == '#')
                flags |= F_ALT;
            else
                break;
        }
        if (*fmt == '*') {
            width = va_arg(*ap, int);
            if (width < 0) {
                flags |= F_LEFT;
                width = width == INT_MIN ? INT_MAX : -width;
            }
            fmt++;
        } else {
            while (*fmt >= '0' && *fmt <= '9') width = width * 10 + (*fmt++ - '0');
        }
        if (*fmt == '.') {
            fmt++;
            prec = 0;
            if (*fmt == '*') {
                prec = va_arg(*ap, int);
                if (prec < 0) prec = -1;
                fmt++;
            } else {
                while (*fmt >= '0' && *fmt <= '9') prec = prec * 10 + (*fmt++ - '0');
            }
        }
        switch (*fmt) {
            case 'h':
                fmt++;
                len = LEN_SHORT;
                if (*fmt == 'h') {
                    fmt++;
                    len = LEN_CHAR;
                }
                break;
            case 'l':
                fmt++;
                len = LEN_LONG;
                if (*fmt == 'l') {
                    fmt++;
                    len = LEN_LLONG;
                }
                break;
            case 'L': /* upstream spelling of l: 32 bits */
            case 'z':
            case 't':
                fmt++;
                len = LEN_LONG;
                break;
            case 'j':
                fmt++;
                len = LEN_LLONG;
                break;
            default:
                break;
        }
        conv = *fmt;
        if (!conv) break;
        fmt++;
        if (flags & F_LEFT) flags &= ~F_ZERO;
        switch (conv) {
            case 'd':
            case 'i':
            case 'D':
            case 'I': {
                prtos_s64_t v;
                prtos_u64_t mag;

                if (len == LEN_LLONG)
                    v = va_arg(*ap, prtos_s64_t);
                else if (len == LEN_LONG)
                    v = va_arg(*ap, long);
                else
                    v = va_arg(*ap, int);
                if (len == LEN_CHAR) v = (signed char)v;
                if (len == LEN_SHORT) v = (short)v;
                if (prec >= 0) flags &= ~F_ZERO;
                mag = v < 0 ? (prtos_u64_t)0 - (prtos_u64_t)v : (prtos_u64_t)v;
                put_integer(s, mag, v < 0, 10, 0, 1, flags, width, prec);
                break;
            }
            case 'u':
            case 'U':
            case 'o':
            case 'x':
            case 'X': {
                prtos_u64_t v;
                prtos_u32_t base = conv == 'o' ? 8 : (conv == 'x' || conv == 'X') ? 16 : 10;

                if (len == LEN_LLONG)
                    v = va_arg(*ap, prtos_u64_t);
                else if (len == LEN_LONG)
                    v = va_arg(*ap, unsigned long);
                else
                    v = va_arg(*ap, unsigned int);
                if (len == LEN_CHAR) v = (unsigned char)v;
                if (len == LEN_SHORT) v = (unsigned short)v;
                if (prec >= 0) flags &= ~F_ZERO;
                put_integer(s, v, 0, base, conv == 'X', 0, flags, width, prec);
                break;
            }
            case 'p': {
                prtos_u32_t v = (prtos_u32_t)va_arg(*ap, void *);
                char tmp[10];
                int i;

                tmp[0] = '0';
                tmp[1] = 'x';
                for (i = 9; i >= 2; i--) {
                    tmp[i] = "0123456789abcdef"[v & 0xF];
                    v >>= 4;
                }
                put_padded(s, tmp, 10, flags, width);
                break;
            }
            case 'c':
            case 'C': {
                char c = (char)va_arg(*ap, int);

                put_padded(s, &c, 1, flags, width);
                break;
            }
            case 's':
            case 'S': {
                const char *str = va_arg(*ap, const char *);
                prtos_s32_t n = 0;

                if (!str) str = "(null)";
                while ((prec < 0 || n < prec) && str[n]) n++;
                put_padded(s, str, n, flags, width);
                break;
            }
            case '%':
                put(s, '%');
                break;
            default:
                /* Unknown conversion: print it, take no argument (upstream behaviour). */
                put(s, conv);
                break;
        }
    }
    return s->count;
}

static prtos_s32_t console_vprintf(const char *fmt, va_list ap, char *last) {
    struct sink s;
    va_list aq;
    prtos_s32_t r;

    s.kind = SINK_CONSOLE;
    s.vcpu = prtos_get_vcpuid();
    s.buf = 0;
    s.room = 0;
    s.count = 0;
    s.last = 0;
    va_copy(aq, ap);
    r = format(&s, fmt, &aq);
    va_end(aq);
    if (last) *last = s.last;
    return r;
}

prtos_s32_t vprintf(const char *fmt, va_list ap) {
    return console_vprintf(fmt, ap, 0);
}

/* vprintf for bail_halt: returns the last character printed (0 if none). */
prtos_s32_t __bail_vprintf_msg(const char *fmt, va_list ap) {
    char last = 0;

    console_vprintf(fmt, ap, &last);
    return last;
}

prtos_s32_t printf(const char *fmt, ...) {
    va_list ap;
    prtos_s32_t r;

    va_start(ap, fmt);
    r = console_vprintf(fmt, ap, 0);
    va_end(ap);
    return r;
}

prtos_s32_t vsnprintf(char *str, prtos_s32_t n, const char *fmt, va_list ap) {
    struct sink s;
    va_list aq;
    prtos_s32_t r;

    s.kind = SINK_STRING;
    s.vcpu = 0;
    s.buf = str;
    s.room = (n > 0 && str) ? (prtos_u32_t)n - 1 : 0;
    s.count = 0;
    s.last = 0;
    va_copy(aq, ap);
    r = format(&s, fmt, &aq);
    va_end(aq);
    if (n > 0 && str) *s.buf = 0;
    return r;
}

prtos_s32_t vsprintf(char *str, const char *fmt, va_list ap) {
    return vsnprintf(str, INT_MAX, fmt, ap);
}

prtos_s32_t snprintf(char *str, prtos_s32_t n, const char *fmt, ...) {
    va_list ap;
    prtos_s32_t r;

    va_start(ap, fmt);
    r = vsnprintf(str, n, fmt, ap);
    va_end(ap);
    return r;
}

prtos_s32_t sprintf(char *str, const char *fmt, ...) {
    va_list ap;
    prtos_s32_t r;

    va_start(ap, fmt);
    r = vsnprintf(str, INT_MAX, fmt, ap);
    va_end(ap);
    return r;
}
