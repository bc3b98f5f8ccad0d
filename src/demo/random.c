/*
 * The demo's own random stream: xoshiro256** seeded by splitmix64, both as
 * described by Blackman and Vigna, "Scrambled linear pseudorandom number
 * generators" (2018). Written here so the demo does not depend on rand().
 */
#include "demo/demo_internal.h"

#include <assert.h>
#include <math.h>

static uint64_t rotate_left(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

static uint64_t splitmix64(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ull);

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

void demo_rng_seed(demo_rng *rng, uint64_t seed)
{
    for (int i = 0; i < 4; i++)
        rng->s[i] = splitmix64(&seed);
}

uint64_t demo_rng_next(demo_rng *rng)
{
    uint64_t *s = rng->s;
    uint64_t result = rotate_left(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;

    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotate_left(s[3], 45);
    return result;
}

double demo_rng_uniform(demo_rng *rng)
{
    return (double)(demo_rng_next(rng) >> 11) * 0x1.0p-53;
}

double demo_rng_normal(demo_rng *rng)
{
    /* 1 - u lies in (0, 1], so the log is finite. */
    double radius = sqrt(-2.0 * log(1.0 - demo_rng_uniform(rng)));
    double angle = 2.0 * M_PI * demo_rng_uniform(rng);

    return radius * cos(angle);
}

int demo_rng_choose(demo_rng *rng, const double *weights, int n)
{
    double total = 0.0;
    double target;

    assert(n > 0);
    for (int i = 0; i < n; i++)
        total += weights[i];

    target = demo_rng_uniform(rng) * total;
    for (int i = 0; i < n - 1; i++) {
        if (target < weights[i])
            return i;
        target -= weights[i];
    }
    return n - 1;
}
