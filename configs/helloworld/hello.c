/*
 * helloworld - Partition0 prints a greeting, ends its slot, and returns
 * from partition_main on its next slot (BAIL then halts it).
 */
#include <stdio.h>
#include <prtos.h>

#define PRINT(...) do { \
        printf("[%d] ", PRTOS_PARTITION_SELF); \
        printf(__VA_ARGS__); \
    } while (0)

void partition_main(void)
{
    PRINT("Hello World!\n");
    PRINT("Verification Passed\n");
    prtos_idle_self();
}
