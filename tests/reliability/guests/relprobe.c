/* A normal (non-system) partition that tries every call reserved to system partitions, through
 * libprtos, and prints each return code. Partition 1 is its target wherever a call takes an id. */
#include <stdio.h>
#include <prtos.h>

static prtos_sys_status_t sys_st;
static prtos_part_status_t part_st;
static prtos_hm_log_t hm_rec;
static prtos_hm_status_t hm_st;
static prtos_virtual_cpu_status_t vcpu_st;

void partition_main(void)
{
    prtos_u32_t plan = 0;

    printf("probe halt_partition %d\n", prtos_halt_partition(1));
    printf("probe suspend_partition %d\n", prtos_suspend_partition(1));
    printf("probe resume_partition %d\n", prtos_resume_partition(1));
    printf("probe reset_partition_cold %d\n", prtos_reset_partition(1, PRTOS_COLD_RESET, 0));
    printf("probe reset_partition_warm %d\n", prtos_reset_partition(1, PRTOS_WARM_RESET, 0));
    printf("probe shutdown_partition %d\n", prtos_shutdown_partition(1));
    printf("probe halt_system %d\n", prtos_halt_system());
    printf("probe reset_system_cold %d\n", prtos_reset_system(PRTOS_COLD_RESET));
    printf("probe reset_system_warm %d\n", prtos_reset_system(PRTOS_WARM_RESET));
    printf("probe switch_sched_plan %d\n", prtos_switch_sched_plan(0, &plan));
    printf("probe get_system_status %d\n", prtos_get_system_status(&sys_st));
    printf("probe get_partition_status %d\n", prtos_get_partition_status(1, &part_st));
    printf("probe get_partition_vcpu_status %d\n", prtos_get_partition_vcpu_status(1, 0, &vcpu_st));
    printf("probe hm_read %d\n", prtos_hm_read(&hm_rec));
    printf("probe hm_seek %d\n", prtos_hm_seek(0, 0));
    printf("probe hm_status %d\n", prtos_hm_status(&hm_st));
    printf("probe trace_open %d\n", prtos_trace_open(1));
    printf("probe own_status %d\n", prtos_get_partition_status(PRTOS_PARTITION_SELF, &part_st));
    printf("probe done\n");
    for (;;)
        prtos_idle_self();
}
