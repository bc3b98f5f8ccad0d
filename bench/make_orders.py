#!/usr/bin/python3
"""Write a seeded, order-fraud-like data set as train/valid/test CSV files.

usage: bench/make_orders.py OUT_DIR [ROWS] [SEED]

Rows are orders in time order. The split is by time: first 70% train, next
10% validation, last 20% test. The fraud pattern drifts slowly with time,
as real fraud does. 25 numeric features (some with missing values,
some pure noise) and 4 categorical ones (6 to 300 levels).
"""
import os
import sys

import numpy as np


def main():
    out = sys.argv[1]
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 1_000_000
    seed = int(sys.argv[3]) if len(sys.argv) > 3 else 42
    rng = np.random.default_rng(seed)
    os.makedirs(out, exist_ok=True)

    t = np.sort(rng.uniform(0, 365 * 86400, n))
    drift = t / t.max()
    amount = np.round(np.exp(rng.normal(3.8, 1.1, n)), 2)
    account_age = np.round(rng.exponential(400, n))
    orders_30d = rng.poisson(2.5, n).astype(float)
    distinct_cards = rng.poisson(1.2, n).astype(float) + 1
    ip_risk = np.round(rng.beta(1.5, 8, n), 4)
    email_age = np.round(rng.exponential(900, n))
    email_age[rng.random(n) < 0.08] = np.nan
    shipping_distance = np.round(rng.gamma(1.5, 120, n), 1)
    shipping_distance[rng.random(n) < 0.05] = np.nan
    hour = np.floor((t % 86400) / 3600)
    basket_items = rng.poisson(3, n).astype(float) + 1
    failed_payments = rng.poisson(0.2, n).astype(float)
    velocity_1h = rng.poisson(0.3, n).astype(float)
    avg_order = np.round(amount * np.exp(rng.normal(0, 0.5, n)), 2)
    avg_order[account_age < 30] = np.nan
    device_age = np.round(rng.exponential(200, n))
    device_age[rng.random(n) < 0.15] = np.nan

    countries = np.array([f"C{i:02d}" for i in range(60)])
    country_p = rng.dirichlet(np.full(60, 0.3))
    country = rng.choice(60, n, p=country_p)
    country_risk = rng.normal(0, 0.8, 60)
    payment = rng.choice(6, n, p=[0.45, 0.25, 0.12, 0.1, 0.05, 0.03])
    payment_risk = np.array([0.0, 0.2, -0.3, 0.5, 1.0, -0.5])
    device = rng.choice(4, n, p=[0.5, 0.35, 0.1, 0.05])
    merchant = np.minimum(rng.zipf(1.4, n) - 1, 299)
    merchant_risk = rng.normal(0, 0.6, 300)

    noise = [np.round(rng.normal(0, 1, n), 4) for _ in range(12)]
    for k in (0, 3, 7):
        noise[k][rng.random(n) < 0.1] = np.nan

    ratio = amount / np.where(np.isnan(avg_order), amount, avg_order)
    z = (-4.6 + 0.35 * np.log1p(amount) * (1 + 0.5 * drift) - 0.9 * np.log1p(account_age) / 3
         + 3.5 * ip_risk + 0.25 * (distinct_cards - 1) + 0.5 * failed_payments + 0.4 * velocity_1h
         + np.where(np.isnan(email_age), 0.6, -0.15 * np.log1p(email_age) / 2)
         + np.where(np.isnan(shipping_distance), 0.3, 0.002 * np.nan_to_num(shipping_distance))
         + 0.4 * ((hour >= 1) & (hour <= 5)) + 0.3 * np.log(np.clip(ratio, 0.1, 20))
         + country_risk[country] + payment_risk[payment] + 0.3 * (device == 3)
         + merchant_risk[merchant] * (1 - 0.5 * drift)
         + 0.6 * (account_age < 7) * (amount > 150))
    fraud = (rng.random(n) < 1 / (1 + np.exp(-z))).astype(int)

    names = ["amount", "account_age_days", "orders_30d", "distinct_cards", "ip_risk", "email_age_days",
             "shipping_km", "hour", "basket_items", "failed_payments", "velocity_1h", "avg_order_amount",
             "device_age_days"] + [f"signal_{k}" for k in range(12)]
    numeric = [amount, account_age, orders_30d, distinct_cards, ip_risk, email_age, shipping_distance, hour,
               basket_items, failed_payments, velocity_1h, avg_order, device_age] + noise
    categorical = {"country": countries[country],
                   "payment_method": np.array(["card", "paypal", "bank", "wallet", "gift", "invoice"])[payment],
                   "device": np.array(["desktop", "ios", "android", "unknown"])[device],
                   "merchant": np.char.add("m", merchant.astype(str))}

    a, b = int(n * 0.7), int(n * 0.8)
    for part, (lo, hi) in {"train": (0, a), "valid": (a, b), "test": (b, n)}.items():
        with open(os.path.join(out, f"orders_{part}.csv"), "w") as f:
            f.write(",".join(names + list(categorical) + ["fraud"]) + "\n")
            columns = [np.char.mod("%.10g", c[lo:hi]) for c in numeric]
            columns = [np.where(col == "nan", "", col) for col in columns]
            columns += [c[lo:hi] for c in categorical.values()] + [fraud[lo:hi].astype(str)]
            rows = np.stack(columns, axis=1)
            f.write("\n".join(",".join(r) for r in rows))
            f.write("\n")
    print(f"wrote {n} rows, fraud rate {fraud.mean():.4f}, to {out}")


if __name__ == "__main__":
    main()
