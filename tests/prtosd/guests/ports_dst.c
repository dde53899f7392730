/*
 * Destination side of the port test system (partition 1).
 * Frame 0: opens its ports, finds the early messages (kept, not announced: K-07), installs
 * handlers for ext IRQs 4, 5 and IPVI 0. Frame 1: the pending interrupts are delivered at
 * dispatch; the handlers read, drain the queue and look at the copied word. Frame 2: reports
 * its counters and halts.
 */
#include <stdio.h>
#include <prtos.h>
#include <irqs.h>

#define COPY_DST 0x61F0000

static prtos_s32_t qd, sd;
static char buf[16];

static void on_sampling(trap_ctxt_t *ctxt)
{
    prtos_u32_t flags = 0xFF;
    prtos_s32_t n = prtos_read_sampling_message(sd, buf, sizeof(buf), &flags);
    printf("[1] sampling irq: %d '%s' flags %d\n", n, buf, flags);
}

static void on_queuing(trap_ctxt_t *ctxt)
{
    prtos_s32_t n;
    while ((n = prtos_receive_queuing_message(qd, buf, sizeof(buf))) > 0)
        printf("[1] queuing irq: %d '%s'\n", n, buf);
    printf("[1] drained %d\n", n);
}

static void on_ipvi(trap_ctxt_t *ctxt)
{
    printf("[1] ipvi irq, copied %x\n", *(volatile prtos_u32_t *)COPY_DST);
}

void partition_main(void)
{
    prtos_sampling_port_status_t ss;
    prtos_queuing_port_status_t qs;
    prtos_sampling_port_info_t si;
    prtos_part_status_t ps;
    prtos_u32_t flags = 0xFF;

    qd = prtos_create_queuing_port("qD", 4, 16, PRTOS_DESTINATION_PORT);
    sd = prtos_create_sampling_port("sD", 16, PRTOS_DESTINATION_PORT, 0);
    printf("[1] create q=%d s=%d bitmap %x\n", qd, sd, (unsigned)prtos_get_commport_bitmap()[0]);
    prtos_get_queuing_port_status(qd, &qs);
    prtos_get_sampling_port_status(sd, &ss);
    printf("[1] queued %d, sampling in P0's slot %d len=%d flags %d\n", qs.num_of_msgs,
           ss.timestamp > 0 && ss.timestamp < 5000, ss.last_msg_size,
           ss.flags);
    printf("[1] info %d: period %d size %d dir %d\n", prtos_get_sampling_port_info("sD", &si), (int)si.valid_period,
           si.max_msg_size, si.direction);
    printf("[1] read %d '%s' flags %d\n", prtos_read_sampling_message(sd, buf, sizeof(buf), &flags), buf, flags);
    prtos_get_sampling_port_status(sd, &ss);
    printf("[1] status flags now %d\n", ss.flags);
    printf("[1] receive %d '%s'\n", prtos_receive_queuing_message(qd, buf, sizeof(buf)), buf);
    printf("[1] receive again %d\n", prtos_receive_queuing_message(qd, buf, sizeof(buf)));
    printf("[1] write to a foreign port %d\n", prtos_write_sampling_message(1, buf, 4));

    install_trap_handler(BAIL_PRTOSEXT_TRAP(PRTOS_VT_EXT_SAMPLING_PORT), on_sampling);
    install_trap_handler(BAIL_PRTOSEXT_TRAP(PRTOS_VT_EXT_QUEUING_PORT), on_queuing);
    install_trap_handler(BAIL_PRTOSEXT_TRAP(PRTOS_VT_EXT_IPVI0), on_ipvi);
    hw_sti();
    prtos_clear_irqmask(0, (1 << PRTOS_VT_EXT_SAMPLING_PORT) | (1 << PRTOS_VT_EXT_QUEUING_PORT) |
                               (1 << PRTOS_VT_EXT_IPVI0));
    prtos_idle_self();
    prtos_idle_self();

    prtos_get_partition_status(PRTOS_PARTITION_SELF, &ps);
    printf("[1] counters read %d received %d, bitmap %x\n", (int)ps.num_of_sampling_port_msgs_read,
           (int)ps.num_of_queuing_port_msgs_received, (unsigned)prtos_get_commport_bitmap()[0]);
    prtos_halt_partition(PRTOS_PARTITION_SELF);
}
