#!/usr/bin/python3
"""Compare lanner's learners with XGBoost (hist) or scikit-learn on the shared data sets.

For each data set and each seed 1..N the script writes a seeded random 60/20/20 split to CSV,
trains lanner (through bench_train) and the reference on the train part with early stopping on the
validation part, and scores the test part. Both tools' test AUC and log loss come from the same
scikit-learn functions, applied to the scores that each tool wrote. The script prints one line per
split, then per data set the mean test AUC of each tool, the mean difference (lanner minus the
reference) with its standard deviation over the splits, and the max |difference|. With --seeds 1 the
output is the old single split (seed 1).

usage: bench/compare.py BENCH_TRAIN_BINARY [DATA_DIR] [--threads N] [--learner gbdt|linear]
                        [--seeds N] [--min-data N] [--one-hot]

Tree settings, as equal as the two libraries allow (XGBoost 1.7.4):
- 300 rounds, 31 leaves grown best-first (XGBoost: grow_policy=lossguide, max_depth=0), learning
  rate 0.05, 255 bins per numeric feature, L2 1 on leaf values, no L1, no minimum split gain,
  no row or feature sampling.
- Leaf size: both need a hessian sum of at least 1e-3 in each child (lanner min_sum_hessian,
  XGBoost min_child_weight). XGBoost has no minimum row count per leaf, so lanner runs with
  min_data_in_leaf = 1 by default here (--min-data sets it; lanner's own default is 20).
- Base score: both start from the log-odds of the training positive rate (XGBoost 1.7's default
  base_score is 0.5, so the script sets it).
- Early stopping: both stop after 50 rounds without a lower validation log loss and predict with
  the trees up to the best round.
- Missing values: both learn a default direction per split from the training rows.

Settings that cannot be matched:
- Bin edges: lanner cuts quantiles of up to 200,000 sampled values and gives a frequent value a bin
  of its own. XGBoost uses its quantile sketch. Both put each value in its own bin when a feature has
  at most 255 distinct values, which holds for 93 of the 130 numeric features of the shared data sets.
- Categories: both sort a node's categories by their gradient statistics and split the sorted
  order in two (XGBoost: max_cat_to_onehot=1, and its default max_cat_threshold of 64 is above every
  category count here). lanner adds 10 to the hessian when sorting, adds 10 to the L2 penalty of
  every category split, needs 10 rows of a category in the node to sort it, and pools categories
  with fewer than 10 training rows into one bin. These are constants in lanner, and XGBoost has none
  of them. XGBoost treats a category unseen in training as missing, where lanner routes it with the
  pooled bin. --one-hot removes the difference: it gives both tools the categories as 0/1 number
  columns built from the training part.
- Arithmetic: XGBoost stores gradients and hessians in single precision, lanner in double.

The linear learner is compared with scikit-learn's LogisticRegression(C = 1 / l2) on standardised
numbers and one-hot categories.
"""
import argparse
import json
import os
import subprocess
import time

# XGBoost's OpenMP threads spin while they wait by default. On a 2-core machine shared with other
# jobs, a 100-round fit on mlc_churn with native categories then took 65 s with 2 threads against
# 0.25 s with 1. Passive waiting removed the slowdown. It must be set before xgboost loads OpenMP.
os.environ.setdefault("OMP_WAIT_POLICY", "passive")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import xgboost as xgb  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.metrics import log_loss, roc_auc_score  # noqa: E402

DATASETS = [
    ("lending_club.csv", "Class", "bad"),
    ("mlc_churn.csv", "churn", "yes"),
    ("spam.csv", "type", "spam"),
    ("PimaIndiansDiabetes2.csv", "diabetes", "pos"),
]

SETTINGS = dict(trees=300, leaves=31, lr=0.05, bins=255, min_data=1, min_hessian=1e-3, l2=1.0, early_stop=50)

# A mean difference at most this large counts as a match.
TOLERANCE = 0.005


def split(frame, seed):
    """Return the train, validation and test parts of a seeded random 60/20/20 split."""
    order = np.random.RandomState(seed).permutation(len(frame))
    a, b = int(len(frame) * 0.6), int(len(frame) * 0.8)
    return frame.iloc[order[:a]], frame.iloc[order[a:b]], frame.iloc[order[b:]]


def one_hot(parts, label):
    """Replace every string column by one 0/1 column per category seen in the training part.

    A missing value gets 0 in every column of its feature, as does a category unseen in training.
    """
    train = parts[0]
    columns = [c for c in train.columns if c != label and train[c].dtype == object]
    result = []
    for part in parts:
        indicators = {f"{column}={level}": (part[column] == level).astype(float)
                      for column in columns for level in sorted(train[column].dropna().unique())}
        result.append(pd.concat([part.drop(columns=columns), pd.DataFrame(indicators, index=part.index)], axis=1))
    return result


