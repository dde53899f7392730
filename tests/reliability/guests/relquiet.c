/* Stands in for the hostile partition in the reference run: it only gives up its slots. */
#include <prtos.h>

void partition_main(void)
{
    for (;;)
        prtos_idle_self();
}
