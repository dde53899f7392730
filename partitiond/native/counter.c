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
 * Block counting (the default, see partitiond.vcpu): pd_block_hook runs once per
 * translated-block execution instead of once per instruction. It adds the
 * block's instruction count, looked up by (start address, byte size) in a
 * table that Python fills, and stops the emulation before a block that is not
 * in the table yet (Python learns it and resumes) or whose count would overrun
 * the budget (Python runs that last, partial block with pd_count_hook limited
 * to its address range). A block that Unicorn translates again from the same
 * bytes has the same start, size and instruction count, so the table stays
 * valid until guest code changes (the engine clears it then).
 *
 * Fast hypercalls: with hc_on set, pd_intr_hook first offers the hypercall
 * vector to hc_fn (a Python callback); when it returns nonzero the call was
 * served in place and the emulation simply goes on after the int, with no
 * stop. The hook passes the int's identity (its block, or its address), the
 * counter and the registers; the answer carries the result for EAX and the
 * cycles charged, by which the budget shrinks. Never during a spin probe.
 *
 * Spin probing (see partitiond.vcpu): while probe is set, the counter also
 * stops before the first instruction after the start whose address is
 * probe_pc, so Python learns the length of one loop iteration, and records the
 * address of each instruction of that iteration in probe_pcs; pd_write_hook,
 * installed only for such a probe, records that the iteration wrote memory.
 */
#include <stdint.h>

#define PD_PROBE_MAX 256     /* longest loop iteration a spin probe records */
#define PD_TABLE_BITS 12
#define PD_TABLE (1u << PD_TABLE_BITS) /* slots of the block table (a power of two) */
#define PD_STOP_MISS 1       /* stopped before a block missing from the table */
#define PD_STOP_BUDGET 2     /* stopped before a block that would overrun the budget */
#define PD_STOP_LEFT 3       /* spin probe: stopped before a block outside [exact_lo, exact_hi) */
#define PD_FAST_SERVED 1ull  /* hc_fn answer: the call was served */
#define PD_FAST_END 2ull     /* ... and the emulation must end before the next block */
#define PD_FAST_EAX 4ull     /* ... and EAX = answer >> 32 */
#define PD_FAST_CHARGE_SHIFT 8 /* ... and bits 8..31: cycles charged (the budget shrinks by them) */

struct pd_block {
    uint32_t pc;             /* start address of a translated block */
    uint32_t size;           /* its length in bytes; 0 marks a free slot */
    uint32_t n;              /* its instruction count */
    uint32_t pad;
};

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
    uint64_t blk_pc;         /* latest block counted by pd_block_hook */
    uint32_t blk_size;       /* its length in bytes */
    uint32_t blk_n;          /* its instruction count */
    uint32_t tail_on;        /* 1 while the last partial block runs */
    uint32_t exact;          /* 1 while pd_count_hook counts [exact_lo, exact_hi) (spin probe) */
    uint64_t probe_pc;       /* stop when this address comes round again */
    uint32_t probe;          /* 1 while a spin probe runs */
    uint32_t probe_hit;      /* 1 once the probe stop was requested */
    uint32_t wrote;          /* 1 if guest memory was written during the probe */
    uint32_t pad2;
    uint32_t probe_pcs[PD_PROBE_MAX]; /* instruction addresses of the probed iteration */
    uint64_t stop_pc;        /* block pd_block_hook stopped before */
    uint32_t stop_size;      /* its length in bytes */
    uint32_t stop_why;       /* PD_STOP_MISS, PD_STOP_BUDGET or 0 */
    uint64_t tail_pc;        /* block counted by pd_count_hook instead (tail_on) */
    uint32_t entries;        /* used slots of the table */
    uint32_t pad3;
    uint64_t exact_lo;
    uint64_t exact_hi;
    struct pd_block table[PD_TABLE];
    /* serves a hypercall in place: (key, count, eax, ebx, ecx, edx, esi, edi) -> PD_FAST_* answer, 0: not served */
    uint64_t (*hc_fn)(uint64_t, uint64_t, uint32_t, uint32_t, uint32_t, uint32_t, uint32_t, uint32_t);
    uint32_t hc_vec;         /* the hypercall vector */
    uint32_t hc_on;          /* 1 while hc_fn may be called */
    int (*reg_read)(void *uc, int regid, void *value);        /* uc_reg_read */
    int (*reg_write)(void *uc, int regid, const void *value); /* uc_reg_write */
    int32_t hc_ids[6];       /* EAX EBX ECX EDX ESI EDI */
};

