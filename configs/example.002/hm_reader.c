/*
 * example.002, HM-reader (system partition) - prints the health monitor log.
 *
 * Every slot it reads the HM log records that have arrived since the last
 * slot, and it halts once Partition1 has halted.
 */
#include <stdio.h>
#include <prtos.h>

#define PRINT(...) do { \
        printf("[%d] ", PRTOS_PARTITION_SELF); \
        printf(__VA_ARGS__); \
    } while (0)

#define WATCHED_PARTITION 1

void partition_main(void)
{
    prtos_hm_status_t hm_status;
    prtos_hm_log_t hm_log;
    prtos_part_status_t part_status;

    prtos_idle_self();
    PRINT(" --------- Health Monitor Log ---------------\n");

    while (1) {
        prtos_hm_status(&hm_status);
        while (prtos_hm_read(&hm_log) == 1) {
            PRINT("Log => part_Id: 0x%x eventId: 0x%x timeStamp: %lld\n",
                  (hm_log.op_code_lo & HMLOG_OPCODE_PARTID_MASK) >> HMLOG_OPCODE_PARTID_BIT,
                  (hm_log.op_code_lo & HMLOG_OPCODE_EVENT_MASK) >> HMLOG_OPCODE_EVENT_BIT,
                  hm_log.timestamp);
        }
        prtos_get_partition_status(WATCHED_PARTITION, &part_status);
        if (part_status.state == PRTOS_STATUS_HALTED)
            prtos_halt_partition(PRTOS_PARTITION_SELF);
        prtos_idle_self();
    }
}
