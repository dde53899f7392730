/*
 * example.004, Partition2 - receives on the sampling port.
 *
 * On each sampling-port interrupt it prints the message and the counter
 * Partition1 keeps in their shared memory area.
 */
#include <stdio.h>
#include <prtos.h>
#include <irqs.h>

#define PRINT(...) do { \
        printf("[%d] ", PRTOS_PARTITION_SELF); \
        printf(__VA_ARGS__); \
    } while (0)

#define MAX_MSG_SIZE 128
#define MSG_SIZE 32
#define SHARED_ADDR 0x6300000

static prtos_s32_t port_s;

static void sampling_handler(trap_ctxt_t *ctxt)
{
    char buffer[MSG_SIZE];
    prtos_u32_t flags;

    if (prtos_read_sampling_message(port_s, buffer, sizeof(buffer), &flags) > 0) {
        PRINT("RECEIVE %s\n", buffer);
        PRINT("READ SHM %d\n", *(volatile prtos_u32_t *)SHARED_ADDR);
    }
}

void partition_main(void)
{
    PRINT("Opening ports...\n");
    port_s = prtos_create_sampling_port("portS", MAX_MSG_SIZE, PRTOS_DESTINATION_PORT, 0);
    if (port_s < 0) {
        PRINT("error %d\n", port_s);
        prtos_halt_partition(PRTOS_PARTITION_SELF);
    }
    PRINT("done\n");

    install_trap_handler(BAIL_PRTOSEXT_TRAP(PRTOS_VT_EXT_SAMPLING_PORT), sampling_handler);
    hw_sti();
    prtos_clear_irqmask(0, 1 << PRTOS_VT_EXT_SAMPLING_PORT);

    PRINT("Waiting for messages\n");
    while (1)
        ;
}
