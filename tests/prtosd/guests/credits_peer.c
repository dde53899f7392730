/*
 * Receiver of the port-credit tests: drains its queuing port in each slot (a short buffer, a
 * bad pointer and an empty channel among the calls) and sends a few messages back.
 */
#include <stdio.h>
#include <string.h>
#include <prtos.h>

void partition_main(void)
{
    char in[16], m[16];
    prtos_s32_t q, r, x[4], n;
    int got, i;

    q = prtos_create_queuing_port("qD", 4, 16, PRTOS_DESTINATION_PORT);
    r = prtos_create_queuing_port("rS", 4, 16, PRTOS_SOURCE_PORT);
    printf("[1] start create %d %d status %u\n", q, r, (unsigned)prtos_get_pct()->reset_status);
    for (;;) {
        x[0] = prtos_receive_queuing_message(q, in, 4);
        x[1] = prtos_receive_queuing_message(q, (void *)0x10, 16);
        x[2] = prtos_receive_queuing_message(q, in + 4, 16);
        printf("[1] first %d %d %d '%.4s%c'\n", x[0], x[1], x[2], in, x[2] > 0 ? in[4] : '-');
        for (i = 0; i < 3; i++) {
            memset(m, 'r', sizeof(m));
            m[0] = '1' + i;
            x[i] = prtos_send_queuing_message(r, m, 10);
        }
        for (got = 0; (n = prtos_receive_queuing_message(q, in, 16)) > 0; got++)
            ;
        printf("[1] sent %d %d %d, then received %d (%d) bitmap %x\n", x[0], x[1], x[2], got, n,
               (unsigned)prtos_get_commport_bitmap()[0]);
        prtos_idle_self();
    }
}
