/*
 * libc_string.c - string.h of BAIL's libc (partition-api.md 16.1). Each
 * line is "name=result"; the test compares them with the C semantics.
 */
#include <stdio.h>
#include <string.h>
#include <irqs.h>

static int sign(int v) {
    return v < 0 ? -1 : v > 0;
}

/* Prints n bytes, '.' for NUL, so that fills and terminators are visible. */
static void show(const char *name, const char *buf, int n) {
    int i;

    printf("%s=", name);
    for (i = 0; i < n; i++) putchar(buf[i] ? buf[i] : '.');
    putchar('\n');
}

void partition_main(void) {
    char buf[32];
    char *r;

    memset(buf, 'X', sizeof(buf));
    strcpy(buf, "0123456789");
    memmove(buf + 2, buf, 5);
    show("memmove_up", buf, 11);
    strcpy(buf, "0123456789");
    memmove(buf, buf + 3, 5);
    show("memmove_down", buf, 11);
    r = memmove(buf, buf, 4);
    printf("memmove_ret=%d\n", r == buf);

    memset(buf, 'X', sizeof(buf));
    r = memcpy(buf, "abc", 3);
    show("memcpy", buf, 5);
    printf("memcpy_ret=%d\n", r == buf);
    r = memset(buf, 0x41, 3);
    show("memset", buf, 5);

    printf("memcmp=%d %d %d %d\n", sign(memcmp("\x80", "\x01", 1)), sign(memcmp("ab", "ab", 2)),
           sign(memcmp("ab", "ac", 2)), sign(memcmp("ab", "ac", 1)));
    printf("strcmp=%d %d %d %d %d\n", sign(strcmp("\xff", "a")), sign(strcmp("abc", "abc")), sign(strcmp("ab", "abc")),
           sign(strcmp("b", "abc")), sign(strcmp("", "")));
    printf("strncmp=%d %d %d\n", sign(strncmp("abcd", "abce", 3)), sign(strncmp("abcd", "abce", 4)),
           sign(strncmp("\x90", "\x10", 1)));

    memset(buf, 'X', sizeof(buf));
    strncpy(buf, "abcdef", 4);
    show("strncpy_trunc", buf, 6);
    memset(buf, 'X', sizeof(buf));
    strncpy(buf, "ab", 5);
    show("strncpy_fill", buf, 6);
    memset(buf, 'X', sizeof(buf));
    strncpy(buf, "abcd", 4);
    show("strncpy_exact", buf, 6);

    memset(buf, 'X', sizeof(buf));
    strcpy(buf, "ab");
    strcat(buf, "cd");
    show("strcat", buf, 6);
    strncat(buf, "efgh", 2);
    show("strncat", buf, 8);
    strncat(buf, "", 5);
    show("strncat_empty", buf, 8);

    printf("strlen=%u %u %u\n", strlen("hello"), strlen(""), strlen(NULL));
    r = "hello world";
    printf("strchr=%d %d %d\n", (int)(strchr(r, 'o') - r), strchr(r, 'z') == NULL, (int)(strchr(r, 0) - r));
    printf("strrchr=%d %d %d\n", (int)(strrchr(r, 'o') - r), strrchr(r, 'z') == NULL, (int)(strrchr(r, 0) - r));
    printf("strstr=%d %d %d %d\n", (int)(strstr(r, "wor") - r), strstr(r, "word") == NULL, (int)(strstr(r, "") - r),
           (int)(strstr(r, "o w") - r));
}
