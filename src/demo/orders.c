/*
 * The order model behind the demo warehouse; include/lanner/demo.h
 * describes what drives fraud. Probabilities and weights below are invented
 * to look like a mid-size web shop; they come from no real data.
 */
#include "demo/demo_internal.h"

#include <assert.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define N_COUNTRIES 15
#define N_PAYMENTS 5
#define N_DEVICES 3

enum { PAY_CARD, PAY_PAYPAL, PAY_GIFT_CARD, PAY_BANK_TRANSFER, PAY_BNPL };
enum { DEVICE_MOBILE, DEVICE_DESKTOP, DEVICE_TABLET };

/* First day of May 2026 (day 120) and of June (day 151), counted from 2026-01-01. */
#define MAY_FIRST 120
#define JUNE_FIRST 151

static const char *const country_codes[N_COUNTRIES] = {
    "US", "GB", "DE", "FR", "CA", "ES", "IT", "NL", "AU", "SE", "PL", "BR", "MX", "IN", "JP",
};

/* Share of customers billed in each country, in percent. */
static const double country_weights[N_COUNTRIES] = {
    28, 10, 10, 8, 6, 5, 5, 4, 4, 3, 4, 4, 3, 3, 3,
};

static const char *const payment_names[N_PAYMENTS] = {
    "card", "paypal", "gift_card", "bank_transfer", "bnpl",
};

static const char *const device_names[N_DEVICES] = {"mobile", "desktop", "tablet"};

/* Relative order volume by hour of day (UTC). */
static const double genuine_hours[24] = {
    1.5, 1.0, 0.7, 0.5, 0.5, 0.7, 1.5, 3.0, 4.0, 5.0, 5.5, 6.0,
    6.5, 6.0, 5.5, 5.5, 6.0, 6.5, 7.5, 8.5, 9.0, 8.5, 6.0, 3.5,
};
static const double fraud_hours[24] = {
    4.5, 5.0, 5.5, 5.5, 5.0, 4.0, 3.0, 3.0, 3.5, 4.0, 4.0, 4.0,
    4.0, 4.0, 4.0, 4.0, 4.0, 4.0, 4.0, 4.5, 4.5, 4.5, 4.5, 4.5,
};

/* Customers in the returning-customer pool, per order generated. */
#define POOL_PER_ORDER 0.35

/* Day counts of January to July 2026. */
static const int month_days[7] = {31, 28, 31, 30, 31, 30, 31};

typedef struct customer {
    uint16_t age_at_start; /* account age in days on 2026-01-01 */
    uint8_t country;
    uint8_t free_domain;
} customer;

/* Everything one generation needs besides the output. */
typedef struct generator {
    demo_rng rng;
    customer *pool;
    uint32_t pool_size;
    uint32_t next_account; /* ids from pool_size up are new accounts */
    double day_cumulative[DEMO_DAYS];
} generator;

const char *demo_country_code(int index)
{
    return country_codes[index];
}

const char *demo_payment_name(int index)
{
    return payment_names[index];
}

const char *demo_device_name(int index)
{
    return device_names[index];
}

void demo_format_time(uint32_t second, char buffer[32])
{
    int day = (int)(second / 86400);
    int in_day = (int)(second % 86400);
    int month = 0;

    assert(day < DEMO_DAYS);
    while (month < 6 && day >= month_days[month]) {
        day -= month_days[month];
        month++;
    }
    snprintf(buffer, 32, "2026-%02d-%02d %02d:%02d:%02d", month + 1, day + 1, in_day / 3600,
             in_day / 60 % 60, in_day % 60);
}

static double sigmoid(double x)
{
    return 1.0 / (1.0 + exp(-x));
}

static int bernoulli(generator *g, double p)
{
    return ln_rng_uniform(&g->rng) < p;
}

/* Orders per day grow about 25% over the period and are 15% higher at weekends. */
static void build_day_weights(generator *g)
{
    double total = 0.0;

    for (int day = 0; day < DEMO_DAYS; day++) {
        /* 2026-01-01 is a Thursday, so day % 7 == 2 is a Saturday and 3 a Sunday. */
        int weekend = day % 7 == 2 || day % 7 == 3;
        total += (1.0 + 0.25 * day / (DEMO_DAYS - 1)) * (weekend ? 1.15 : 1.0);
        g->day_cumulative[day] = total;
    }
}

