#include "lanner/random.h"

static uint64_t rotate_left(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

uint64_t ln_splitmix64(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ull);

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

void ln_rng_seed(ln_rng *rng, uint64_t seed)
{
    for (int i = 0; i < 4; i++)
        rng->s[i] = ln_splitmix64(&seed);
}

uint64_t ln_rng_next(ln_rng *rng)
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

double ln_rng_uniform(ln_rng *rng)
{
    return (double)(ln_rng_next(rng) >> 11) * 0x1.0p-53;
}

/* Lemire's multiply-and-reject method: one multiplication in the common case. */
uint64_t ln_rng_below(ln_rng *rng, uint64_t bound)
{
    unsigned __int128 product = (unsigned __int128)ln_rng_next(rng) * bound;
    uint64_t low = (uint64_t)product;

    if (low < bound) {
        uint64_t threshold = -bound % bound;
        while (low < threshold) {
            product = (unsigned __int128)ln_rng_next(rng) * bound;
            low = (uint64_t)product;
        }
    }
    return (uint64_t)(product >> 64);
}
