/*
 * System partition of the port-credit tests: queuing sends that run the channel full in the
 * middle of a slot, error cases between successful sends (bad pointer, sizes, a foreign port),
 * a short receive buffer, a partition reset and halt of the peer and one warm system reset, each
 * in a slot that also has calls a credit may cover.
 */
#include <stdio.h>
#include <string.h>
#include <prtos.h>

static char m[16], in[16];

static prtos_s32_t send(prtos_s32_t q, char c, int len)
{
    memset(m, c, sizeof(m));
    return prtos_send_queuing_message(q, m, len);
}

void partition_main(void)
{
    prtos_sys_status_t st;
    prtos_s32_t q, r, x[8];
    int i;

    prtos_get_system_status(&st);
    q = prtos_create_queuing_port("qS", 4, 16, PRTOS_SOURCE_PORT);
    r = prtos_create_queuing_port("rD", 4, 16, PRTOS_DESTINATION_PORT);
    printf("[0] boot %d create %d %d\n", (int)st.reset_counter, q, r);
    for (i = 0; i < 6; i++)
        x[i] = send(q, 'a' + i, 10 + i); /* the fifth finds the channel full */
    printf("[0] sends %d %d %d %d %d %d bitmap %x\n", x[0], x[1], x[2], x[3], x[4], x[5],
           (unsigned)prtos_get_commport_bitmap()[0]);
    prtos_idle_self();

    x[0] = send(q, 'g', 8);
    x[1] = prtos_send_queuing_message(q, (void *)0x10, 8);
    x[2] = send(q, 'h', 0);
    x[3] = send(q, 'h', 17);
    x[4] = prtos_send_queuing_message(q + 1, m, 8);
    x[5] = prtos_send_queuing_message(q | (3 << 10), m, 8);
    x[6] = send(q, 'i', 8);
    x[7] = send(q, 'j', 8);
    printf("[0] mixed %d %d %d %d %d %d %d %d\n", x[0], x[1], x[2], x[3], x[4], x[5], x[6], x[7]);
    x[0] = prtos_receive_queuing_message(r, in, 3);
    x[1] = prtos_receive_queuing_message(r, (void *)0x10, 16);
    x[2] = prtos_receive_queuing_message(r, in + 3, 16);
    x[3] = prtos_receive_queuing_message(r, in + 3, 16);
    x[4] = prtos_receive_queuing_message(r, in + 3, 16);
    in[15] = 0;
    printf("[0] received %d %d %d %d %d '%.3s' bitmap %x\n", x[0], x[1], x[2], x[3], x[4], in,
           (unsigned)prtos_get_commport_bitmap()[0]);
    prtos_idle_self();

    x[0] = send(q, 'k', 9);
    x[1] = prtos_reset_partition(1, PRTOS_WARM_RESET, 5);
    x[2] = send(q, 'l', 9);
    printf("[0] around a reset %d %d %d\n", x[0], x[1], x[2]);
    prtos_idle_self();

    x[0] = send(q, 'm', 9);
    x[1] = prtos_halt_partition(1);
    x[2] = send(q, 'n', 9);
    printf("[0] around a halt %d %d %d\n", x[0], x[1], x[2]);
    prtos_idle_self();
    if (st.reset_counter == 0) {
        x[0] = send(q, 'o', 9);
        printf("[0] warm system reset after %d\n", x[0]);
        prtos_reset_system(PRTOS_WARM_RESET);
    }
    prtos_halt_system();
}
