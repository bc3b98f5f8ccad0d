#!/usr/bin/python3
"""Train XGBoost on the train/valid/test CSVs that `lanner run --save-splits` wrote, with the
pipeline's tree settings, and print its test ROC AUC and log loss as JSON.

Usage: xgboost_on_splits.py RUN_DIR TARGET POSITIVE MAX_LEAVES LEARNING_RATE TREES

Columns are the ones lanner used as features: every column except the target, with strings as
pandas categories (XGBoost's native categorical splits). Early stopping uses the valid split's
log loss with a patience of 50 rounds, as lanner does by default. XGBoost has no minimum row count
per leaf (min_data_in_leaf): its min_child_weight bounds the hessian sum instead, set to lanner's
default min_sum_hessian.
"""
import json
import sys

import pandas as pd
import xgboost as xgb
from sklearn.metrics import log_loss, roc_auc_score


def load(run_dir, target, positive):
    frames = [pd.read_csv(f"{run_dir}/{name}.csv") for name in ("train", "valid", "test")]
    labels = [(frame[target].astype(str) == positive).astype(int) for frame in frames]
    features = [frame.drop(columns=[target]) for frame in frames]
    for column in features[0].columns:
        if features[0][column].dtype == object:
            categories = pd.api.types.union_categoricals(
                [frame[column].astype("category") for frame in features]).categories
            for frame in features:
                frame[column] = pd.Categorical(frame[column], categories=categories)
    return features, labels


def main():
    run_dir, target, positive = sys.argv[1:4]
    max_leaves, learning_rate, trees = int(sys.argv[4]), float(sys.argv[5]), int(sys.argv[6])
    (x_train, x_valid, x_test), (y_train, y_valid, y_test) = load(run_dir, target, positive)
    model = xgb.XGBClassifier(
        tree_method="hist", grow_policy="lossguide", max_depth=0, max_leaves=max_leaves,
        learning_rate=learning_rate, n_estimators=trees, max_bin=255, reg_lambda=1.0,
        min_child_weight=1e-3, enable_categorical=True, early_stopping_rounds=50,
        eval_metric="logloss", nthread=2, random_state=7)
    model.fit(x_train, y_train, eval_set=[(x_valid, y_valid)], verbose=False)
    scores = model.predict_proba(x_test)[:, 1]
    print(json.dumps({"auc": roc_auc_score(y_test, scores), "logloss": log_loss(y_test, scores),
                      "trees": model.best_iteration + 1, "xgboost": xgb.__version__}))


if __name__ == "__main__":
    main()
