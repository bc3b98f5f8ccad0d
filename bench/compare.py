#!/usr/bin/python3
"""Compare lanner's learners with XGBoost (hist) or scikit-learn on the shared data sets.

For each data set and each seed 1..N the script writes a seeded random 60/20/20 split to CSV,
trains lanner (through bench_train) and the reference on the train part with early stopping on the
validation part, and scores the test part. Both tools' test AUC and log loss come from the same
scikit-learn functions, applied to the scores that each tool wrote. The script prints one line per
split, then per data set the mean test AUC of each tool, the mean difference (lanner minus the
reference) with its standard deviation over the splits, and the max |difference|. With --lightgbm it
adds a LightGBM column and a second summary against LightGBM. With --seeds 1 the output is the old
single split (seed 1).

usage: bench/compare.py BENCH_TRAIN_BINARY [DATA_DIR] [--threads N] [--learner gbdt|linear]
                        [--seeds N] [--min-data N] [--one-hot] [--lightgbm [PROGRAM]]
                        [--lanner-args ARGS] [--lightgbm-args ARGS]

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
  category count here). By default lanner adds 10 to the hessian when sorting (cat_smooth), adds 10
  to the L2 penalty of every category split (cat_l2), needs 10 rows of a category in the node to
  sort it (min_data_per_category), and pools categories with fewer than 10 training rows into one
  bin (min_category_rows). XGBoost has none of these settings, and --lanner-args changes lanner's. XGBoost treats a category unseen in training as missing, where lanner routes it with the
  pooled bin. --one-hot removes the difference: it gives both tools the categories as 0/1 number
  columns built from the training part.
- Arithmetic: XGBoost stores gradients and hessians in single precision, lanner in double.

--lightgbm adds LightGBM as a second reference for the trees, through its command-line program
(default: $LIGHTGBM_BIN, else /tmp/lgbm-src/lightgbm), because its Python package may be absent. It
gets the settings above, min_data_in_leaf equal to lanner's, and the category codes of the training
part as categorical_feature. Its own category settings keep their defaults (LightGBM 4.6:
cat_smooth 10, cat_l2 10, min_data_per_group 100, max_cat_threshold 32, max_cat_to_onehot 4), and it
puts categories with fewer than min_data_in_bin (3) training rows in the bin of missing values. Its
bin edges come from its own sampling. It runs until early stopping, and the script predicts with
the round of lowest validation loss in its log, as the other tools do. When the program is missing,
the script prints a message and leaves the column out.

The linear learner is compared with scikit-learn's LogisticRegression(C = 1 / l2) on standardised
numbers and one-hot categories.
"""
import argparse
import json
import os
import re
import shlex
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

LIGHTGBM_PROGRAM = os.environ.get("LIGHTGBM_BIN", "/tmp/lgbm-src/lightgbm")


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


def write_lightgbm_parts(parts, labels, label, directory, stem):
    """Write the parts as CSV for LightGBM's program and return the paths and the category columns.

    The label column comes first as "label", and the features are renamed c0, c1, ... because LightGBM
    rejects feature names with JSON special characters. A string column becomes the integer codes of the
    categories seen in the training part, and a missing or unseen category becomes an empty cell,
    which LightGBM reads as missing.
    """
    train = parts[0]
    features = [c for c in train.columns if c != label]
    levels = {c: sorted(train[c].dropna().unique()) for c in features if train[c].dtype == object}
    names = {c: f"c{i}" for i, c in enumerate(features)}
    paths = []
    for part, y, suffix in zip(parts, labels, ("train", "valid", "test")):
        out = pd.DataFrame({"label": y}, index=part.index)
        for column in features:
            if column in levels:
                codes = pd.Categorical(part[column], categories=levels[column]).codes.astype(float)
                codes[codes < 0] = np.nan
                out[names[column]] = codes
            else:
                out[names[column]] = part[column].to_numpy(float)
        paths.append(os.path.join(directory, f"{stem}_lightgbm_{suffix}.csv"))
        out.to_csv(paths[-1], index=False)
    return paths, [names[c] for c in levels]


def lightgbm_program(requested):
    """Return the LightGBM program to run, or None (with a message) when --lightgbm is off or it is missing."""
    if requested is None:
        return None
    if not (os.path.isfile(requested) and os.access(requested, os.X_OK)):
        print(f"LightGBM program {requested} not found or not executable, so the LightGBM column is left out. "
              "Build LightGBM's command-line program and give its path to --lightgbm or in LIGHTGBM_BIN.")
        return None
    return requested


