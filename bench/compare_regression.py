#!/usr/bin/python3
"""Compare lanner's L2-regression trees with XGBoost (hist) on the Ames housing data.

The target is log(Sale_Price), as is usual for this right-skewed price. For each seed 1..N the script
writes a seeded random 60/20/20 split to CSV, trains lanner (through bench_train) and XGBoost on the
train part with early stopping on the validation part, and prints the test RMSE of each on the log
scale and in dollars. It then prints the mean RMSE of each tool, the mean difference (lanner minus
XGBoost) with its standard deviation over the splits, and the max |difference|. With --seeds 1 the
output is the old single split (seed 1).

usage: bench/compare_regression.py BENCH_TRAIN_BINARY [DATA_DIR] [--threads N] [--seeds N]
                                   [--min-data N] [--one-hot] [--lightgbm [PROGRAM]] [--lanner-args ARGS]
                                   [--lightgbm-args ARGS]

The settings are those of bench/compare.py, whose docstring lists what is matched and what cannot
be, and how --lightgbm runs LightGBM (here with objective=regression). For regression the base score
of every tool is the mean training label (XGBoost 1.7's default is 0.5), and early stopping watches
the validation squared error (XGBoost: RMSE, which has the same best round).
"""
import os
import shlex
import sys

# Importing compare.py would otherwise leave a __pycache__ folder in bench/.
sys.dont_write_bytecode = True

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from compare import (SETTINGS, lanner_command, lightgbm_program, one_hot, parse_args,  # noqa: E402
                     print_lightgbm_summary, print_summary, run_lanner, run_lightgbm, split, write_parts, xgb,
                     xgb_features, xgb_params)

LABEL = "log_price"


def run_xgboost(parts, threads):
    """Train XGBoost on the train part and return the test predictions and the trees kept."""
    xt, xv, xs = xgb_features(parts, LABEL)
    yt, yv = parts[0][LABEL].to_numpy(), parts[1][LABEL].to_numpy()
    model = xgb.XGBRegressor(eval_metric="rmse", **xgb_params(SETTINGS, threads, float(yt.mean())))
    model.fit(xt, yt, eval_set=[(xv, yv)], verbose=False)
    return model.predict(xs), model.best_iteration + 1


def main():
    parser = parse_args("Compare lanner with XGBoost on the Ames housing data, target log(Sale_Price).")
    args = parser.parse_args()
    if args.seeds < 1:
        parser.error(f"--seeds is {args.seeds}; expected at least 1")
    SETTINGS["min_data"] = args.min_data
    path = os.path.join(args.data_dir, "ames.csv")
    if not os.path.exists(path):
        parser.error(f"{path} not found; give the folder of ames.csv as DATA_DIR")

    frame = pd.read_csv(path, keep_default_na=False, na_values=[""])
    frame[LABEL] = np.log(frame.pop("Sale_Price"))
    work = os.path.join(os.environ.get("TMPDIR", "/tmp"), "lanner-compare-regression")
    os.makedirs(work, exist_ok=True)
    lightgbm = lightgbm_program(args.lightgbm)
    print(f"lanner min_data_in_leaf {args.min_data}, {'one-hot categories, ' if args.one_hot else ''}"
          f"{args.threads} threads, seeds 1..{args.seeds}, XGBoost {xgb.__version__}"
          + (f", LightGBM program {lightgbm}" if lightgbm else ""))
    if args.lanner_args:
        print(f"lanner arguments: {args.lanner_args}")
    if lightgbm is not None and args.lightgbm_args:
        print(f"LightGBM arguments: {args.lightgbm_args}")
    print(f"{'data set':22} {'seed':>4} {'lanner RMSE':>11} {'ref RMSE':>8} {'diff':>7} {'lanner $':>8} "
          f"{'ref $':>8} {'trees':>9}" + (f" {'LightGBM RMSE':>13}" if lightgbm else ""))

    mine_rmse, ref_rmse, lightgbm_rmse = [], [], []
    for seed in range(1, args.seeds + 1):
        parts = split(frame, seed)
        if args.one_hot:
            parts = one_hot(parts, LABEL)
        paths = write_parts(parts, work, "ames")
        command = lanner_command(args.binary, paths, LABEL, args.threads, SETTINGS) + ["--objective", "regression"]
        report, mine = run_lanner(command + shlex.split(args.lanner_args), os.path.join(work, "lanner_scores.txt"))
        ref, ref_trees = run_xgboost(parts, args.threads)
        y = parts[2][LABEL].to_numpy()

        def rmse(prediction):
            return float(np.sqrt(np.mean((prediction - y) ** 2)))

        def dollars(prediction):
            return float(np.sqrt(np.mean((np.exp(prediction) - np.exp(y)) ** 2)))

        mine_rmse.append(rmse(mine))
        ref_rmse.append(rmse(ref))
        trees = f"{report['trees']}/{ref_trees}"
        line = (f"{'ames':22} {seed:4d} {rmse(mine):11.4f} {rmse(ref):8.4f} {rmse(mine) - rmse(ref):+7.4f} "
                f"{dollars(mine):8,.0f} {dollars(ref):8,.0f} {trees:>9}")
        if lightgbm is not None:
            labels = [part[LABEL].to_numpy() for part in parts]
            scores, _ = run_lightgbm(lightgbm, parts, labels, LABEL, "regression", args.threads, SETTINGS, work, "ames",
                                     args.lightgbm_args)
            lightgbm_rmse.append(rmse(scores))
            line += f" {lightgbm_rmse[-1]:13.4f}"
        print(line, flush=True)
    print_summary([("ames", mine_rmse, ref_rmse)], "RMSE", False, "XGBoost")
    if lightgbm is not None:
        print_lightgbm_summary([("ames", mine_rmse, ref_rmse, lightgbm_rmse)], "RMSE", False)


if __name__ == "__main__":
    main()
