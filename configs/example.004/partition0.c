/*
 * example.004, Partition0 - the sender.
 *
 * Opens a queuing port and a sampling port and, one per slot, writes two
 * sampling messages and sends two queuing messages, alternating.
 */
#include <stdio.h>
#include <string.h>
#include <prtos.h>

#define PRINT(...) do { \
        printf("[%d] ", PRTOS_PARTITION_SELF); \
        printf(__VA_ARGS__); \
    } while (0)

#define MAX_MSGS 16
#define MAX_MSG_SIZE 128
#define MSG_SIZE 32
#define NUM_ROUNDS 2

void partition_main(void)
{
    char buffer[MSG_SIZE];
    prtos_s32_t port_q, port_s, k;

    PRINT("Opening ports...\n");
    port_q = prtos_create_queuing_port("portQ", MAX_MSGS, MAX_MSG_SIZE, PRTOS_SOURCE_PORT);
    if (port_q < 0) {
        PRINT("error %d\n", port_q);
        prtos_halt_partition(PRTOS_PARTITION_SELF);
    }
    port_s = prtos_create_sampling_port("portS", MAX_MSG_SIZE, PRTOS_SOURCE_PORT, 0);
    if (port_s < 0) {
        PRINT("error %d\n", port_s);
        prtos_halt_partition(PRTOS_PARTITION_SELF);
    }
    PRINT("done\n");

    PRINT("Generating messages...\n");
    for (k = 0; k < NUM_ROUNDS; k++) {
        memset(buffer, 0, sizeof(buffer));
        sprintf(buffer, "<<sampling message %d>>", k);
        PRINT("SEND %s\n", buffer);
        prtos_write_sampling_message(port_s, buffer, sizeof(buffer));
        prtos_idle_self();

        memset(buffer, 0, sizeof(buffer));
        sprintf(buffer, "<<queuing message %d>>", k);
        PRINT("SEND %s\n", buffer);
        prtos_send_queuing_message(port_q, buffer, sizeof(buffer));
        prtos_idle_self();
    }

    PRINT("Done\n");
    PRINT("Verification Passed\n");
    PRINT("Halting\n");
    prtos_halt_partition(PRTOS_PARTITION_SELF);
}
