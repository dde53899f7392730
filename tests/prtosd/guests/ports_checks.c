/*
 * Every check of the port and IPVI calls that a partition can trip, in the order of
 * semantics.md §6 and partition-api.md §7 (hypercalls 23, 24), on one partition whose channels
 * connect its own ports (K-14). Port ids (global index): qS 0, qD 1, sS 2, sD 3, sLone 4,
 * qLone 5, sShut 6. Address 0x100 is outside the partition's memory (unreadable, unwritable).
 */
#include <stdio.h>
#include <string.h>
#include <prtos.h>

#define BAD ((void *)0x100)
#define FOREIGN 1 /* a partition id that is not the caller's */

static char buf[16];
static prtos_s32_t r[8]; /* results, in call order (printf's argument order is unspecified) */

static prtos_s32_t create_q(prtos_u32_t self, void *arg)
{
    return prtos_ctrl_object(OBJDESC_BUILD(OBJ_CLASS_QUEUING_PORT, self, 0), PRTOS_COMM_CREATE_PORT, arg);
}

void partition_main(void)
{
    union queuing_port_cmd cmd;
    prtos_sampling_port_status_t sst;
    prtos_queuing_port_status_t qst;
    prtos_sampling_port_info_t sinfo;
    prtos_queuing_port_info_t qinfo;
    prtos_u32_t flags = 0xAA;
    prtos_s32_t qs, qd, ss, sd, sl, ql;

    /* §6.2 create, checks 1-9 */
    cmd.create.port_name = "qS";
    cmd.create.max_num_of_msgs = 2;
    cmd.create.max_msg_size = 8;
    cmd.create.direction = PRTOS_SOURCE_PORT;
    r[0] = create_q(PRTOS_PARTITION_SELF, BAD);
    r[1] = create_q(FOREIGN, &cmd);
    r[2] = prtos_create_queuing_port(0, 2, 8, PRTOS_SOURCE_PORT);
    printf("[c] block %d foreign %d null %d\n", r[0], r[1], r[2]);
    r[0] = prtos_create_queuing_port("qS", 2, 8, 3);
    r[1] = prtos_create_queuing_port("qX", 2, 8, PRTOS_SOURCE_PORT);
    r[2] = prtos_create_sampling_port("qS", 8, PRTOS_SOURCE_PORT, 0);
    r[3] = prtos_create_queuing_port("qS", 2, 8, PRTOS_DESTINATION_PORT);
    printf("[c] direction %d unknown %d type %d wrong direction %d\n", r[0], r[1], r[2], r[3]);
    r[0] = prtos_create_queuing_port("qS", 3, 8, PRTOS_SOURCE_PORT);
    r[1] = prtos_create_queuing_port("qS", 2, 4, PRTOS_SOURCE_PORT);
    r[2] = prtos_create_sampling_port("sS", 4, PRTOS_SOURCE_PORT, 0);
    r[3] = prtos_create_sampling_port("sS", 8, PRTOS_SOURCE_PORT, 5);
    printf("[c] count %d size %d sampling size %d period %d\n", r[0], r[1], r[2], r[3]);
    qs = prtos_create_queuing_port("qS", 2, 8, PRTOS_SOURCE_PORT);
    qd = prtos_create_queuing_port("qD", 2, 8, PRTOS_DESTINATION_PORT);
    ss = prtos_create_sampling_port("sS", 8, PRTOS_SOURCE_PORT, 0);
    sd = prtos_create_sampling_port("sD", 8, PRTOS_DESTINATION_PORT, 0);
    sl = prtos_create_sampling_port("sLone", 123, PRTOS_SOURCE_PORT, 77); /* no channel: nothing to match */
    ql = prtos_create_queuing_port("qLone", 9, 99, PRTOS_DESTINATION_PORT);
    printf("[c] ids %d %d %d %d %d %d\n", qs, qd, ss, sd, sl, ql);

    /* §6.3 sampling write, checks 1-9 */
    strcpy(buf, "abc");
    r[0] = prtos_write_object(OBJDESC_BUILD(OBJ_CLASS_SAMPLING_PORT, FOREIGN, ss), buf, 4, 0);
    r[1] = prtos_write_sampling_message(99, buf, 4);
    r[2] = prtos_write_sampling_message(6, buf, 4);
    r[3] = prtos_write_sampling_message(qs, buf, 4);
    r[4] = prtos_write_sampling_message(sd, buf, 4);
    printf("[sw] foreign %d id %d closed %d type %d dir %d\n", r[0], r[1], r[2], r[3], r[4]);
    r[0] = prtos_write_sampling_message(ss, buf, 0);
    r[1] = prtos_write_sampling_message(sl, buf, 200);
    r[2] = prtos_write_sampling_message(ss, buf, 9);
    r[3] = prtos_write_sampling_message(ss, BAD, 4);
    r[4] = prtos_write_sampling_message(ss, buf, 4);
    printf("[sw] zero %d no channel %d too long %d unreadable %d ok %d\n", r[0], r[1], r[2], r[3], r[4]);

    /* §6.3 sampling read, checks 1-10 */
    r[0] = prtos_read_object(OBJDESC_BUILD(OBJ_CLASS_SAMPLING_PORT, FOREIGN, sd), buf, 8, &flags);
    r[1] = prtos_read_sampling_message(99, buf, 8, &flags);
    r[2] = prtos_read_sampling_message(sd, buf, 8, BAD);
    r[3] = prtos_read_sampling_message(qd, buf, 8, &flags);
    r[4] = prtos_read_sampling_message(ss, buf, 8, &flags);
    printf("[sr] foreign %d id %d flags %d type %d dir %d\n", r[0], r[1], r[2], r[3], r[4]);
    r[0] = prtos_read_sampling_message(sd, buf, 0, &flags);
    r[1] = prtos_read_sampling_message(sd, buf, 9, &flags);
    r[2] = prtos_read_sampling_message(sd, BAD, 8, &flags);
    printf("[sr] zero %d too long %d unwritable %d flags untouched %x\n", r[0], r[1], r[2], (unsigned)flags);
    memset(buf, 0, sizeof(buf));
    r[0] = prtos_read_sampling_message(sd, buf, 8, &flags);
    r[3] = prtos_read_sampling_message(sd, buf, 8, 0);
    printf("[sr] ok %d '%s' flags %x, null flags %d\n", r[0], buf, (unsigned)flags, r[3]);

    /* §6.4 send and receive */
    strcpy(buf, "q1");
    r[0] = prtos_write_object(OBJDESC_BUILD(OBJ_CLASS_QUEUING_PORT, FOREIGN, qs), buf, 3, 0);
    r[1] = prtos_send_queuing_message(99, buf, 3);
    r[2] = prtos_send_queuing_message(6, buf, 3);
    r[3] = prtos_send_queuing_message(ss, buf, 3);
    r[4] = prtos_send_queuing_message(qd, buf, 3);
    printf("[qs] foreign %d id %d closed %d type %d dir %d\n", r[0], r[1], r[2], r[3], r[4]);
    r[0] = prtos_send_queuing_message(qs, buf, 0);
    r[1] = prtos_send_queuing_message(qs, buf, 9);
    r[2] = prtos_send_queuing_message(qs, BAD, 3);
    r[3] = prtos_send_queuing_message(qs, buf, 3);
    r[4] = prtos_send_queuing_message(qs, "q2", 3);
    r[5] = prtos_send_queuing_message(qs, buf, 3);
    printf("[qs] zero %d too long %d unreadable %d ok %d %d full %d\n", r[0], r[1], r[2], r[3], r[4], r[5]);
    r[0] = prtos_read_object(OBJDESC_BUILD(OBJ_CLASS_QUEUING_PORT, FOREIGN, qd), buf, 8, 0);
    r[1] = prtos_receive_queuing_message(99, buf, 8);
    r[2] = prtos_receive_queuing_message(sd, buf, 8);
    r[3] = prtos_receive_queuing_message(qs, buf, 8);
    r[4] = prtos_receive_queuing_message(ql, buf, 8);
    printf("[qr] foreign %d id %d type %d dir %d no channel %d\n", r[0], r[1], r[2], r[3], r[4]);
    memset(buf, 0, sizeof(buf));
    r[0] = prtos_receive_queuing_message(qd, buf, 0);
    r[1] = prtos_receive_queuing_message(qd, buf, 9);
    r[2] = prtos_receive_queuing_message(qd, BAD, 8);
    r[3] = prtos_receive_queuing_message(qd, buf, 1);
    printf("[qr] zero %d too long %d unwritable %d short %d '%s'", r[0], r[1], r[2], r[3], buf);
    memset(buf, 0, sizeof(buf));
    r[0] = prtos_receive_queuing_message(qd, buf, 8);
    r[2] = prtos_receive_queuing_message(qd, buf, 8);
    printf(" ok %d '%s' empty %d\n", r[0], buf, r[2]);

    /* status and info */
    r[0] = prtos_ctrl_object(OBJDESC_BUILD(OBJ_CLASS_SAMPLING_PORT, PRTOS_PARTITION_SELF, sd), PRTOS_COMM_GET_PORT_STATUS,
                             BAD);
    r[1] = prtos_get_sampling_port_status(6, &sst);
    r[2] = prtos_get_sampling_port_status(qd, &sst);
    r[3] = prtos_ctrl_object(OBJDESC_BUILD(OBJ_CLASS_QUEUING_PORT, PRTOS_PARTITION_SELF, qd), PRTOS_COMM_GET_PORT_STATUS,
                             BAD);
    r[4] = prtos_get_queuing_port_status(6, &qst);
    r[5] = prtos_get_queuing_port_status(sd, &qst);
    printf("[st] block %d closed %d type %d, queuing block %d closed %d type %d\n", r[0], r[1], r[2], r[3], r[4], r[5]);
    r[0] = prtos_get_sampling_port_info("nosuch", &sinfo);
    r[1] = prtos_get_sampling_port_info("qS", &sinfo);
    r[2] = prtos_get_queuing_port_info("nosuch", &qinfo);
    r[3] = prtos_get_queuing_port_info("sS", &qinfo);
    r[4] = prtos_ctrl_object(OBJDESC_BUILD(OBJ_CLASS_QUEUING_PORT, PRTOS_PARTITION_SELF, qd), 7, &qst);
    printf("[in] unknown %d type %d, queuing unknown %d type %d, other cmd %d\n", r[0], r[1], r[2], r[3], r[4]);

    /* hypercalls 23 and 24: IPVI 1 goes to this partition itself, IPVI 0 has no route */
    r[0] = prtos_raise_ipvi(PRTOS_VT_EXT_IPVI0 - 1);
    r[1] = prtos_raise_ipvi(PRTOS_VT_EXT_IPVI0 + 8);
    r[2] = prtos_raise_ipvi(PRTOS_VT_EXT_IPVI0);
    r[3] = prtos_raise_ipvi(PRTOS_VT_EXT_IPVI0 + 1);
    printf("[ipvi] range %d %d no route %d ok %d\n", r[0], r[1], r[2], r[3]);
    r[0] = prtos_raise_partition_ipvi(0, PRTOS_VT_EXT_IPVI0 + 8);
    r[1] = prtos_raise_partition_ipvi(0, PRTOS_VT_EXT_IPVI0);
    r[2] = prtos_raise_partition_ipvi(5, PRTOS_VT_EXT_IPVI0 + 1);
    r[3] = prtos_raise_partition_ipvi(0, PRTOS_VT_EXT_IPVI0 + 1);
    printf("[ipvi] range %d no destinations %d not a destination %d pending %d\n", r[0], r[1], r[2], r[3]);
    prtos_halt_partition(PRTOS_PARTITION_SELF);
}
