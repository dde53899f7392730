/*
 * demo, Actuator - carries out the Controller's commands.
 *
 * Each slot it takes every queued command. When no command has arrived it
 * goes to its safe state (heater and fan off).
 */
#include <string.h>
#include "demo.h"

void partition_main(void)
{
    char msg[MSG_SIZE];
    struct command cmd;
    prtos_s32_t port, received;

    port = prtos_create_queuing_port("cmdIn", CMD_QUEUE_DEPTH, MSG_SIZE, PRTOS_DESTINATION_PORT);
    if (port < 0) {
        PRINT("cannot open cmdIn (error %d)\n", port);
        return;
    }

    while (1) {
        received = 0;
        while (prtos_receive_queuing_message(port, msg, sizeof(msg)) > 0) {
            memcpy(&cmd, msg, sizeof(cmd));
            received++;
            switch (cmd.action) {
            case CMD_HEAT:
                PRINT("command for #%d: heater on\n", cmd.seq);
                break;
            case CMD_COOL:
                PRINT("command for #%d: fan on\n", cmd.seq);
                break;
            default:
                PRINT("command for #%d: all off\n", cmd.seq);
                break;
            }
        }
        if (received == 0)
            PRINT("no command -> safe state, all off\n");
        prtos_idle_self();
    }
}
