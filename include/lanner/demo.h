/*
 * The demo warehouse: a synthetic, seeded table of web-shop orders with
 * fraud labels, so that `lanner demo` can show the whole path from a
 * hand-written rule to a registered model without outside data.
 *
 *     ln_error err = {0};
 *     ln_demo_options options = LN_DEMO_OPTIONS_DEFAULT;
 *     options.n_orders = 50000;
 *     if (ln_demo_generate("demo.db", &options, &err) != LN_OK)
 *         fprintf(stderr, "lanner: %s\n", err.message);
 *
 * The table `orders` has one row per order, in created_at order:
 *
 *   order_id           integer  1, 2, ... in time order
 *   created_at         text     'YYYY-MM-DD HH:MM:SS', 2026-01-01 to 2026-07-31, UTC
 *   customer_email     text     the account's address (high cardinality; two accounts
 *                               share one rarely, as the local part is random)
 *   amount             real     order value in USD, 2 decimals, log-normal
 *   billing_country    text     ISO 3166 code, 15 countries (US 28%, GB, DE 10%, ...)
 *   shipping_country   text     same set
 *   payment_method     text     card, paypal, gift_card, bank_transfer; bnpl from May
 *   account_age_days   integer  days since the account was created; NULL = guest checkout
 *   orders_last_24h    integer  earlier orders with the same card in the last 24 hours
 *                               (drawn per order: the card is not in the table)
 *   hour               integer  0-23, the hour of created_at
 *   device             text     mobile, desktop, tablet
 *   email_domain_free  integer  1 when the address is at a free mail provider
 *   is_fraud           integer  1 for a confirmed fraudulent order (about 2%)
 *
 * How fraud arises: each order comes either from a genuine customer or, with
 * a probability of about 3%, from a fraudster. Fraudsters mostly use
 * brand-new or guest accounts, free mail domains and desktops, spend about
 * three times as much, order more at night, use gift cards more, place
 * bursts of orders (orders_last_24h), and ship abroad more often. Whether
 * an order is fraud is then drawn from a logistic risk score over these
 * signals with interactions: a new account with a high amount, and a gift
 * card at night, raise the risk by more than the sum of their parts. Genuine
 * customers' orders are fraud rarely (account takeover), mostly when they
 * ship abroad at night. The rule `billing_country != shipping_country`
 * flags about 8% of good orders and about a third of frauds, so it is a
 * real but weak signal that a tree model beats. Drift: a new payment method,
 * bnpl (buy now, pay later), appears in May and fraudsters adopt it quickly,
 * and the share of fraudsters rises from June, so a model trained on the
 * early months sees a shifted test period. Volume grows about 25% over the
 * seven months and is higher at weekends.
 *
 * The same seed and n_orders give the same rows on the same platform (the
 * generator uses its own xoshiro256** stream; amounts go through libm's
 * log and exp, whose last bits may differ between C libraries).
 */
#ifndef LANNER_DEMO_H
#define LANNER_DEMO_H

#include <stddef.h>
#include <stdint.h>

#include "lanner/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Orders in one generated warehouse. */
#define LN_DEMO_MAX_ORDERS 10000000u

typedef struct ln_demo_options {
    size_t n_orders; /* rows to generate, 1 to LN_DEMO_MAX_ORDERS; default 200000 */
    uint64_t seed;   /* any value, 0 included; default 7 */
} ln_demo_options;

#define LN_DEMO_OPTIONS_DEFAULT {200000, 7}

/*
 * Writes a new SQLite database at db_path with the table `orders` described
 * above, replacing any file there. Rows go to a temporary file beside
 * db_path, which is synced and renamed over it, so readers see the old file
 * or the complete new one. A leftover -wal, -shm or -journal file of the old
 * database is deleted first, so no process may have db_path open while this
 * runs. options may be NULL for the defaults.
 *
 * Errors: LN_ERR_CONFIG for n_orders of 0 or over LN_DEMO_MAX_ORDERS or an
 * empty path; LN_ERR_IO when the folder is not writable or a write fails;
 * LN_ERR_NOMEM; LN_ERR_SQL when SQLite fails.
 */
ln_status ln_demo_generate(const char *db_path, const ln_demo_options *options, ln_error *err);

#ifdef __cplusplus
}
#endif

#endif
