/*
 * System partition of the port-reset test: sends one message, warm-resets the receiver (which
 * closes its port), sends another while the port is closed, then halts. Both messages must
 * survive the reset (D-36, K-07).
 */
#include <stdio.h>
#include <string.h>
#include <prtos.h>

void partition_main(void)
{
    char m1[] = "m1", m2[] = "m2";
    prtos_s32_t q = prtos_create_queuing_port("qS", 4, 16, PRTOS_SOURCE_PORT);

    printf("[0] create %d\n", q);
    prtos_idle_self();
    printf("[0] send %d\n", prtos_send_queuing_message(q, m1, sizeof(m1)));
    printf("[0] reset %d\n", prtos_reset_partition(1, PRTOS_WARM_RESET, 7));
    printf("[0] send while closed %d\n", prtos_send_queuing_message(q, m2, sizeof(m2)));
    prtos_idle_self();
    prtos_halt_partition(PRTOS_PARTITION_SELF);
}
