/* Gives up every slot at once: the run is nothing but partition switches. */
#include <prtos.h>

void partition_main(void)
{
    for (;;)
        prtos_idle_self();
}
