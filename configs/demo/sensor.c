/*
 * demo, Sensor - publishes one temperature reading per slot.
 *
 * The readings come from a fixed table (a real sensor would read hardware).
 * The sampling port always holds the latest one; it stays valid for 50 ms.
 */
#include <string.h>
#include "demo.h"

static const prtos_s32_t samples[] = { 18, 19, 21, 23, 24, 22, 20, 19 };
#define NUM_SAMPLES (sizeof(samples) / sizeof(samples[0]))

void partition_main(void)
{
    char msg[MSG_SIZE];
    struct reading r;
    prtos_s32_t port, ret;

    port = prtos_create_sampling_port("sensorOut", MSG_SIZE, PRTOS_SOURCE_PORT, SENSOR_VALID_US);
    if (port < 0) {
        PRINT("cannot open sensorOut (error %d)\n", port);
        return;
    }

    for (r.seq = 0;; r.seq++) {
        r.temperature = samples[r.seq % NUM_SAMPLES];
        memset(msg, 0, sizeof(msg));
        memcpy(msg, &r, sizeof(r));
        ret = prtos_write_sampling_message(port, msg, sizeof(msg));
        if (ret < 0)
            PRINT("write failed (error %d)\n", ret);
        else
            PRINT("reading #%d: %d C\n", r.seq, r.temperature);
        prtos_idle_self();
    }
}
