/*
 * Internals of the demo generator: the random stream and the order model.
 */
#ifndef LANNER_DEMO_INTERNAL_H
#define LANNER_DEMO_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "lanner/demo.h"
#include "lanner/random.h"

/* The demo's stream is lanner's seeded generator; the helpers below add the distributions it draws from. */
typedef ln_rng demo_rng;

/* Returns a standard normal deviate (Box-Muller). */
double demo_rng_normal(demo_rng *rng);

/* Returns an index in [0, n) drawn with probability weights[i] / sum(weights). */
int demo_rng_choose(demo_rng *rng, const double *weights, int n);

/* Days from 2026-01-01 to 2026-07-31 inclusive. */
#define DEMO_DAYS 212

/* One generated order, before sorting by time; strings are indexes into the tables in orders.c. */
typedef struct demo_order {
    uint32_t second;      /* seconds since 2026-01-01 00:00:00 */
    uint32_t sequence;    /* generation order, to break ties in time */
    uint32_t customer;    /* account id; the email is derived from it */
    int32_t amount_cents;
    int16_t account_age;  /* days; -1 = guest checkout (NULL) */
    uint8_t billing;      /* country index */
    uint8_t shipping;
    uint8_t payment;      /* payment method index */
    uint8_t device;
    uint8_t velocity;     /* orders_last_24h */
    uint8_t free_domain;
    uint8_t random_email; /* local part is random letters, as fraudsters' often are */
    uint8_t is_fraud;
} demo_order;

/* The set of orders of one generated warehouse. */
typedef struct demo_orders {
    demo_order *orders; /* n_orders, sorted by time */
    size_t n_orders;
} demo_orders;

/* Generates options->n_orders orders sorted by time; the caller frees out->orders. */
ln_status demo_generate_orders(const ln_demo_options *options, demo_orders *out, ln_error *err);

/* Formats the text fields of an order. */
const char *demo_country_code(int index);
const char *demo_payment_name(int index);
const char *demo_device_name(int index);
void demo_format_time(uint32_t second, char buffer[32]);
void demo_format_email(uint64_t seed, const demo_order *order, char *buffer, size_t capacity);

#endif
