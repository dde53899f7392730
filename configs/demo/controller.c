/*
 * demo, Controller - turns sensor readings into commands for the Actuator.
 *
 * Each slot it reads the latest reading, decides HEAT, HOLD or COOL and
 * queues the command. In its fourth slot it runs a faulty computation (a
 * division by zero): the health monitor logs the fault and propagates it
 * to the partition, whose trap handler skips the division. The Monitor then
 * takes the Controller out of service.
 */
#include <string.h>
#include <irqs.h>
#include "demo.h"

#define TARGET_LOW 20   /* below: heat */
#define TARGET_HIGH 22  /* above: cool */
#define FAULT_AT_SLOT 3

static const char *const action_names[] = { "HEAT", "HOLD", "COOL" };

/* Where execution continues after the faulting division. */
static volatile prtos_u32_t resume_ip;

static void divide_error_handler(trap_ctxt_t *ctxt)
{
    PRINT("divide error trapped, skipping the faulty computation\n");
    ctxt->ip = resume_ip;
}

static void faulty_computation(void)
{
    volatile prtos_s32_t divisor = 0;
    volatile prtos_s32_t gain;

    PRINT("injected fault: dividing by zero\n");
    resume_ip = (prtos_u32_t)&&after_division;
    gain = 100 / divisor;
after_division:
    (void)gain;
}

void partition_main(void)
{
    char msg[MSG_SIZE];
    struct reading r;
    struct command cmd;
    prtos_s32_t sensor_port, cmd_port, slot, ret;
    prtos_u32_t flags;

    sensor_port = prtos_create_sampling_port("sensorIn", MSG_SIZE, PRTOS_DESTINATION_PORT, SENSOR_VALID_US);
    cmd_port = prtos_create_queuing_port("cmdOut", CMD_QUEUE_DEPTH, MSG_SIZE, PRTOS_SOURCE_PORT);
    if (sensor_port < 0 || cmd_port < 0) {
        PRINT("cannot open ports (errors %d, %d)\n", sensor_port, cmd_port);
        return;
    }
    install_trap_handler(0, divide_error_handler);

    for (slot = 0;; slot++) {
        ret = prtos_read_sampling_message(sensor_port, msg, sizeof(msg), &flags);
        if (ret < (prtos_s32_t)sizeof(r) || !(flags & PRTOS_COMM_MSG_VALID)) {
            PRINT("no valid reading\n");
        } else {
            memcpy(&r, msg, sizeof(r));
            cmd.seq = r.seq;
            if (r.temperature < TARGET_LOW)
                cmd.action = CMD_HEAT;
            else if (r.temperature > TARGET_HIGH)
                cmd.action = CMD_COOL;
            else
                cmd.action = CMD_HOLD;
            memset(msg, 0, sizeof(msg));
            memcpy(msg, &cmd, sizeof(cmd));
            ret = prtos_send_queuing_message(cmd_port, msg, sizeof(msg));
            if (ret < 0)
                PRINT("send failed (error %d)\n", ret);
            else
                PRINT("reading #%d is %d C -> %s\n", r.seq, r.temperature, action_names[cmd.action]);
        }
        if (slot == FAULT_AT_SLOT)
            faulty_computation();
        prtos_idle_self();
    }
}
