"""Priors, the estimated mix of a table, and conformal coverage, measured on the shared archive's test split.

    python benchmarks/uncertainty_benchmark.py --archive PATH/names.zip [--model pretrained]
        [--seeds 10] [--size 1616] [--resamples 100] [--json out.json] [--work DIR]

Prepares the archive with `namelang prepare --seed 0` in --work (the archive is not needed once --work
holds that split, unless --big asks for it; the script refuses a model trained on another split), then:
- Prior shift: from the test split, subsamples of `--size` names with other language mixes (uniform;
  5% Russian; an English-speaking register of 60% English, 15% Irish, 15% Scottish, 10% the rest; and
  the test split's own mix for reference), the rest of each mix in the test split's proportions.
  Names are drawn **with replacement** within each language, because some languages have only a few
  test names. For each: the mean absolute error per language of the estimated mix (top-1 counting,
  probability sums, EM), accuracy under the training prior, the EM estimate, a uniform prior and the
  true mix, the share of languages whose true share lies in the EM's 95% bootstrap interval, and the
  coverage of 90% prediction sets. Mean ± standard deviation over `--seeds` seeds.
- Coverage: prediction sets with thresholds fitted on the validation split, scored on the whole test
  split at 0.8/0.9/0.95, with the mean set size.
The test split only reports; thresholds and the model's training prior come from train/val.
- With `--big ROWS`: `namelang predict --input big.csv --output out.csv` on ROWS generated rows
  (surnames sampled from the archive, as in predict_benchmark.py), plain, with `--summary`, and with
  `--prior estimate --summary`: median wall time and peak RSS of `--repeat` runs each.
"""

from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np

from namelang.measure import ARCHIVE_HELP, archive_names, archive_option, archive_or_exit, load

ROOT = Path(__file__).resolve().parents[1]
LEVELS = (0.8, 0.9, 0.95)


def namelang(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "namelang", *args], check=True)


def is_prepared(work: Path) -> bool:
    return (work / "prepared" / "manifest.json").is_file()


def prepared_home(archive: Path, work: Path) -> Path:
    """`namelang download` (checked against the `.sha256` file beside the archive, when there is one) and
    `namelang prepare --seed 0` in `work`, unless it holds a prepared split already."""
    if not is_prepared(work):
        digest = archive.parent / f"{archive.name}.sha256"
        sha = ["--sha256", digest.read_text().split()[0]] if digest.is_file() else []
        namelang("download", "--url", str(archive), *sha, "--home", str(work), "--force", "-q")
        namelang("prepare", "--seed", "0", "--home", str(work), "-q")
    return work


def trained_on(card, manifest: dict) -> bool:
    """Whether the model was trained on this split (the manifest's hash also covers its folder's path)."""
    return card.data.source_sha256 == manifest["source"]["sha256"] and card.data.train_label_counts == {
        lb: manifest["counts"]["train"][lb] for lb in card.labels
    }


def mixes(labels: list[str], natural: np.ndarray) -> dict[str, np.ndarray]:
    """Target mixes; where a mix names only some languages, the rest share the remainder as in the test."""

    def with_rest(fixed: dict[str, float]) -> np.ndarray:
        mix = np.array([fixed.get(lb, 0.0) for lb in labels])
        rest = np.array([lb not in fixed for lb in labels]) * natural
        return mix + rest / rest.sum() * (1 - sum(fixed.values()))

    return {
        "test split as is": natural,
        "uniform": np.full(len(labels), 1 / len(labels)),
        "5% Russian": with_rest({"Russian": 0.05}),
        "English register": with_rest({"English": 0.60, "Irish": 0.15, "Scottish": 0.15}),
    }


def draw(y: np.ndarray, mix: np.ndarray, size: int, rng) -> np.ndarray:
    """Row indices with `mix` (largest-remainder counts), drawn with replacement within each label."""
    exact = mix * size
    counts = np.floor(exact).astype(int)
    counts[np.argsort(-(exact - counts))[: size - counts.sum()]] += 1
    return np.concatenate([rng.choice(np.flatnonzero(y == lb), n) for lb, n in enumerate(counts) if n])


def accuracy(probs: np.ndarray, y: np.ndarray) -> float:
    return float((probs.argmax(axis=1) == y).mean())


def covered(probs: np.ndarray, y: np.ndarray, threshold: float) -> tuple[float, float, float]:
    from namelang.uncertainty import prediction_sets

    sets = prediction_sets(probs, threshold)
    sizes = np.array([len(s) for s in sets])
    return float(np.mean([t in s for t, s in zip(y, sets)])), float(sizes.mean()), float((sizes == 0).mean())