static int draw_day(generator *g)
{
    double target = ln_rng_uniform(&g->rng) * g->day_cumulative[DEMO_DAYS - 1];
    int low = 0;
    int high = DEMO_DAYS - 1;

    while (low < high) {
        int middle = (low + high) / 2;
        if (g->day_cumulative[middle] <= target)
            low = middle + 1;
        else
            high = middle;
    }
    return low;
}

/* Account ages on 2026-01-01: log-normal with a median of about 300 days, at most 5000. */
static void build_pool(generator *g)
{
    for (uint32_t i = 0; i < g->pool_size; i++) {
        double age = exp(log(300.0) + 1.0 * demo_rng_normal(&g->rng));
        customer *c = &g->pool[i];

        c->age_at_start = (uint16_t)fmin(fmax(age, 1.0), 5000.0);
        c->country = (uint8_t)demo_rng_choose(&g->rng, country_weights, N_COUNTRIES);
        c->free_domain = (uint8_t)bernoulli(g, 0.62);
    }
}

/* Log-normal money in cents between 1.00 and 10000.00. */
static int32_t draw_amount(generator *g, double median, double sigma)
{
    double amount = exp(log(median) + sigma * demo_rng_normal(&g->rng));

    if (amount < 1.0)
        amount = 1.0;
    if (amount > 10000.0)
        amount = 10000.0;
    return (int32_t)lround(amount * 100.0);
}

/* A geometric count, at most 40: each further unit follows with probability p. */
static uint8_t draw_geometric(generator *g, double p)
{
    uint8_t count = 0;

    while (count < 40 && bernoulli(g, p))
        count++;
    return count;
}

static uint8_t draw_other_country(generator *g, uint8_t billing)
{
    double weights[N_COUNTRIES];

    memcpy(weights, country_weights, sizeof weights);
    weights[billing] = 0.0;
    return (uint8_t)demo_rng_choose(&g->rng, weights, N_COUNTRIES);
}

/* bnpl ramps up over May; fraudsters take it up three times as fast. */
static uint8_t draw_payment(generator *g, int day, int fraudster)
{
    double ramp = day < MAY_FIRST ? 0.0 : fmin(1.0, (day - MAY_FIRST) / 30.0);
    double genuine[N_PAYMENTS] = {0.62, 0.24, 0.05, 0.09, 0.10 * ramp};
    double fraud[N_PAYMENTS] = {0.55, 0.15, 0.22, 0.08, 0.30 * ramp};

    return (uint8_t)demo_rng_choose(&g->rng, fraudster ? fraud : genuine, N_PAYMENTS);
}

static uint8_t draw_device(generator *g, int fraudster)
{
    static const double genuine[N_DEVICES] = {0.56, 0.37, 0.07};
    static const double fraud[N_DEVICES] = {0.36, 0.58, 0.06};

    return (uint8_t)demo_rng_choose(&g->rng, fraudster ? fraud : genuine, N_DEVICES);
}

/* A fresh account: new sign-up or guest checkout. */
static void new_account(generator *g, demo_order *order, double p_free)
{
    order->customer = g->next_account++;
    order->free_domain = (uint8_t)bernoulli(g, p_free);
}

static void genuine_order(generator *g, demo_order *order, int day)
{
    double kind = ln_rng_uniform(&g->rng);

    if (kind < 0.85) {
        const customer *c = &g->pool[ln_rng_next(&g->rng) % g->pool_size];
        order->customer = (uint32_t)(c - g->pool);
        order->free_domain = c->free_domain;
        order->billing = c->country;
        order->account_age = (int16_t)(c->age_at_start + day);
    } else {
        new_account(g, order, 0.62);
        order->billing = (uint8_t)demo_rng_choose(&g->rng, country_weights, N_COUNTRIES);
        /* Guest checkouts have no account, so no age. */
        order->account_age = kind < 0.90 ? -1 : (int16_t)draw_geometric(g, 0.5);
    }

    order->shipping = bernoulli(g, 0.08) ? draw_other_country(g, order->billing) : order->billing;
    order->payment = draw_payment(g, day, 0);
    order->device = draw_device(g, 0);
    order->velocity = draw_geometric(g, 0.18);
    order->amount_cents = draw_amount(g, order->payment == PAY_GIFT_CARD ? 35.0 : 55.0, 0.85);
}

