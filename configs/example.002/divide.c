/*
 * example.002, Partition0 and Partition1 - a divide error and the health
 * monitor.
 *
 * Both partitions run this program; their HM tables differ. Partition0's
 * table halts the partition at the divide error, so its trap handler never
 * runs. Partition1's table propagates the error to the partition as trap 0:
 * the handler resumes execution after the division and the program completes.
 */
#include <stdio.h>
#include <prtos.h>
#include <irqs.h>

#define PRINT(...) do { \
        printf("[%d] ", PRTOS_PARTITION_SELF); \
        printf(__VA_ARGS__); \
    } while (0)

#define DIVIDE_ERROR_TRAP 0

/* Where execution continues after the faulting division. */
static volatile prtos_u32_t resume_ip;

static void divide_error_handler(trap_ctxt_t *ctxt)
{
    PRINT("#Divide Exception propagated, ignoring...\n");
    ctxt->ip = resume_ip;
}

void partition_main(void)
{
    volatile prtos_s32_t zero = 0;
    volatile prtos_s32_t result;

    prtos_idle_self();

    install_trap_handler(DIVIDE_ERROR_TRAP, divide_error_handler);
    resume_ip = (prtos_u32_t)&&after_division;
    PRINT("Dividing by zero...\n");
    result = 10 / zero;
after_division:
    (void)result;

    PRINT("Verification Passed\n");
    PRINT("Halting\n");
    prtos_halt_partition(PRTOS_PARTITION_SELF);
}