def one_subsample(probs, y, source, raw_source, threshold90, resamples, seed) -> dict:
    """Every figure of the prior-shift table for one drawn subsample."""
    from namelang.uncertainty import em_source, estimate_prior, reweight, table_mix

    truth = np.bincount(y, minlength=len(source)) / len(y)
    mix = table_mix(probs, source, list(range(len(source))), resamples=resamples, seed=seed)
    mae = {
        k: float(np.abs(v - truth).mean() * 100)
        for k, v in (("top1", mix.top1), ("sums", mix.probability_sum), ("em", mix.em))
    }
    mae["em_raw"] = float(np.abs(estimate_prior(probs, raw_source).prior - truth).mean() * 100)
    inside = float(np.mean((mix.em_low <= truth) & (truth <= mix.em_high))) if resamples else math.nan
    uniform = np.full(len(source), 1 / len(source))
    return {
        **{f"mae_{k}": v for k, v in mae.items()},
        "acc_train": accuracy(probs, y),
        # As `--prior estimate` does it: EM's estimate, re-weighted from the prior EM used.
        "acc_estimate": accuracy(reweight(probs, em_source(source), mix.em), y),
        "acc_uniform": accuracy(reweight(probs, source, uniform), y),
        "acc_true": accuracy(reweight(probs, source, truth), y),
        "em_interval_hit": inside,
        "coverage90": covered(probs, y, threshold90)[0],
    }


def prior_shift(probs, y, labels, source, raw_source, threshold90, size, seeds, resamples) -> dict:
    natural = np.bincount(y, minlength=len(labels)) / len(y)
    results = {}
    for name, mix in mixes(labels, natural).items():
        runs = []
        for seed in range(seeds):
            rows = draw(y, mix, size, np.random.default_rng(seed))
            runs.append(one_subsample(probs[rows], y[rows], source, raw_source, threshold90, resamples, seed))
        results[name] = {
            k: (float(np.mean([r[k] for r in runs])), float(np.std([r[k] for r in runs]))) for k in runs[0]
        }
    return results


def coverage_table(val_probs, val_y, test_probs, test_y) -> list[dict]:
    from namelang.uncertainty import conformal_threshold

    rows = []
    for level in LEVELS:
        threshold = conformal_threshold(val_probs, val_y, level)
        hit, size, empty = covered(test_probs, test_y, threshold)
        half = 1.96 * math.sqrt(hit * (1 - hit) / len(test_y))
        rows.append(
            {
                "target": level,
                "threshold": threshold,
                "coverage": hit,
                "ci": half,
                "mean_size": size,
                "empty": empty,
            }
        )
    return rows


