/* A system partition that suspends, resumes and halts partition 1 and reads its status. */
#include <stdio.h>
#include <prtos.h>

static void show(void)
{
    prtos_part_status_t st;
    if (prtos_get_partition_status(1, &st) >= 0)
        printf("[0] P1 state %d resets %d\n", (int)st.state, (int)st.reset_counter);
}

void partition_main(void)
{
    show();
    prtos_idle_self();
    printf("[0] suspend %d\n", prtos_suspend_partition(1));
    show();
    prtos_idle_self();
    printf("[0] resume %d\n", prtos_resume_partition(1));
    show();
    prtos_idle_self();
    printf("[0] warm reset %d\n", prtos_reset_partition(1, PRTOS_WARM_RESET, 0));
    show();
    prtos_idle_self();
    printf("[0] halt %d\n", prtos_halt_partition(1));
    printf("[0] halt again %d\n", prtos_halt_partition(1));
    prtos_halt_system();
}
