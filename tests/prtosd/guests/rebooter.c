/* Reads the system reset counter; warm-resets the system once, then halts it. */
#include <stdio.h>
#include <prtos.h>

void partition_main(void)
{
    prtos_sys_status_t st;
    prtos_time_t hw;

    prtos_get_system_status(&st);
    prtos_get_time(PRTOS_HW_CLOCK, &hw);
    printf("[0] boot %d at %lld, status 0x%x\n", (int)st.reset_counter, hw < 1000 ? 0LL : hw,
           (unsigned)prtos_get_pct()->reset_status);
    prtos_idle_self();
    if (st.reset_counter == 0) {
        printf("[0] warm system reset\n");
        prtos_reset_system(PRTOS_WARM_RESET);
        printf("[0] not reached\n");
    }
    prtos_halt_system();
}
