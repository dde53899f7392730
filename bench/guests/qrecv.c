/* Drains its queuing port in each of its slots and counts the messages. */
#include <stdio.h>
#include <prtos.h>

void partition_main(void)
{
    char msg[32];
    unsigned long long total = 0;
    prtos_s32_t port = prtos_create_queuing_port("q", 64, 32, PRTOS_DESTINATION_PORT);
    for (;;) {
        while (prtos_receive_queuing_message(port, msg, sizeof(msg)) > 0)
            total++;
        printf("received %llu\n", total);
        prtos_idle_self();
    }
}
