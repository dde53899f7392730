/*
 * demo.h - what the demo's partitions share: the console helper and the
 * layout of the messages that travel over the ports.
 */
#ifndef _DEMO_H_
#define _DEMO_H_

#include <stdio.h>
#include <prtos.h>

/* Every console line starts with the partition's name, e.g. "[Sensor] ". */
#define PRINT(...) do { \
        printf("[%s] ", prtos_get_pct0()->name); \
        printf(__VA_ARGS__); \
    } while (0)

/* Sizes and validity agreed in system.xml (the channels' attributes). */
#define MSG_SIZE 32             /* maxMessageLength of both channels */
#define SENSOR_VALID_US 50000   /* validPeriod of the sampling channel: 50 ms */
#define CMD_QUEUE_DEPTH 8       /* maxNoMessages of the queuing channel */

/* Sampling channel sensorOut -> sensorIn. */
struct reading {
    prtos_u32_t seq;            /* counts the Sensor's slots */
    prtos_s32_t temperature;    /* degrees Celsius */
};

/* Queuing channel cmdOut -> cmdIn. */
#define CMD_HEAT 0
#define CMD_HOLD 1
#define CMD_COOL 2

struct command {
    prtos_u32_t seq;            /* the reading this command answers */
    prtos_u32_t action;         /* CMD_HEAT, CMD_HOLD or CMD_COOL */
};

#endif /* _DEMO_H_ */