static void fraudster_order(generator *g, demo_order *order, int day)
{
    double kind = ln_rng_uniform(&g->rng);

    if (kind < 0.15) {
        /* Account takeover: a returning customer's account and address. */
        const customer *c = &g->pool[ln_rng_next(&g->rng) % g->pool_size];
        order->customer = (uint32_t)(c - g->pool);
        order->free_domain = c->free_domain;
        order->billing = c->country;
        order->account_age = (int16_t)(c->age_at_start + day);
    } else {
        new_account(g, order, 0.90);
        order->random_email = (uint8_t)bernoulli(g, 0.5);
        order->billing = (uint8_t)demo_rng_choose(&g->rng, country_weights, N_COUNTRIES);
        if (kind < 0.35)
            order->account_age = -1;
        else if (kind < 0.90)
            order->account_age = (int16_t)(ln_rng_next(&g->rng) % 3);
        else
            order->account_age = (int16_t)(3 + ln_rng_next(&g->rng) % 28);
    }

    order->shipping = bernoulli(g, 0.30) ? draw_other_country(g, order->billing) : order->billing;
    order->payment = draw_payment(g, day, 1);
    order->device = draw_device(g, 1);
    order->velocity = draw_geometric(g, 0.55);
    order->amount_cents = draw_amount(g, 160.0, 0.8);
}

/*
 * Returns the fraud risk of an order as a logit. Whether a fraudster's
 * attempt succeeds depends on the signals and their interactions. A genuine
 * customer's order is fraud only through account takeover, mostly when
 * shipped abroad at night.
 */
static double fraud_logit(const demo_order *order, int fraudster, int hour)
{
    double amount = order->amount_cents / 100.0;
    int night = hour < 6;
    int mismatch = order->billing != order->shipping;
    int gift = order->payment == PAY_GIFT_CARD;
    int new_account = order->account_age < 3; /* guests (-1) count as new */
    int velocity = order->velocity > 6 ? 6 : order->velocity;

    if (!fraudster)
        return -7.2 + 1.6 * mismatch + 0.5 * log(amount / 100.0) + 0.7 * night +
               1.0 * (mismatch && night) + 0.6 * (order->device == DEVICE_DESKTOP && velocity >= 2);

    return -1.1 + 1.0 * new_account + 0.7 * log(amount / 150.0) + 0.6 * night + 0.5 * mismatch +
           0.8 * gift + 0.25 * velocity + 1.0 * (new_account && amount > 250.0) +
           0.8 * (night && gift) + 0.5 * (order->payment == PAY_BNPL) + 0.4 * order->free_domain -
           0.8 * (order->payment == PAY_BANK_TRANSFER);
}

/* The share of orders placed by fraudsters: 2.7%, rising to 3.7% over June and July. */
static double fraudster_share(int day)
{
    if (day < JUNE_FIRST)
        return 0.027;
    return 0.027 + 0.010 * (day - JUNE_FIRST) / (double)(DEMO_DAYS - 1 - JUNE_FIRST);
}

static void generate_order(generator *g, demo_order *order, uint32_t sequence)
{
    int day = draw_day(g);
    int fraudster = bernoulli(g, fraudster_share(day));
    int hour = demo_rng_choose(&g->rng, fraudster ? fraud_hours : genuine_hours, 24);
    uint32_t second_in_hour = (uint32_t)(ln_rng_next(&g->rng) % 3600);

    memset(order, 0, sizeof *order);
    order->sequence = sequence;
    order->second = (uint32_t)day * 86400u + (uint32_t)hour * 3600u + second_in_hour;

    if (fraudster)
        fraudster_order(g, order, day);
    else
        genuine_order(g, order, day);

    order->is_fraud = (uint8_t)bernoulli(g, sigmoid(fraud_logit(order, fraudster, hour)));
}

static int compare_orders(const void *a, const void *b)
{
    const demo_order *x = a;
    const demo_order *y = b;

    if (x->second != y->second)
        return x->second < y->second ? -1 : 1;
    return x->sequence < y->sequence ? -1 : x->sequence > y->sequence;
}

