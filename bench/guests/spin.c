/* Spins through every slot it is given (a busy-wait, which the engine fast-forwards): P6. */
#include <prtos.h>

void partition_main(void)
{
    for (;;)
        ;
}
