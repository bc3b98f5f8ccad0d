#!/usr/bin/python3
"""Compare lanner's learners with XGBoost (hist) on the shared data sets.

For each data set the script writes one seeded random 60/20/20 split to CSV,
trains lanner (through bench_train) and XGBoost with the same settings and
early stopping on the validation part, and prints test AUC and log loss.

usage: bench/compare.py BENCH_TRAIN_BINARY [DATA_DIR] [--threads N] [--learner gbdt|linear]
"""
import json
import os
import subprocess
import sys
import time

import numpy as np
import pandas as pd
import xgboost as xgb
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import log_loss, roc_auc_score

DATASETS = [
    ("lending_club.csv", "Class", "bad"),
    ("mlc_churn.csv", "churn", "yes"),
    ("spam.csv", "type", "spam"),
    ("PimaIndiansDiabetes2.csv", "diabetes", "pos"),
]

SETTINGS = dict(trees=300, leaves=31, lr=0.05, bins=255, min_data=20, l2=1.0, early_stop=50)


def split(frame, seed=1):
    order = np.random.RandomState(seed).permutation(len(frame))
    a, b = int(len(frame) * 0.6), int(len(frame) * 0.8)
    return frame.iloc[order[:a]], frame.iloc[order[a:b]], frame.iloc[order[b:]]


def xgb_frame(frame, label, positive, categories):
    y = (frame[label].astype(str) == positive).astype(int).to_numpy()
    x = frame.drop(columns=[label]).copy()
    for column in x.columns:
        if x[column].dtype == object:
            x[column] = pd.Categorical(x[column], categories=categories[column])
    return x, y


def run_xgboost(train, valid, test, label, positive, threads):
    categories = {c: sorted(train[c].dropna().astype(str).unique())
                  for c in train.columns if train[c].dtype == object and c != label}
    xt, yt = xgb_frame(train, label, positive, categories)
    xv, yv = xgb_frame(valid, label, positive, categories)
    xs, ys = xgb_frame(test, label, positive, categories)
    model = xgb.XGBClassifier(
        tree_method="hist", grow_policy="lossguide", max_leaves=SETTINGS["leaves"], max_depth=0,
        learning_rate=SETTINGS["lr"], n_estimators=SETTINGS["trees"], max_bin=SETTINGS["bins"],
        reg_lambda=SETTINGS["l2"], min_child_weight=1e-3, enable_categorical=True,
        max_cat_to_onehot=1, early_stopping_rounds=SETTINGS["early_stop"], eval_metric="logloss",
        n_jobs=threads, random_state=7)
    start = time.time()
    model.fit(xt, yt, eval_set=[(xv, yv)], verbose=False)
    seconds = time.time() - start
    p = model.predict_proba(xs)[:, 1]
    return dict(train_s=seconds, trees=model.best_iteration + 1, test_auc=roc_auc_score(ys, p),
                test_logloss=log_loss(ys, p))


def run_sklearn_logistic(train, test, label, positive):
    """Reference for the linear learner: standardised numbers, one-hot categories, C = 1 / l2."""
    def design(frame, ref):
        parts = []
        for column in ref.columns:
            if column == label:
                continue
            if ref[column].dtype == object:
                parts.append(pd.get_dummies(pd.Categorical(frame[column], categories=sorted(ref[column].dropna().unique()))).to_numpy(float))
            else:
                values = frame[column].to_numpy(float)
                mean, std = np.nanmean(ref[column]), np.nanstd(ref[column])
                z = (np.nan_to_num(values, nan=mean) - mean) / (std if std > 0 else 1)
                parts.append(z[:, None])
                parts.append(np.isnan(values)[:, None].astype(float))
        return np.hstack(parts)
    xt, xs = design(train, train), design(test, train)
    yt = (train[label].astype(str) == positive).to_numpy(int)
    ys = (test[label].astype(str) == positive).to_numpy(int)
    model = LogisticRegression(C=1.0 / SETTINGS["l2"], max_iter=10000, tol=1e-10)
    start = time.time()
    model.fit(xt, yt)
    seconds = time.time() - start
    p = model.predict_proba(xs)[:, 1]
    return dict(train_s=seconds, test_auc=roc_auc_score(ys, p), test_logloss=log_loss(ys, p))


def run_lanner(binary, paths, label, positive, threads, learner):
    command = [binary, "--train", paths[0], "--valid", paths[1], "--test", paths[2], "--label", label,
               "--positive", positive, "--threads", str(threads), "--learner", learner,
               "--trees", str(SETTINGS["trees"]), "--leaves", str(SETTINGS["leaves"]), "--lr", str(SETTINGS["lr"]),
               "--bins", str(SETTINGS["bins"]), "--min-data", str(SETTINGS["min_data"]),
               "--l2", str(SETTINGS["l2"]), "--early-stop", str(SETTINGS["early_stop"])]
    return json.loads(subprocess.run(command, check=True, capture_output=True, text=True).stdout)


def main():
    args = sys.argv[1:]
    binary = args[0]
    data_dir = args[1] if len(args) > 1 and not args[1].startswith("--") else "/work/shared/data"
    threads = int(args[args.index("--threads") + 1]) if "--threads" in args else 2
    learner = args[args.index("--learner") + 1] if "--learner" in args else "gbdt"
    work = os.environ.get("TMPDIR", "/tmp") + "/lanner-compare"
    os.makedirs(work, exist_ok=True)

    print(f"{'data set':28} {'lanner AUC':>10} {'ref AUC':>8} {'diff':>7} {'lanner LL':>9} {'ref LL':>7} "
          f"{'lanner s':>8} {'ref s':>6}")
    for name, label, positive in DATASETS:
        path = os.path.join(data_dir, name)
        if not os.path.exists(path):
            print(f"{name}: not found, skipped")
            continue
        frame = pd.read_csv(path, keep_default_na=False, na_values=[""])
        parts = split(frame)
        paths = []
        for part, suffix in zip(parts, ("train", "valid", "test")):
            paths.append(os.path.join(work, f"{name[:-4]}_{suffix}.csv"))
            part.to_csv(paths[-1], index=False)
        mine = run_lanner(binary, paths, label, positive, threads, learner)
        if learner == "gbdt":
            ref = run_xgboost(parts[0], parts[1], parts[2], label, positive, threads)
        else:
            ref = run_sklearn_logistic(parts[0], parts[2], label, positive)
        print(f"{name:28} {mine['test_auc']:10.4f} {ref['test_auc']:8.4f} {mine['test_auc'] - ref['test_auc']:+7.4f} "
              f"{mine['test_logloss']:9.4f} {ref['test_logloss']:7.4f} {mine['train_s']:8.3f} {ref['train_s']:6.3f}")


if __name__ == "__main__":
    main()