ln_status demo_generate_orders(const ln_demo_options *options, demo_orders *out, ln_error *err)
{
    generator g;
    size_t n = options->n_orders;

    memset(out, 0, sizeof *out);
    memset(&g, 0, sizeof g);
    ln_rng_seed(&g.rng, options->seed);

    g.pool_size = (uint32_t)(n * POOL_PER_ORDER) + 1;
    g.next_account = g.pool_size;
    g.pool = malloc(g.pool_size * sizeof *g.pool);
    out->orders = malloc(n * sizeof *out->orders);
    if (g.pool == NULL || out->orders == NULL) {
        free(g.pool);
        free(out->orders);
        out->orders = NULL;
        return ln_error_set(err, LN_ERR_NOMEM, "out of memory generating %zu demo orders", n);
    }

    build_day_weights(&g);
    build_pool(&g);
    for (size_t i = 0; i < n; i++)
        generate_order(&g, &out->orders[i], (uint32_t)i);
    free(g.pool);

    qsort(out->orders, n, sizeof *out->orders, compare_orders);
    out->n_orders = n;
    return LN_OK;
}

static const char *const first_names[] = {
    "james", "mary", "john", "linda", "david", "sarah", "michael", "emma", "daniel", "olivia",
    "lukas", "anna", "leon", "marie", "hugo", "chloe", "lucas", "lea", "pablo", "lucia",
    "marco", "giulia", "jan", "sanne", "erik", "elsa", "piotr", "zofia", "joao", "ana",
    "diego", "sofia", "arjun", "priya", "haruto", "yui", "liam", "ava", "noah", "mia",
};

static const char *const last_names[] = {
    "smith", "johnson", "brown", "taylor", "wilson", "martin", "mueller", "schmidt", "schneider",
    "fischer", "dubois", "moreau", "garcia", "lopez", "rossi", "russo", "devries", "jansen",
    "andersson", "nilsson", "nowak", "kowalski", "silva", "santos", "hernandez", "gonzalez",
    "sharma", "patel", "sato", "suzuki", "clark", "walker", "young", "king", "wright", "scott",
};

static const char *const free_domains[] = {
    "gmail.com", "yahoo.com", "hotmail.com", "outlook.com", "icloud.com", "gmx.de", "web.de",
    "orange.fr", "libero.it", "proton.me",
};
static const double free_domain_weights[] = {45, 12, 10, 12, 8, 4, 3, 2, 2, 2};

/* Invented company domains for customers who order with a work address. */
static const char *const company_domains[] = {
    "acme-corp.com", "globex.com", "initech.com", "umbrella-group.com", "hooli.com",
    "vandelay.com", "wonka.co.uk", "tyrell.com", "cyberdyne.io", "soylent.co", "massive.de",
    "duff-brewing.com",
};

#define COUNT(array) ((int)(sizeof(array) / sizeof((array)[0])))

/* Derives the address of an account from the seed and the account id alone, so it is stable. */
void demo_format_email(uint64_t seed, const demo_order *order, char *buffer, size_t capacity)
{
    demo_rng rng;
    const char *domain;
    const char *first;
    const char *last;
    unsigned number;

    ln_rng_seed(&rng, seed ^ (0x5851f42d4c957f2dull * ((uint64_t)order->customer + 1)));

    if (order->free_domain)
        domain = free_domains[demo_rng_choose(&rng, free_domain_weights, COUNT(free_domains))];
    else
        domain = company_domains[ln_rng_next(&rng) % COUNT(company_domains)];

    if (order->random_email) {
        static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";
        char local[16];
        int length = 8 + (int)(ln_rng_next(&rng) % 5);
        for (int i = 0; i < length; i++)
            local[i] = alphabet[ln_rng_next(&rng) % (sizeof alphabet - 1)];
        local[length] = '\0';
        snprintf(buffer, capacity, "%s@%s", local, domain);
        return;
    }

    first = first_names[ln_rng_next(&rng) % COUNT(first_names)];
    last = last_names[ln_rng_next(&rng) % COUNT(last_names)];
    number = (unsigned)(ln_rng_next(&rng) % 100000);
    switch (ln_rng_next(&rng) % 4) {
    case 0: snprintf(buffer, capacity, "%s.%s%u@%s", first, last, number, domain); break;
    case 1: snprintf(buffer, capacity, "%s%s%u@%s", first, last, number, domain); break;
    case 2: snprintf(buffer, capacity, "%c.%s%u@%s", first[0], last, number, domain); break;
    default: snprintf(buffer, capacity, "%s_%s%u@%s", first, last, number, domain); break;
    }
}
