/*
 * Shared body of the hm_*.c guests: each round prints a line, provokes one HM event with
 * FAULT() and prints another line; a propagated trap's handler skips the faulting instruction,
 * ext IRQ 3 (shutdown) prints a line. The including file defines FAULT() and FAULT_TRAP.
 */
#include <stdio.h>
#include <prtos.h>
#include <irqs.h>

static volatile prtos_u32_t resume_ip;

static void on_trap(trap_ctxt_t *ctxt)
{
    printf("[%d] trap %d code 0x%x\n", PRTOS_PARTITION_SELF, FAULT_TRAP, ctxt->err_code);
    ctxt->ip = resume_ip;
}

static void on_shutdown(trap_ctxt_t *ctxt)
{
    (void)ctxt;
    printf("[%d] shutdown requested\n", PRTOS_PARTITION_SELF);
}

void partition_main(void)
{
    int round = 0;

    install_trap_handler(FAULT_TRAP, on_trap);
    install_trap_handler(BAIL_PRTOSEXT_TRAP(PRTOS_VT_EXT_SHUTDOWN), on_shutdown);
    prtos_clear_irqmask(0, 1 << PRTOS_VT_EXT_SHUTDOWN);
    hw_sti();
    for (;;) {
        round++;
        printf("[%d] round %d\n", PRTOS_PARTITION_SELF, round);
        resume_ip = (prtos_u32_t)&&after;
        FAULT();
after:
        printf("[%d] survived %d\n", PRTOS_PARTITION_SELF, round);
        prtos_idle_self();
    }
}
