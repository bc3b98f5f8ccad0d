#!/usr/bin/python3
"""Compare lanner's L2-regression trees with XGBoost (hist) on the Ames housing data.

The target is log(Sale_Price), as is usual for this right-skewed price. The script writes one seeded
random 60/20/20 split to CSV, trains lanner (through bench_train) and XGBoost with the same settings
(300 rounds, 31 leaves, learning rate 0.05, 255 bins, L2 1, patience 50 on the validation part) and
prints the test RMSE of each, on the log scale and in dollars.

usage: bench/compare_regression.py BENCH_TRAIN_BINARY [DATA_DIR] [--threads N]
"""
import os
import subprocess
import sys
import json

import numpy as np
import pandas as pd
import xgboost as xgb

SETTINGS = dict(trees=300, leaves=31, lr=0.05, bins=255, min_data=20, l2=1.0, early_stop=50)


def main():
    args = sys.argv[1:]
    binary = args[0]
    data_dir = args[1] if len(args) > 1 and not args[1].startswith("--") else "/work/shared/data"
    threads = int(args[args.index("--threads") + 1]) if "--threads" in args else 2
    path = os.path.join(data_dir, "ames.csv")
    if not os.path.exists(path):
        sys.exit(f"{path} not found")

    frame = pd.read_csv(path, keep_default_na=False, na_values=[""])
    frame["log_price"] = np.log(frame.pop("Sale_Price"))
    order = np.random.RandomState(1).permutation(len(frame))
    a, b = int(len(frame) * 0.6), int(len(frame) * 0.8)
    parts = [frame.iloc[order[:a]], frame.iloc[order[a:b]], frame.iloc[order[b:]]]
    work = os.environ.get("TMPDIR", "/tmp") + "/lanner-compare-regression"
    os.makedirs(work, exist_ok=True)
    paths = []
    for part, suffix in zip(parts, ("train", "valid", "test")):
        paths.append(os.path.join(work, f"ames_{suffix}.csv"))
        part.to_csv(paths[-1], index=False)

    scores_path = os.path.join(work, "lanner_scores.txt")
    command = [binary, "--train", paths[0], "--valid", paths[1], "--test", paths[2], "--label", "log_price",
               "--objective", "regression", "--threads", str(threads), "--trees", str(SETTINGS["trees"]),
               "--leaves", str(SETTINGS["leaves"]), "--lr", str(SETTINGS["lr"]), "--bins", str(SETTINGS["bins"]),
               "--min-data", str(SETTINGS["min_data"]), "--l2", str(SETTINGS["l2"]),
               "--early-stop", str(SETTINGS["early_stop"]), "--scores", scores_path]
    mine = json.loads(subprocess.run(command, check=True, capture_output=True, text=True).stdout)
    lanner_pred = np.loadtxt(scores_path)

    categories = {c: sorted(parts[0][c].dropna().astype(str).unique())
                  for c in frame.columns if frame[c].dtype == object}

    def features(part):
        x = part.drop(columns=["log_price"]).copy()
        for column, levels in categories.items():
            x[column] = pd.Categorical(x[column], categories=levels)
        return x, part["log_price"].to_numpy()

    (xt, yt), (xv, yv), (xs, ys) = (features(p) for p in parts)
    model = xgb.XGBRegressor(
        tree_method="hist", grow_policy="lossguide", max_leaves=SETTINGS["leaves"], max_depth=0,
        learning_rate=SETTINGS["lr"], n_estimators=SETTINGS["trees"], max_bin=SETTINGS["bins"],
        reg_lambda=SETTINGS["l2"], min_child_weight=1e-3, enable_categorical=True, max_cat_to_onehot=1,
        early_stopping_rounds=SETTINGS["early_stop"], n_jobs=threads, random_state=7)
    model.fit(xt, yt, eval_set=[(xv, yv)], verbose=False)
    xgb_pred = model.predict(xs)

    def rmse(prediction):
        return float(np.sqrt(np.mean((prediction - ys) ** 2)))

    def dollars(prediction):
        return float(np.sqrt(np.mean((np.exp(prediction) - np.exp(ys)) ** 2)))

    print(f"ames log(Sale_Price) test RMSE: lanner {rmse(lanner_pred):.4f} ({mine['trees']} trees), "
          f"XGBoost {xgb.__version__} {rmse(xgb_pred):.4f} ({model.best_iteration + 1} trees), "
          f"difference {rmse(lanner_pred) - rmse(xgb_pred):+.4f}")
    print(f"in dollars: lanner {dollars(lanner_pred):,.0f}, XGBoost {dollars(xgb_pred):,.0f}")


if __name__ == "__main__":
    main()
