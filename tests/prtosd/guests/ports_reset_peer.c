/*
 * Receiver of the port-reset test. First run: opens its port and waits. After the warm reset:
 * opens the port again (the same id, not "already open") and finds every message still queued.
 */
#include <stdio.h>
#include <prtos.h>

void partition_main(void)
{
    char buf[16];
    prtos_queuing_port_status_t st;
    prtos_s32_t q, n;
    prtos_u32_t resets = prtos_get_pct0()->reset_counter;

    q = prtos_create_queuing_port("qD", 4, 16, PRTOS_DESTINATION_PORT);
    prtos_get_queuing_port_status(q, &st);
    printf("[1] start %d: create %d queued %d bitmap %x\n", resets, q, st.num_of_msgs,
           (unsigned)prtos_get_commport_bitmap()[0]);
    if (resets == 0) {
        while (1)
            prtos_idle_self();
    }
    while ((n = prtos_receive_queuing_message(q, buf, sizeof(buf))) > 0)
        printf("[1] receive %d '%s'\n", n, buf);
    prtos_halt_partition(PRTOS_PARTITION_SELF);
}
