/*
 * Source side of the port test system (partition 0, a system partition).
 * Frame 0: opens its ports and sends before the receiver has opened its own (K-07).
 * Frame 1: fills the queue up to "full", overwrites the sampling message, raises an IPVI and
 * copies a word into the receiver's memory. Frame 2: halts.
 */
#include <stdio.h>
#include <string.h>
#include <prtos.h>

#define COPY_SRC 0x60F0000
#define COPY_DST 0x61F0000

static char buf[16];

static prtos_s32_t send(prtos_s32_t port, const char *text)
{
    memset(buf, 0, sizeof(buf));
    strcpy(buf, text);
    return prtos_send_queuing_message(port, buf, strlen(text) + 1);
}

void partition_main(void)
{
    prtos_s32_t qs, ss, r1, r2, r3, r4;

    qs = prtos_create_queuing_port("qS", 4, 16, PRTOS_SOURCE_PORT);
    ss = prtos_create_sampling_port("sS", 16, PRTOS_SOURCE_PORT, 0);
    printf("[0] create q=%d s=%d\n", qs, ss);
    printf("[0] again %d, wrong type %d, unknown %d\n", prtos_create_sampling_port("sS", 16, PRTOS_SOURCE_PORT, 0),
           prtos_create_sampling_port("qS", 16, PRTOS_SOURCE_PORT, 0),
           prtos_create_queuing_port("nosuch", 4, 16, PRTOS_SOURCE_PORT));
    printf("[0] early send %d\n", send(qs, "q-early"));
    strcpy(buf, "s-early");
    printf("[0] early write %d\n", prtos_write_sampling_message(ss, buf, 8));
    printf("[0] bitmap %x\n", (unsigned)prtos_get_commport_bitmap()[0]);
    prtos_idle_self();

    r1 = send(qs, "q-1");
    r2 = send(qs, "q-2");
    r3 = send(qs, "q-3");
    r4 = send(qs, "q-4");
    printf("[0] send %d %d %d %d full %d\n", r1, r2, r3, r4, send(qs, "q-5"));
    strcpy(buf, "s-1");
    printf("[0] write %d\n", prtos_write_sampling_message(ss, buf, 4));
    *(volatile prtos_u32_t *)COPY_SRC = 0xC0FFEE;
    printf("[0] copy %d\n", prtos_memory_copy(1, COPY_DST, 0, COPY_SRC, 4));
    printf("[0] ipvi %d no route %d not a destination %d\n", prtos_raise_ipvi(PRTOS_VT_EXT_IPVI0),
           prtos_raise_ipvi(PRTOS_VT_EXT_IPVI0 + 1), prtos_raise_partition_ipvi(0, PRTOS_VT_EXT_IPVI0));
    prtos_idle_self();

    prtos_halt_partition(PRTOS_PARTITION_SELF);
}
