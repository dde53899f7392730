/* Executes a privileged instruction; with IGNORE the fault repeats until the slot ends. */
#include <stdio.h>
#include <prtos.h>
void partition_main(void)
{
    printf("[0] looping on hlt\n");
    __asm__ volatile("hlt");
}
