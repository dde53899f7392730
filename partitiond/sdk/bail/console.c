/*
 * console.c - putchar and the per-vCPU console line buffers
 * (partition-api.md 15.5, D-47, D-56).
 *
 * Buffering a whole line makes every printf line a single console write,
 * so lines of different vCPUs and partitions never interleave mid-line.
 * vCPUs of one partition run in parallel, hence one buffer each.
 */
#include <config.h>
#include <prtos.h>
#include <stdio.h>

static struct {
    prtos_u32_t len;
    char buf[BAIL_LINE_BUFFER_SIZE];
} line[CONFIG_MAX_NO_VCPUS];

/* Appends c to the line buffer of vCPU `vcpu`, writing the line out when it ends. */
void __bail_putchar_vcpu(prtos_u32_t vcpu, char c) {
    if (c == 0) return;
    if (vcpu >= CONFIG_MAX_NO_VCPUS) vcpu = 0;
    if (line[vcpu].len >= BAIL_LINE_BUFFER_SIZE) {
        prtos_write_console(line[vcpu].buf, (prtos_s32_t)line[vcpu].len);
        line[vcpu].len = 0;
    }
    line[vcpu].buf[line[vcpu].len++] = c;
    if (c == '\n' || c == '\r') {
        prtos_write_console(line[vcpu].buf, (prtos_s32_t)line[vcpu].len);
        line[vcpu].len = 0;
    }
}

prtos_s32_t putchar(prtos_s32_t c) {
    __bail_putchar_vcpu(prtos_get_vcpuid(), (char)c);
    return c;
}