def write_parts(parts, directory, stem):
    """Write the parts to STEM_train.csv, STEM_valid.csv and STEM_test.csv and return the paths."""
    paths = []
    for part, suffix in zip(parts, ("train", "valid", "test")):
        paths.append(os.path.join(directory, f"{stem}_{suffix}.csv"))
        part.to_csv(paths[-1], index=False)
    return paths


def lanner_command(binary, paths, label, threads, settings):
    """Return the bench_train arguments shared by the classification and regression runs."""
    return [binary, "--train", paths[0], "--valid", paths[1], "--test", paths[2], "--label", label,
            "--threads", str(threads), "--trees", str(settings["trees"]), "--leaves", str(settings["leaves"]),
            "--lr", str(settings["lr"]), "--bins", str(settings["bins"]), "--min-data", str(settings["min_data"]),
            "--min-hessian", str(settings["min_hessian"]), "--l2", str(settings["l2"]),
            "--early-stop", str(settings["early_stop"])]


def run_lanner(command, scores_path):
    """Run bench_train and return its JSON report and the test scores it wrote."""
    report = json.loads(subprocess.run(command + ["--scores", scores_path], check=True, capture_output=True,
                                       text=True).stdout)
    return report, np.loadtxt(scores_path, ndmin=1)


def xgb_features(parts, label):
    """Return the feature frames with string columns as pandas categories fixed by the training part."""
    train = parts[0]
    categories = {c: sorted(train[c].dropna().astype(str).unique())
                  for c in train.columns if train[c].dtype == object and c != label}
    frames = []
    for part in parts:
        x = part.drop(columns=[label]).copy()
        for column, levels in categories.items():
            x[column] = pd.Categorical(x[column], categories=levels)
        frames.append(x)
    return frames


def xgb_params(settings, threads, base_score):
    """Return the XGBoost (hist) parameters that match lanner's settings."""
    return dict(
        tree_method="hist", grow_policy="lossguide", max_leaves=settings["leaves"], max_depth=0,
        learning_rate=settings["lr"], n_estimators=settings["trees"], max_bin=settings["bins"],
        reg_lambda=settings["l2"], reg_alpha=0.0, gamma=0.0, min_child_weight=settings["min_hessian"],
        subsample=1.0, colsample_bytree=1.0, base_score=base_score, enable_categorical=True,
        max_cat_to_onehot=1, early_stopping_rounds=settings["early_stop"], n_jobs=threads, random_state=7)


def binary_labels(part, label, positive):
    return (part[label].astype(str) == positive).to_numpy(int)


def run_xgboost(parts, label, positive, threads):
    """Train XGBoost on the train part and return the test scores, trees kept and training seconds."""
    xt, xv, xs = xgb_features(parts, label)
    yt, yv = (binary_labels(p, label, positive) for p in parts[:2])
    model = xgb.XGBClassifier(eval_metric="logloss", **xgb_params(SETTINGS, threads, float(yt.mean())))
    start = time.time()
    model.fit(xt, yt, eval_set=[(xv, yv)], verbose=False)
    seconds = time.time() - start
    return model.predict_proba(xs)[:, 1], model.best_iteration + 1, seconds


def run_sklearn_logistic(train, test, label, positive):
    """Reference for the linear learner: standardised numbers, one-hot categories, C = 1 / l2."""
    def design(frame, ref):
        parts = []
        for column in ref.columns:
            if column == label:
                continue
            if ref[column].dtype == object:
                categories = sorted(ref[column].dropna().unique())
                parts.append(pd.get_dummies(pd.Categorical(frame[column], categories=categories)).to_numpy(float))
            else:
                values = frame[column].to_numpy(float)
                mean, std = np.nanmean(ref[column]), np.nanstd(ref[column])
                z = (np.nan_to_num(values, nan=mean) - mean) / (std if std > 0 else 1)
                parts.append(z[:, None])
                parts.append(np.isnan(values)[:, None].astype(float))
        return np.hstack(parts)
    xt, xs = design(train, train), design(test, train)
    yt = binary_labels(train, label, positive)
    model = LogisticRegression(C=1.0 / SETTINGS["l2"], max_iter=10000, tol=1e-10)
    start = time.time()
    model.fit(xt, yt)
    seconds = time.time() - start
    return model.predict_proba(xs)[:, 1], 0, seconds


def summarize(differences):
    """Return the mean, sample standard deviation and max |value| of the per-split differences."""
    d = np.asarray(differences)
    sd = float(d.std(ddof=1)) if len(d) > 1 else 0.0
    return float(d.mean()), sd, float(np.abs(d).max())


