#!/usr/bin/python3
"""Train XGBoost (hist), LightGBM or scikit-learn HistGradientBoostingClassifier
on the CSV files from make_orders.py and print one JSON line like bench_train's.

usage: bench/train_reference.py xgboost|lightgbm|sklearn DATA_DIR THREADS

LightGBM runs through its command-line program (LIGHTGBM_BIN, default
/tmp/lgbm-src/lightgbm), since its Python package may be absent. The frames
are written to CSV with category codes. train_s is the training time the
program logs (its "seconds elapsed, finished iteration" line), which leaves
out its CSV parsing.
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np
import pandas as pd
from sklearn.metrics import log_loss, roc_auc_score

TREES, LEAVES, LR, BINS, PATIENCE = int(os.environ.get("BENCH_TREES", 300)), 31, 0.05, 255, 50


def load(path, categories=None):
    frame = pd.read_csv(path)
    y = frame.pop("fraud").to_numpy()
    for column in frame.columns:
        if frame[column].dtype == object:
            levels = categories[column] if categories else sorted(frame[column].dropna().unique())
            frame[column] = pd.Categorical(frame[column], categories=levels)
    return frame, y


def lightgbm_csv(frame, y, path):
    """Writes label first, then features, with categories as their integer codes and missing cells empty."""
    out = frame.copy()
    for column in out.columns:
        if str(out[column].dtype) == "category":
            codes = out[column].cat.codes.astype(float)
            out[column] = codes.where(codes >= 0)
    out.insert(0, "fraud", y)
    out.to_csv(path, index=False)


def run_lightgbm(xt, yt, xv, yv, xs, threads, categories):
    """Trains and predicts with the LightGBM program; returns (train_s, trees, test probabilities)."""
    binary = os.environ.get("LIGHTGBM_BIN", "/tmp/lgbm-src/lightgbm")
    work = tempfile.mkdtemp(prefix="lanner-lightgbm-")
    paths = {name: os.path.join(work, name + ".csv") for name in ("train", "valid", "test")}
    lightgbm_csv(xt, yt, paths["train"])
    lightgbm_csv(xv, yv, paths["valid"])
    lightgbm_csv(xs, np.zeros(len(xs)), paths["test"])
    model = os.path.join(work, "model.txt")
    settings = dict(
        task="train", objective="binary", boosting="gbdt", data=paths["train"], valid=paths["valid"], header="true",
        label_column="name:fraud", categorical_feature="name:" + ",".join(categories), num_iterations=TREES,
        num_leaves=LEAVES, learning_rate=LR, max_bin=BINS, min_data_in_leaf=20, min_sum_hessian_in_leaf=1e-3,
        lambda_l2=1.0, early_stopping_round=PATIENCE, metric="binary_logloss", num_threads=threads, seed=7,
        deterministic="true", output_model=model, verbosity=1)
    command = [binary] + [f"{key}={value}" for key, value in settings.items()]
    log = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    elapsed = re.findall(r"([0-9.]+) seconds elapsed, finished iteration", log)
    trees = re.findall(r"the best iteration round is (\d+)", log)

    scores = os.path.join(work, "scores.txt")
    subprocess.run([binary, "task=predict", f"data={paths['test']}", "header=true", "label_column=name:fraud",
                    f"input_model={model}", f"output_result={scores}", f"num_threads={threads}"],
                   check=True, capture_output=True)
    p = np.loadtxt(scores)
    shutil.rmtree(work)
    return float(elapsed[-1]), int(trees[-1]) if trees else TREES, p


def main():
    library, data, threads = sys.argv[1], sys.argv[2], int(sys.argv[3])
    start = time.time()
    xt, yt = load(os.path.join(data, "orders_train.csv"))
    categories = {c: list(xt[c].cat.categories) for c in xt.columns if str(xt[c].dtype) == "category"}
    xv, yv = load(os.path.join(data, "orders_valid.csv"), categories)
    xs, ys = load(os.path.join(data, "orders_test.csv"), categories)
    load_s = time.time() - start

    if library == "xgboost":
        import xgboost as xgb
        model = xgb.XGBClassifier(
            tree_method="hist", grow_policy="lossguide", max_leaves=LEAVES, max_depth=0, learning_rate=LR,
            n_estimators=TREES, max_bin=BINS, reg_lambda=1.0, min_child_weight=1e-3, enable_categorical=True,
            max_cat_to_onehot=1, early_stopping_rounds=PATIENCE, eval_metric="logloss", n_jobs=threads,
            random_state=7)
        start = time.time()
        model.fit(xt, yt, eval_set=[(xv, yv)], verbose=False)
        trees = model.best_iteration + 1
    elif library == "lightgbm":
        train_s, trees, p = run_lightgbm(xt, yt, xv, yv, xs, threads, list(categories))
        print(json.dumps(dict(load_s=round(load_s, 3), train_s=round(train_s, 3), trees=int(trees),
                              test_auc=round(roc_auc_score(ys, p), 6), test_logloss=round(log_loss(ys, p), 6))))
        return
    else:
        from sklearn.ensemble import HistGradientBoostingClassifier
        os.environ["OMP_NUM_THREADS"] = str(threads)
        # scikit-learn 1.2 wants categories as integer codes below max_bins: rarer codes share the last one.
        for frame in (xt, xs):
            for column in categories:
                codes = frame[column].cat.codes.to_numpy().astype(float)
                codes[codes < 0] = np.nan
                frame[column] = np.minimum(codes, BINS - 2)
        model = HistGradientBoostingClassifier(
            max_iter=TREES, max_leaf_nodes=LEAVES, learning_rate=LR, max_bins=BINS, min_samples_leaf=20,
            l2_regularization=1.0, categorical_features=[c in categories for c in xt.columns],
            early_stopping=False, random_state=7)
        start = time.time()
        model.fit(xt, yt)
        trees = model.n_iter_
    train_s = time.time() - start

    start = time.time()
    p = model.predict_proba(xs)[:, 1]
    predict_s = time.time() - start
    print(json.dumps(dict(load_s=round(load_s, 3), train_s=round(train_s, 3), predict_s=round(predict_s, 4),
                          predict_rows_per_s=round(len(xs) / predict_s), trees=int(trees),
                          test_auc=round(roc_auc_score(ys, p), 6), test_logloss=round(log_loss(ys, p), 6))))


if __name__ == "__main__":
    main()
