/* Prints the HW and EXEC clocks at each of its first three slots, then halts. */
#include <stdio.h>
#include <prtos.h>

void partition_main(void)
{
    prtos_time_t hw, ex;
    int i;

    for (i = 0; i < 3; i++) {
        prtos_get_time(PRTOS_HW_CLOCK, &hw);
        prtos_get_time(PRTOS_EXEC_CLOCK, &ex);
        printf("[%d] tick %d hw=%lld exec=%lld\n", PRTOS_PARTITION_SELF, i, hw, ex);
        prtos_idle_self();
    }
}