def verdict(mean_difference, higher_is_better):
    """Describe a mean difference (lanner minus the reference) against TOLERANCE."""
    if abs(mean_difference) <= TOLERANCE:
        return "within"
    lanner_better = (mean_difference > 0) == higher_is_better
    return "lanner better" if lanner_better else "lanner worse"


def print_summary(rows, metric, higher_is_better, reference):
    """Print one summary line per data set from (name, lanner values, reference values) rows."""
    print()
    print(f"{'data set':22} {'splits':>6} {'lanner ' + metric:>11} {reference + ' ' + metric:>11} "
          f"{'mean diff':>9} {'sd':>7} {'max |diff|':>10}  within {TOLERANCE}?")
    for name, mine, ref in rows:
        mean, sd, largest = summarize(np.asarray(mine) - np.asarray(ref))
        print(f"{name:22} {len(mine):6d} {np.mean(mine):11.4f} {np.mean(ref):11.4f} {mean:+9.4f} {sd:7.4f} "
              f"{largest:10.4f}  {verdict(mean, higher_is_better)}")


def parse_args(description):
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("binary", help="path of the bench_train program")
    parser.add_argument("data_dir", nargs="?", default="/work/shared/data",
                        help="folder of the shared data sets (default: %(default)s)")
    parser.add_argument("--threads", type=int, default=2, help="threads for each tool (default: %(default)s)")
    parser.add_argument("--seeds", type=int, default=5,
                        help="number of random splits, seeded 1..N (default: %(default)s)")
    parser.add_argument("--min-data", type=int, default=SETTINGS["min_data"],
                        help="lanner's min_data_in_leaf in rows; XGBoost has no such limit (default: %(default)s)")
    parser.add_argument("--one-hot", action="store_true",
                        help="give both tools 0/1 columns in place of category columns")
    return parser


def main():
    parser = parse_args("Compare lanner with XGBoost or scikit-learn on the shared classification data sets.")
    parser.add_argument("--learner", choices=("gbdt", "linear"), default="gbdt",
                        help="lanner learner; gbdt is compared with XGBoost, linear with scikit-learn")
    args = parser.parse_args()
    if args.seeds < 1:
        parser.error(f"--seeds is {args.seeds}; expected at least 1")
    SETTINGS["min_data"] = args.min_data
    work = os.path.join(os.environ.get("TMPDIR", "/tmp"), "lanner-compare")
    os.makedirs(work, exist_ok=True)
    reference = "XGBoost" if args.learner == "gbdt" else "sklearn"
    versions = f"XGBoost {xgb.__version__}" if args.learner == "gbdt" else ""
    print(f"learner {args.learner}, lanner min_data_in_leaf {args.min_data}, "
          f"{'one-hot categories, ' if args.one_hot else ''}{args.threads} threads, seeds 1..{args.seeds}, {versions}")

    print(f"{'data set':22} {'seed':>4} {'lanner AUC':>10} {'ref AUC':>8} {'diff':>7} {'lanner LL':>9} "
          f"{'ref LL':>7} {'trees':>9} {'lanner s':>8} {'ref s':>6}")
    rows = []
    for name, label, positive in DATASETS:
        path = os.path.join(args.data_dir, name)
        if not os.path.exists(path):
            print(f"{name}: not found, skipped")
            continue
        frame = pd.read_csv(path, keep_default_na=False, na_values=[""])
        stem = name[:-len(".csv")]
        mine_auc, ref_auc = [], []
        for seed in range(1, args.seeds + 1):
            parts = split(frame, seed)
            if args.one_hot:
                parts = one_hot(parts, label)
            paths = write_parts(parts, work, stem)
            command = lanner_command(args.binary, paths, label, args.threads, SETTINGS)
            command += ["--positive", positive, "--learner", args.learner]
            report, mine = run_lanner(command, os.path.join(work, f"{stem}_scores.txt"))
            if args.learner == "gbdt":
                ref, ref_trees, ref_seconds = run_xgboost(parts, label, positive, args.threads)
            else:
                ref, ref_trees, ref_seconds = run_sklearn_logistic(parts[0], parts[2], label, positive)
            y = binary_labels(parts[2], label, positive)
            auc, auc_ref = roc_auc_score(y, mine), roc_auc_score(y, ref)
            mine_auc.append(auc)
            ref_auc.append(auc_ref)
            trees = f"{report['trees']}/{ref_trees}"
            print(f"{stem:22} {seed:4d} {auc:10.4f} {auc_ref:8.4f} {auc - auc_ref:+7.4f} {log_loss(y, mine):9.4f} "
                  f"{log_loss(y, ref):7.4f} {trees:>9} {report['train_s']:8.3f} {ref_seconds:6.3f}", flush=True)
        rows.append((stem, mine_auc, ref_auc))
    print_summary(rows, "AUC", True, reference)


if __name__ == "__main__":
    main()
