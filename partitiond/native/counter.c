/*
 * Native Unicorn hooks of partitiond: exact instruction counting and the
 * recording of interrupts and invalid memory accesses.
 *
 * Unicorn calls pd_count_hook before each guest instruction. It counts the
 * instruction and, once the run's budget is used up, asks Unicorn to stop
 * before that instruction executes: a run of budget N retires exactly N
 * instructions. The other two hooks only record what happened and stop the
 * emulation; all decisions are taken in Python after uc_emu_start returns,
 * so no Python code runs inside a Unicorn callback. uc_emu_stop is passed in
 * as a pointer, so this library needs no link against libunicorn.
 *
 * Spin probing (see partitiond.vcpu): while probe is set, the counter also
 * stops before the first instruction after the start whose address is
 * probe_pc, so Python learns the length of one loop iteration, and records the
 * address of each instruction of that iteration in probe_pcs; pd_write_hook,
 * installed only for such a probe, records that the iteration wrote memory.
 */
#include <stdint.h>

#define PD_PROBE_MAX 256     /* longest loop iteration a spin probe records */

struct pd_state {
    uint64_t count;          /* instructions started in this run */
    uint64_t budget;         /* stop before instruction budget + 1 */
    int (*emu_stop)(void *uc);
    uint64_t last_pc;        /* address of the latest counted instruction */
    uint32_t last_size;      /* its length in bytes */
    uint32_t stopped;        /* 1 once the budget stop was requested */
    int32_t intno;           /* interrupt number seen, -1 if none */
    int32_t mem_type;        /* uc_mem_type of an invalid access, -1 if none */
    uint64_t mem_addr;       /* its address */
    int32_t mem_size;        /* its size */
    int32_t pad;
    uint64_t probe_pc;       /* stop when this address comes round again */
    uint32_t probe;          /* 1 while a spin probe runs */
    uint32_t probe_hit;      /* 1 once the probe stop was requested */
    uint32_t wrote;          /* 1 if guest memory was written during the probe */
    uint32_t pad2;
    uint32_t probe_pcs[PD_PROBE_MAX]; /* instruction addresses of the probed iteration */
};

void pd_count_hook(void *uc, uint64_t address, uint32_t size, void *user_data)
{
    struct pd_state *s = (struct pd_state *)user_data;
    if (s->stopped)
        return;
    if (s->count >= s->budget) {
        s->stopped = 1;
        s->emu_stop(uc);
        return;
    }
    if (s->probe && s->count && address == s->probe_pc) {
        s->stopped = 1;
        s->probe_hit = 1;
        s->emu_stop(uc);
        return;
    }
    if (s->probe && s->count < PD_PROBE_MAX)
        s->probe_pcs[s->count] = (uint32_t)address;
    s->count++;
    s->last_pc = address;
    s->last_size = size;
}

void pd_intr_hook(void *uc, uint32_t intno, void *user_data)
{
    struct pd_state *s = (struct pd_state *)user_data;
    if (s->intno < 0)
        s->intno = (int32_t)intno;
    s->emu_stop(uc);
}

_Bool pd_mem_hook(void *uc, int type, uint64_t address, int size, int64_t value, void *user_data)
{
    struct pd_state *s = (struct pd_state *)user_data;
    (void)value;
    if (s->mem_type < 0) {
        s->mem_type = type;
        s->mem_addr = address;
        s->mem_size = size;
    }
    s->emu_stop(uc);
    return 0;
}

void pd_write_hook(void *uc, int type, uint64_t address, int size, int64_t value, void *user_data)
{
    struct pd_state *s = (struct pd_state *)user_data;
    (void)uc;
    (void)type;
    (void)address;
    (void)size;
    (void)value;
    s->wrote = 1;
}
