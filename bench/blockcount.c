/*
 * Reference hook of bench/engine.py: the cheapest native UC_HOOK_BLOCK
 * callback (one increment per translated-block execution), to measure what a
 * block-granular counter costs on the same guest as the engine.
 */
#include <stdint.h>

void bench_block_hook(void *uc, uint64_t address, uint32_t size, void *user_data)
{
    (void)uc;
    (void)address;
    (void)size;
    ++*(uint64_t *)user_data;
}