static inline uint32_t pd_slot(uint32_t pc, uint32_t size)
{
    return ((pc ^ (size << 20)) * 2654435761u) >> (32 - PD_TABLE_BITS);
}

/* Everything but the repeated block: kept out of line so that the common path below needs no
 * register saves. */
__attribute__((noinline)) static void pd_block_slow(void *uc, uint64_t address, uint32_t size, struct pd_state *s)
{
    uint32_t pc = (uint32_t)address, i, n = 0;
    if (s->stopped || (s->tail_on && address == s->tail_pc))
        return;
    if (s->exact) {
        if (address >= s->exact_lo && address + size <= s->exact_hi)
            return;
        s->stopped = 1;
        s->stop_why = PD_STOP_LEFT;
        s->stop_pc = address;
        s->stop_size = size;
        s->emu_stop(uc);
        return;
    }
    for (i = pd_slot(pc, size); size; i = (i + 1) & (PD_TABLE - 1)) {
        struct pd_block *b = &s->table[i];
        if (b->pc == pc && b->size == size) {
            n = b->n;
            break;
        }
        if (!b->size)
            break;
    }
    if (!n || s->count + n > s->budget) {
        s->stopped = 1;
        s->stop_why = n ? PD_STOP_BUDGET : PD_STOP_MISS;
        s->stop_pc = address;
        s->stop_size = size;
        s->emu_stop(uc);
        return;
    }
    s->count += n;
    s->blk_pc = address;
    s->blk_size = size;
    s->blk_n = n;
}

void pd_block_hook(void *uc, uint64_t address, uint32_t size, void *user_data)
{
    struct pd_state *s = (struct pd_state *)user_data;
    /* The same block again (a loop of one block): its count is at hand, no lookup. The fields
     * read here share the first cache line of the state. */
    if (address == s->blk_pc && size == s->blk_size && s->blk_n && !(s->stopped | s->tail_on | s->exact)
        && s->count + s->blk_n <= s->budget) {
        s->count += s->blk_n;
        return;
    }
    pd_block_slow(uc, address, size, s);
}

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

/* A stop point: Unicorn honours uc_emu_stop right after a code hook, so this
 * empty hook on the instruction after an in/out ends the run there when the
 * port hook asked for a stop (block counting, see partitiond.vcpu). */
void pd_stop_point(void *uc, uint64_t address, uint32_t size, void *user_data)
{
    (void)uc;
    (void)address;
    (void)size;
    (void)user_data;
}

void pd_intr_hook(void *uc, uint32_t intno, void *user_data)
{
    struct pd_state *s = (struct pd_state *)user_data;
    /* A hypercall the engine can serve without leaving the run: the int ends its
     * translated block, so count is exact here; Unicorn resumes after the int. */
    if (s->hc_on && intno == s->hc_vec && !s->probe && !s->stopped && s->intno < 0) {
        uint32_t r[6] = {0};
        uint64_t key = s->blk_n ? (s->blk_pc << 32) | s->blk_size : s->last_pc | (1ull << 63);
        uint64_t answer, charged;
        int i;
        for (i = 0; i < 6; i++)
            s->reg_read(uc, s->hc_ids[i], &r[i]);
        answer = s->hc_fn(key, s->count, r[0], r[1], r[2], r[3], r[4], r[5]);
        if (answer & PD_FAST_SERVED) {
            if (answer & PD_FAST_EAX) {
                uint32_t eax = (uint32_t)(answer >> 32);
                s->reg_write(uc, s->hc_ids[0], &eax);
            }
            charged = (answer >> PD_FAST_CHARGE_SHIFT) & 0xFFFFFF;
            if ((answer & PD_FAST_END) || charged >= s->budget - s->count)
                s->budget = s->count; /* stop before the next block */
            else
                s->budget -= charged;
            return;
        }
    }
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
