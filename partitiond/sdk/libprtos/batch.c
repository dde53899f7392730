/*
 * batch.c - lazy hypercalls: a per-vCPU batch run with prtos_multicall.
 *
 * Each vCPU owns its batch (D-31: vCPUs of one partition run in parallel).
 * Every wrapper calls prtos_flush_hyp_batch() before trapping; to keep that
 * free when nothing is queued, a byte per vCPU says whether its batch is
 * non-empty. Each byte is written only by its own vCPU, so the common
 * "nothing anywhere" test needs neither the vCPU id (a hypercall) nor locks.
 */
#include <prtos.h>

static prtos_u32_t batch_buffer[CONFIG_MAX_NO_VCPUS][PRTOS_BATCH_WORDS];
static prtos_u32_t batch_length[CONFIG_MAX_NO_VCPUS];
static volatile prtos_u8_t batch_pending[CONFIG_MAX_NO_VCPUS];

static prtos_s32_t any_batch_pending(void) {
    prtos_s32_t e;
    for (e = 0; e < CONFIG_MAX_NO_VCPUS; e++)
        if (batch_pending[e]) return 1;
    return 0;
}

/* Runs vCPU e's batch and empties it whatever the outcome. */
static prtos_s32_t flush_vcpu_batch(prtos_id_t e) {
    prtos_s32_t ret;
    if (batch_length[e] == 0) return PRTOS_OK;
    ret = prtos_multicall(&batch_buffer[e][0], &batch_buffer[e][batch_length[e]]);
    batch_length[e] = 0;
    batch_pending[e] = 0;
    return (ret < 0) ? ret : PRTOS_OK;
}

__stdcall prtos_s32_t prtos_flush_hyp_batch(void) {
    prtos_id_t e;
    if (!any_batch_pending()) return PRTOS_OK;
    e = prtos_get_vcpuid();
    if (e >= CONFIG_MAX_NO_VCPUS) return PRTOS_OK;
    return flush_vcpu_batch(e);
}

__stdcall void init_batch(void) {
    prtos_id_t e = prtos_get_vcpuid();
    if (e >= CONFIG_MAX_NO_VCPUS) return;
    batch_length[e] = 0;
    batch_pending[e] = 0;
}

/*
 * Appends [nr, nargs, args...]. A record that cannot fit even in an empty
 * batch is dropped (there is no way to report it from a void function).
 */
__stdcall void prtos_lazy_hypercall(prtos_u32_t hypercall_nr, prtos_s32_t num_of_args, ...) {
    __builtin_va_list args;
    prtos_u32_t *record;
    prtos_id_t e;
    prtos_s32_t i;

    if (num_of_args < 0 || num_of_args > PRTOS_BATCH_WORDS - 2) return;
    e = prtos_get_vcpuid();
    if (e >= CONFIG_MAX_NO_VCPUS) return;
    if (batch_length[e] + 2 + (prtos_u32_t)num_of_args > PRTOS_BATCH_WORDS) flush_vcpu_batch(e);

    record = &batch_buffer[e][batch_length[e]];
    record[0] = hypercall_nr;
    record[1] = (prtos_u32_t)num_of_args;
    __builtin_va_start(args, num_of_args);
    for (i = 0; i < num_of_args; i++) record[2 + i] = __builtin_va_arg(args, prtos_u32_t);
    __builtin_va_end(args);
    batch_length[e] += 2 + (prtos_u32_t)num_of_args;
    batch_pending[e] = 1;
}