def print_tables(shift: dict, coverage: list[dict], size: int, seeds: int, n_test: int) -> None:
    def pm(cell, scale=1.0, digits=2):
        return f"{cell[0] * scale:.{digits}f} ± {cell[1] * scale:.{digits}f}"

    print(
        f"\nPrior shift: {size} test names per subsample, drawn with replacement; mean ± sd over {seeds} seeds"
    )
    print("MAE = mean absolute error per language of the estimated share, in percentage points.\n")
    print(
        "| mix | MAE top-1 | MAE prob. sums | MAE EM | EM / top-1 | EM 95% interval holds truth "
        "| MAE EM, training shares as prior |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for name, r in shift.items():
        ratio = r["mae_em"][0] / r["mae_top1"][0]
        print(
            f"| {name} | {pm(r['mae_top1'])} | {pm(r['mae_sums'])} | {pm(r['mae_em'])} | {ratio:.2f} | {pm(r['em_interval_hit'], 100, 0)}% | {pm(r['mae_em_raw'])} |"
        )
    print(
        "\n| mix | accuracy, train prior | accuracy, estimated prior | uniform prior | true mix (oracle) | 90% set coverage |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for name, r in shift.items():
        cells = [
            pm(r[k], 1, 4) for k in ("acc_train", "acc_estimate", "acc_uniform", "acc_true", "coverage90")
        ]
        print(f"| {name} | " + " | ".join(cells) + " |")
    print(
        f"\nConformal prediction sets (LAC), thresholds fitted on the validation split, scored on the test split ({n_test:,} names)\n"
    )
    print(
        "| target coverage | threshold | test coverage (95% binomial interval) | mean set size | empty sets |"
    )
    print("| ---: | ---: | ---: | ---: | ---: |")
    for r in coverage:
        print(
            f"| {r['target']:.2f} | {r['threshold']:.4f} | {r['coverage']:.4f} ± {r['ci']:.4f} | {r['mean_size']:.2f} | {r['empty']:.1%} |"
        )


def big_file(rows: int, archive: Path, model: str, repeat: int) -> list[dict]:
    """Wall time and peak RSS of `predict` on a big file, plain and with the mix and the EM prior."""
    import statistics
    import tempfile

    from predict_benchmark import timed, write_input

    variants = {
        "plain": [],
        "--summary": ["--summary", "--summary-output", "{tmp}/summary.json"],
        "--prior estimate --summary": [
            "--prior",
            "estimate",
            "--summary",
            "--summary-output",
            "{tmp}/s.json",
        ],
    }
    results = []
    with tempfile.TemporaryDirectory(prefix="namelang-mix-") as tmp:
        source = Path(tmp) / "big.csv"
        write_input(source, rows, archive_names(archive), distinct=False)
        base = [sys.executable, "-m", "namelang", "predict", "--input", str(source), "--column", "surname"]
        for name, extra in variants.items():
            command = [*base, "--output", f"{tmp}/out.csv", "--model", model, "-q"]
            runs = [timed(command + [a.format(tmp=tmp) for a in extra]) for _ in range(repeat)]
            wall = statistics.median(w for w, _ in runs)
            results.append(
                {
                    "variant": name,
                    "wall_s": wall,
                    "runs": [w for w, _ in runs],
                    "peak_rss_mb": max(r for _, r in runs),
                }
            )
    print(
        f"\n`namelang predict --input big.csv --output out.csv` on {rows:,} rows, median of {repeat} runs\n"
    )
    print("| options | median wall s | rows/s | peak RSS MB |")
    print("| --- | ---: | ---: | ---: |")
    for r in results:
        print(f"| {r['variant']} | {r['wall_s']:.1f} | {rows / r['wall_s']:,.0f} | {r['peak_rss_mb']} |")
    return results


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    archive_option(parser, f"{ARCHIVE_HELP}; not needed once --work is prepared")
    parser.add_argument("--work", type=Path, default=ROOT / "build" / "uncertainty-benchmark")
    parser.add_argument("--model", default="pretrained")
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--size", type=int, default=1616, help="names per subsample (the test split's size)")
    parser.add_argument("--resamples", type=int, default=100, help="bootstrap resamples for the EM interval")
    parser.add_argument("--json", type=Path)
    parser.add_argument("--big", type=int, default=0, help="also time predict on a file of this many rows")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    archive = archive_or_exit(parser, args.archive, needed=not is_prepared(args.work) or bool(args.big))

    from namelang.data.split import MANIFEST, prepared_dir, read_split
    from namelang.uncertainty import conformal_threshold, fit_model_prior, model_prior, training_prior

    home = prepared_home(archive, args.work)
    clf = load(args.model, home)
    card = clf.card
    if not trained_on(card, json.loads((prepared_dir(home) / MANIFEST).read_text())):
        raise SystemExit(f"{args.model} was not trained on this split (prepare --seed 0 in {home})")
    index = {label: i for i, label in enumerate(clf.labels)}
    scored = {}
    for split in ("val", "test"):
        names, labels, _ = read_split(home, split)
        scored[split] = (clf.predict_proba(names).astype(np.float64), np.array([index[lb] for lb in labels]))
    (val_p, val_y), (test_p, test_y) = scored["val"], scored["test"]
    raw_source = training_prior(card.data.train_label_counts, clf.labels)
    # The card's prior when it has one, else fitted on validation as `train` does.
    source = model_prior(card, clf.labels) if card.prior else fit_model_prior(val_p, val_y, raw_source)
    threshold90 = conformal_threshold(val_p, val_y, 0.9)
    shift = prior_shift(
        test_p, test_y, clf.labels, source, raw_source, threshold90, args.size, args.seeds, args.resamples
    )
    coverage = coverage_table(val_p, val_y, test_p, test_y)
    print_tables(shift, coverage, args.size, args.seeds, len(test_y))
    big = big_file(args.big, archive, args.model, args.repeat) if args.big else []
    if args.json:
        report = {
            "model": clf.name,
            "size": args.size,
            "seeds": args.seeds,
            "prior_shift": shift,
            "coverage": coverage,
            "big_file": big,
        }
        args.json.write_text(json.dumps(report, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
