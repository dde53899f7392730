/* A hostile partition: HOSTILE_CALLS raw hypercalls ("int $0x82") with numbers and arguments from a
 * seeded xorshift generator, so every run issues the same calls. Arguments are pointers into its
 * own scratch buffer, into partition 1's area, into the read-only PCT, just below 4 GB, small ids,
 * huge sizes and plain random words. It prints how many calls returned each code.
 *
 * Left out, because their legitimate effect is to stop or break the caller itself (not a fault of
 * the hypervisor): multicall (0; its records are arbitrary hypercalls, e.g. halting itself), the
 * self-targeting forms of halt/suspend/reset/shutdown partition (1, 2, 4, 5 with id 0) and of
 * reset/halt/suspend vCPU (28, 29, 30 with vCPU 0), and the calls that enable or redirect its own
 * interrupts or replace its descriptor tables and stack (15, 17, 19, 25, 36..42). */
#include <stdio.h>
#include <string.h>
#include <prtos.h>

#ifndef HOSTILE_CALLS
#define HOSTILE_CALLS 20000
#endif

#define VICTIM_START 0x6200000u
#define VICTIM_SIZE 0x100000u
#define PCT_ADDR 0xFBFC0000u
#define SCRATCH 65536u

static unsigned char scratch[SCRATCH + 4096];
static unsigned int rng = 0x2545F491u;
static unsigned int counts[12]; /* codes 0..-8, then positive, then other negative, then unknown-nr errors */

static unsigned int next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 17;
    rng ^= rng << 5;
    return rng;
}

static unsigned int arg(void)
{
    switch (next() % 10) {
    case 0: return 0;
    case 1: return next() | 0x01000000u; /* random, never a small size that fits in its own memory */
    case 2: return (unsigned int)scratch + next() % (SCRATCH - 4096);
    case 3: return VICTIM_START + next() % VICTIM_SIZE;
    case 4: return PCT_ADDR + next() % 0x2000;
    case 5: return 0xFFFFFFFFu - next() % 64;
    case 6: return next() % 8;
    case 7: return 0x80000000u | next();
    case 8: return next() % 4096;
    default: return 0xFC000000u - next() % 256; /* at the kernel's upper bound */
    }
}

static int excluded(unsigned int nr)
{
    return nr == 0 || nr == 15 || nr == 17 || nr == 19 || nr == 25 || (nr >= 36 && nr <= 42);
}

static int hcall(unsigned int nr, unsigned int a, unsigned int b, unsigned int c, unsigned int d, unsigned int e)
{
    int r;
    __asm__ __volatile__("int $0x82"
                         : "=a"(r)
                         : "a"(nr), "b"(a), "c"(b), "d"(c), "S"(d), "D"(e)
                         : "memory");
    return r;
}

void partition_main(void)
{
    unsigned int i, nr, a0;
    int r;
    static const char marker[] = "VICTIM-SECRET-";

    for (i = 0; i < HOSTILE_CALLS; i++) {
        unsigned int pick = next() % 10;
        if (pick < 5)
            nr = next() % 44;
        else if (pick < 9)
            nr = 44 + next() % 212;
        else
            nr = next();
        if (excluded(nr)) {
            i--;
            continue;
        }
        a0 = arg();
        if ((nr == 1 || nr == 2 || nr == 4 || nr == 5 || (nr >= 28 && nr <= 30)) && a0 == 0)
            a0 = 1 + next() % 300; /* never itself (partition 0) nor its vCPU 0 */
        r = hcall(nr, a0, arg(), arg(), arg(), arg());
        if (nr >= 44)
            counts[r == -2 ? 2 : 11]++;
        else if (r > 0)
            counts[9]++;
        else if (r >= -8)
            counts[-r]++;
        else
            counts[10]++;
    }
    for (i = 0; i + sizeof marker - 1 <= sizeof scratch; i++)
        if (memcmp(scratch + i, marker, sizeof marker - 1) == 0)
            printf("[0] LEAK at scratch+%u\n", i);
    printf("[0] hostile calls %u\n", (unsigned int)HOSTILE_CALLS);
    for (i = 0; i < 12; i++)
        printf("[0] code %u count %u\n", i, counts[i]);
    printf("[0] hostile done\n");
    for (;;)
        prtos_idle_self();
}
