/*
 * bail_console.c - the console line buffer (partition-api.md 15.5): one
 * write per line, long lines split without loss, NUL ignored, CR flushes.
 */
#include <stdio.h>
#include <irqs.h>

void partition_main(void) {
    int i;

    printf("[%d] ", 0);
    printf("first ");
    printf("line\n");
    for (i = 0; i < 10000; i++) putchar('a' + i % 26);
    putchar('\n');
    putchar('x');
    putchar(0);
    printf("=%d\r", putchar('y'));
    printf("%s", "unterminated");
}
