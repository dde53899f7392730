/*
 * example.004, Partition1 - receives on both ports.
 *
 * Port interrupts tell it that a message has arrived. For every queuing
 * message it also writes a counter to the memory area it shares with
 * Partition2.
 */
#include <stdio.h>
#include <prtos.h>
#include <irqs.h>

#define PRINT(...) do { \
        printf("[%d] ", PRTOS_PARTITION_SELF); \
        printf(__VA_ARGS__); \
    } while (0)

#define MAX_MSGS 16
#define MAX_MSG_SIZE 128
#define MSG_SIZE 32
#define SHARED_ADDR 0x6300000

static prtos_s32_t port_q, port_s;
static prtos_u32_t shm_counter = 0;

static void sampling_handler(trap_ctxt_t *ctxt)
{
    char buffer[MSG_SIZE];
    prtos_u32_t flags;

    if (prtos_read_sampling_message(port_s, buffer, sizeof(buffer), &flags) > 0)
        PRINT("RECEIVE %s\n", buffer);
}

static void queuing_handler(trap_ctxt_t *ctxt)
{
    char buffer[MSG_SIZE];

    if (prtos_receive_queuing_message(port_q, buffer, sizeof(buffer)) > 0) {
        PRINT("RECEIVE %s\n", buffer);
        PRINT("SHM WRITE %d\n", shm_counter);
        *(volatile prtos_u32_t *)SHARED_ADDR = shm_counter;
        shm_counter++;
    }
}

void partition_main(void)
{
    PRINT("Opening ports...\n");
    port_q = prtos_create_queuing_port("portQ", MAX_MSGS, MAX_MSG_SIZE, PRTOS_DESTINATION_PORT);
    if (port_q < 0) {
        PRINT("error %d\n", port_q);
        prtos_halt_partition(PRTOS_PARTITION_SELF);
    }
    port_s = prtos_create_sampling_port("portS", MAX_MSG_SIZE, PRTOS_DESTINATION_PORT, 0);
    if (port_s < 0) {
        PRINT("error %d\n", port_s);
        prtos_halt_partition(PRTOS_PARTITION_SELF);
    }
    PRINT("done\n");

    install_trap_handler(BAIL_PRTOSEXT_TRAP(PRTOS_VT_EXT_SAMPLING_PORT), sampling_handler);
    install_trap_handler(BAIL_PRTOSEXT_TRAP(PRTOS_VT_EXT_QUEUING_PORT), queuing_handler);
    hw_sti();
    prtos_clear_irqmask(0, (1 << PRTOS_VT_EXT_SAMPLING_PORT) | (1 << PRTOS_VT_EXT_QUEUING_PORT));

    PRINT("Waiting for messages\n");
    while (1)
        ;
}
