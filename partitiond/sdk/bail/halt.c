/*
 * halt.c - the ways a BAIL program stops: returning from partition_main,
 * exit(), bail_halt() and failed assertions. All of them halt the whole
 * partition; status values are not reported anywhere (D-48).
 */
#include <bail.h>
#include <prtos.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

extern prtos_s32_t __bail_vprintf_msg(const char *fmt, va_list ap);

static void __attribute__((noreturn)) halt_self(void) {
    prtos_halt_partition(PRTOS_PARTITION_SELF);
    for (;;) {
    }
}

/* Called by start.S when partition_main returns. */
void __attribute__((noreturn)) __bail_implicit_halt(void) {
    halt_self();
}

void exit(prtos_s32_t status) {
    (void)status;
    halt_self();
}

/* Prints the message and makes sure the line is complete, so it reaches the console. */
static void print_message(const char *fmt, va_list ap) {
    if (__bail_vprintf_msg(fmt, ap) != '\n') putchar('\n');
}

void bail_halt(char *fmt, ...) {
    va_list ap;

    va_start(ap, fmt);
    print_message(fmt, ap);
    va_end(ap);
    halt_self();
}

void line_halt(char *fmt, ...) {
    va_list ap;

    va_start(ap, fmt);
    print_message(fmt, ap);
    va_end(ap);
    halt_self();
}