def run_lightgbm(program, parts, labels, label, objective, threads, settings, work, stem, extra_args=""):
    """Train LightGBM on the train part and return the test predictions and the round used.

    The prediction uses the round with the lowest validation loss in the training log, so LightGBM
    also keeps its best round when it runs all rounds without stopping early.
    """
    paths, categories = write_lightgbm_parts(parts, labels, label, work, stem)
    model = os.path.join(work, f"{stem}_lightgbm_model.txt")
    metric = "binary_logloss" if objective == "binary" else "l2"
    params = dict(
        task="train", objective=objective, data=paths[0], valid=paths[1], header="true", label_column="name:label",
        num_iterations=settings["trees"], num_leaves=settings["leaves"], max_depth=-1, learning_rate=settings["lr"],
        max_bin=settings["bins"], min_data_in_leaf=settings["min_data"],
        min_sum_hessian_in_leaf=settings["min_hessian"], lambda_l1=0.0, lambda_l2=settings["l2"],
        min_gain_to_split=0.0, bagging_fraction=1.0, feature_fraction=1.0,
        early_stopping_round=settings["early_stop"], metric=metric, num_threads=threads, seed=7,
        deterministic="true", output_model=model, verbosity=1)
    if categories:
        params["categorical_feature"] = "name:" + ",".join(categories)
    command = [program] + [f"{key}={value}" for key, value in params.items()] + shlex.split(extra_args)
    log = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    losses = [float(v) for v in re.findall(rf"Iteration:\d+, valid_1 {metric} : (\S+)", log)]
    if not losses:
        raise RuntimeError(f"no validation {metric} in the LightGBM log:\n{log}")
    best = int(np.argmin(losses)) + 1

    scores = os.path.join(work, f"{stem}_lightgbm_scores.txt")
    subprocess.run([program, "task=predict", f"data={paths[2]}", "header=true", "label_column=name:label",
                    f"input_model={model}", f"output_result={scores}", f"num_iteration_predict={best}",
                    f"num_threads={threads}"], check=True, capture_output=True)
    return np.loadtxt(scores, ndmin=1), best


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
    print(f"{'data set':22} {'splits':>6} {'lanner ' + metric:>11} {reference + ' ' + metric:>13} "
          f"{'mean diff':>9} {'sd':>7} {'max |diff|':>10}  within {TOLERANCE}?")
    for name, mine, ref in rows:
        mean, sd, largest = summarize(np.asarray(mine) - np.asarray(ref))
        print(f"{name:22} {len(mine):6d} {np.mean(mine):11.4f} {np.mean(ref):13.4f} {mean:+9.4f} {sd:7.4f} "
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
    parser.add_argument("--lightgbm", nargs="?", const=LIGHTGBM_PROGRAM, metavar="PROGRAM",
                        help="also train LightGBM with its command-line program PROGRAM "
                             "(default: %(const)s)")
    parser.add_argument("--lanner-args", default="", metavar="ARGS",
                        help="extra bench_train arguments for lanner, as one shell-quoted string")
    parser.add_argument("--lightgbm-args", default="", metavar="ARGS",
                        help="extra KEY=VALUE parameters for LightGBM's training, as one shell-quoted string")
    return parser


def print_lightgbm_summary(rows, metric, higher_is_better):
    """Print the LightGBM summary from (name, lanner values, XGBoost values, LightGBM values) rows."""
    print_summary([(name, mine, lightgbm) for name, mine, _, lightgbm in rows], metric, higher_is_better,
                  "LightGBM")


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
    lightgbm = lightgbm_program(args.lightgbm)
    if lightgbm is not None and args.learner != "gbdt":
        print("--lightgbm compares trees, so it is ignored with --learner linear")
        lightgbm = None
    if lightgbm is not None:
        versions += f", LightGBM program {lightgbm}"
    print(f"learner {args.learner}, lanner min_data_in_leaf {args.min_data}, "
          f"{'one-hot categories, ' if args.one_hot else ''}{args.threads} threads, seeds 1..{args.seeds}, {versions}")
    if args.lanner_args:
        print(f"lanner arguments: {args.lanner_args}")
    if lightgbm is not None and args.lightgbm_args:
        print(f"LightGBM arguments: {args.lightgbm_args}")

    print(f"{'data set':22} {'seed':>4} {'lanner AUC':>10} {'ref AUC':>8} {'diff':>7} {'lanner LL':>9} "
          f"{'ref LL':>7} {'trees':>9} {'lanner s':>8} {'ref s':>6}" + (f" {'LightGBM AUC':>12}" if lightgbm else ""))
    rows = []
    for name, label, positive in DATASETS:
        path = os.path.join(args.data_dir, name)
        if not os.path.exists(path):
            print(f"{name}: not found, skipped")
            continue
        frame = pd.read_csv(path, keep_default_na=False, na_values=[""])
        stem = name[:-len(".csv")]
        mine_auc, ref_auc, lightgbm_auc = [], [], []
        for seed in range(1, args.seeds + 1):
            parts = split(frame, seed)
            if args.one_hot:
                parts = one_hot(parts, label)
            paths = write_parts(parts, work, stem)
            command = lanner_command(args.binary, paths, label, args.threads, SETTINGS)
            command += ["--positive", positive, "--learner", args.learner] + shlex.split(args.lanner_args)
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
            line = (f"{stem:22} {seed:4d} {auc:10.4f} {auc_ref:8.4f} {auc - auc_ref:+7.4f} {log_loss(y, mine):9.4f} "
                    f"{log_loss(y, ref):7.4f} {trees:>9} {report['train_s']:8.3f} {ref_seconds:6.3f}")
            if lightgbm is not None:
                labels = [binary_labels(part, label, positive) for part in parts]
                scores, _ = run_lightgbm(lightgbm, parts, labels, label, "binary", args.threads, SETTINGS, work, stem,
                                         args.lightgbm_args)
                lightgbm_auc.append(roc_auc_score(y, scores))
                line += f" {lightgbm_auc[-1]:12.4f}"
            print(line, flush=True)
        rows.append((stem, mine_auc, ref_auc, lightgbm_auc))
    print_summary([row[:3] for row in rows], "AUC", True, reference)
    if lightgbm is not None:
        print_lightgbm_summary(rows, "AUC", True)


if __name__ == "__main__":
    main()
