/*
 * bail_startup.c - what the start-up code leaves behind (partition-api.md 15.2):
 * a cleared .bss, an untouched .bss.noinit, the vCPU stack, then an implicit
 * halt when partition_main returns.
 */
#include <config.h>
#include <stdio.h>
#include <irqs.h>

extern char _sguest[], _eguest[], _sdata[], _edata[], _sbss[], _ebss[], _stack[];

static prtos_u32_t cleared[64];
prtos_u32_t kept[4] __attribute__((section(".bss.noinit")));
int common_var;

void partition_main(void) {
    prtos_u32_t i, nonzero = 0;
    char here;
    prtos_u32_t sg = (prtos_u32_t)_sguest, sd = (prtos_u32_t)_sdata, ed = (prtos_u32_t)_edata;
    prtos_u32_t sb = (prtos_u32_t)_sbss, eb = (prtos_u32_t)_ebss, eg = (prtos_u32_t)_eguest;
    prtos_u32_t sp = (prtos_u32_t)&here, st = (prtos_u32_t)_stack;

    for (i = 0; i < 64; i++) nonzero += cleared[i] != 0;
    printf("bss nonzero=%u common=%d\n", nonzero, common_var);
    printf("noinit=%08x\n", kept[0]);
    printf("order=%d\n", sg < sd && sd <= ed && ed <= sb && sb < eb && eb <= eg);
    printf("stack=%d\n", sp > st && sp < st + STACK_SIZE);
    printf("sti=%x\n", hw_is_sti());
    hw_sti();
    printf("sti=%x\n", hw_is_sti());
    hw_cli();
    printf("sti=%x\n", hw_is_sti());
    printf("install=%d %d %d %d\n", install_trap_handler(-1, 0), install_trap_handler(256, 0),
           install_trap_handler(255, 0), install_trap_handler(0, 0));
    /* returning halts the partition */
}
