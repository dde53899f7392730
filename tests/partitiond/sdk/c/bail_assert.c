/*
 * bail_assert.c - with _DEBUG_ a failed assert() halts through line_halt
 * with file, line and expression; without it, assert() does nothing.
 */
#include <assert.h>
#include <stdio.h>
#include <irqs.h>

void partition_main(void) {
    int two = 2;

    assert(two == 2);
    printf("passed\n");
    assert(two == 3);
    printf("not debug\n");
}
