/*
 * example.009, Partition0 - tries to write into Partition1's memory.
 *
 * The address is not mapped in this partition, so the write raises a page
 * fault; the health monitor's default action halts the partition.
 */
#include <prtos.h>

#define FOREIGN_ADDR 0x6100000

void partition_main(void)
{
    *(volatile prtos_u32_t *)FOREIGN_ADDR = 0xFFFFFFFF;
    while (1)
        ;
}
