/* Sends as many 32-byte messages as the queue takes in each of its slots. */
#include <string.h>
#include <prtos.h>

void partition_main(void)
{
    char msg[32];
    prtos_s32_t port = prtos_create_queuing_port("q", 64, 32, PRTOS_SOURCE_PORT);
    memset(msg, 'x', sizeof(msg));
    for (;;) {
        while (prtos_send_queuing_message(port, msg, sizeof(msg)) == PRTOS_OK)
            ;
        prtos_idle_self();
    }
}
