/*
 * The demo's random draws: lanner's seeded xoshiro256** stream (see
 * lanner/random.h), so the demo does not depend on rand().
 */
#include "demo/demo_internal.h"

#include <assert.h>
#include <math.h>

double demo_rng_normal(demo_rng *rng)
{
    /* 1 - u lies in (0, 1], so the log is finite. */
    double radius = sqrt(-2.0 * log(1.0 - ln_rng_uniform(rng)));
    double angle = 2.0 * M_PI * ln_rng_uniform(rng);

    return radius * cos(angle);
}

int demo_rng_choose(demo_rng *rng, const double *weights, int n)
{
    double total = 0.0;
    double target;

    assert(n > 0);
    for (int i = 0; i < n; i++)
        total += weights[i];

    target = ln_rng_uniform(rng) * total;
    for (int i = 0; i < n - 1; i++) {
        if (target < weights[i])
            return i;
        target -= weights[i];
    }
    return n - 1;
}
