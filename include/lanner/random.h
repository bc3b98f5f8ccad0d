/*
 * lanner's seeded random numbers: xoshiro256** seeded through splitmix64,
 * both as described by Blackman and Vigna, "Scrambled linear pseudorandom
 * number generators" (2018). The same seed gives the same stream on every
 * platform, which keeps splits, bootstraps and the demo data reproducible.
 */
#ifndef LANNER_RANDOM_H
#define LANNER_RANDOM_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ln_rng {
    uint64_t s[4];
} ln_rng;

/* Advances state and returns the next splitmix64 output: a well-mixed hash of a counter. */
uint64_t ln_splitmix64(uint64_t *state);

void ln_rng_seed(ln_rng *rng, uint64_t seed);

uint64_t ln_rng_next(ln_rng *rng);

/* Returns a uniform double in [0, 1) with 53 random bits. */
double ln_rng_uniform(ln_rng *rng);

/* Returns a uniform integer in [0, bound), without modulo bias; bound must be positive. */
uint64_t ln_rng_below(ln_rng *rng, uint64_t bound);

#ifdef __cplusplus
}
#endif

#endif
