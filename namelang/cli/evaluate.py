"""`namelang evaluate`: scikit-learn metrics for one model, or a comparison table for several."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

import typer

from namelang.cli import options, render
from namelang.cli.render import Format, out

EvaluateFormat = options.output_format(Format.json)

# (key, heading, higher is better)
ROWS = [
    ("accuracy", "accuracy", True),
    ("macro_f1", "macro-F1", True),
    ("weighted_f1", "weighted F1", True),
    ("balanced_accuracy", "balanced accuracy", True),
    ("mean_language_recall", "mean per-language recall", True),
    ("top3_accuracy", "top-3 accuracy", True),
    ("log_loss", "log-loss", False),
    ("ece", "ECE (15 bins)", False),
    ("majority_accuracy", "majority-class accuracy", None),
    ("n", "names", None),
]


def _cell(key: str, value) -> str:
    if value is None:
        return "—"
    return f"{value:,}" if key == "n" else f"{value:.4f}"


def comparison_table(reports: list[dict], title: str):
    """A row per metric, a column per model; the best value of each row in bold green."""
    rows = []
    for key, heading, higher in ROWS:
        values = [r.get(key) for r in reports]
        best = None
        if higher is not None and len(reports) > 1 and all(v is not None for v in values):
            best = (max if higher else min)(values)
        cells = [
            f"[bold green]{_cell(key, v)}[/]" if best is not None and v == best else _cell(key, v)
            for v in values
        ]
        rows.append((heading, *cells))
    columns = [("metric", "left")] + [(r["model"], "right") for r in reports]
    return render.table(title, columns, rows)


def flat_record(report: dict) -> dict:
    """One CSV row per model: its name and every headline metric (the per-label report is JSON's)."""
    return {
        "model": report["model"],
        "prior": report.get("prior"),
        **{k: report.get(k) for k, _, _ in ROWS},
        "majority_label": report.get("majority_label"),
        "trained_on": report["overlap"]["trained_on"],
        "unseen_accuracy": (report.get("unseen") or {}).get("accuracy"),
    }


def per_label_table(report: dict):
    rows = [
        (label, f"{m['precision']:.3f}", f"{m['recall']:.3f}", f"{m['f1']:.3f}", f"{m['support']:,}")
        for label, m in report["per_label"].items()
    ]
    columns = [
        ("label", "left"),
        ("precision", "right"),
        ("recall", "right"),
        ("F1", "right"),
        ("support", "right"),
    ]
    return render.table(f"per label — {report['model']}", columns, rows)


def prior_step(clf, prior: str):
    """A step re-weighting a Scored's probabilities to `prior` (estimate: EM over the split's names);
    the prior is read and checked now, before any scoring."""
    from namelang.scoring.adjust import Adjustment
    from namelang.scoring.options import ScoreOptions

    adjustment = Adjustment.of(clf, ScoreOptions(prior=prior))

    def step(scored):
        scored.probs, scored.prior = adjustment.settled(scored.probs).probabilities(scored.probs), prior
        return scored

    return step


@dataclass(frozen=True)
class EvaluateArgs(options.CommonArgs):
    model: Annotated[
        list[str] | None,
        typer.Option(
            "--model",
            "-m",
            metavar="<name>",
            help="Stored name, folder or 'pretrained'; repeat to compare.",
            show_default=False,
        ),
    ] = None
    split: options.Split = "test"
    prior: Annotated[
        str,
        typer.Option(
            "--prior",
            metavar="<prior>",
            help="Label prior: train, uniform, estimate (EM), SOURCE, FILE.json.",
        ),
    ] = "train"
    fmt: EvaluateFormat = Format.auto
    device: options.Device = "auto"


def evaluate_cmd(args: EvaluateArgs) -> None:
    """Score models on a labelled split: accuracy, macro-F1, top-3, log-loss, calibration, per label."""
    from namelang.data.split import read_split

    workspace = args.start()
    names, labels, path = read_split(workspace.home, args.split)
    reports = [model_report(ref, workspace, args, (names, labels, path)) for ref in args.model or [None]]
    fmt = out.resolve(args.fmt, Format.json)
    if fmt is Format.json:
        out.json(reports[0] if len(reports) == 1 else reports)
    elif fmt is Format.jsonl:
        out.records(reports, fmt)
    elif fmt is Format.csv:
        out.records([flat_record(r) for r in reports], fmt)
    else:
        under = "" if args.prior == "train" else f", prior {args.prior}"
        out.show(comparison_table(reports, f"{path} ({reports[0]['n']:,} names{under})"))
        if len(reports) == 1:
            out.show(per_label_table(reports[0]))
        for report in reports:
            part_tables(report)
    for report in reports:
        if report["skipped_blank"]:
            render.warn(f"{report['skipped_blank']:,} blank names skipped")
        overlap_line(report)


def model_report(ref: str | None, workspace, args: EvaluateArgs, split: tuple) -> dict:
    """One model's report on the split (names, labels, path): its metrics, each source's, seen and unseen."""
    from namelang.data.split import read_split_sources
    from namelang.evaluation import metrics, overlap, score, seen_reports, source_reports
    from namelang.inference import Classifier

    names, labels, path = split
    clf = Classifier.load(ref, workspace, args.device)
    render.model_in_use(clf)
    reweight = prior_step(clf, args.prior)
    scored = reweight(score(clf, names, labels, source=str(path)))
    report = metrics(scored)
    # Each source's rows of the split too (a split `prepare` made from several sources).
    kept = [tag for tag, n in zip(read_split_sources(path), clf.normalize(names)) if n]
    report["sources"] = source_reports(scored, kept)
    # Names the model trained on (answered from its lexicon) apart from those it did not.
    report.update(overlap=overlap(scored), **seen_reports(scored))
    return report


def part_tables(report: dict) -> None:
    """The names the model trained on apart from the others (when there are any), then each source's rows."""
    parts = {part: report[part] for part in ("seen", "unseen") if report[part]}
    if report["overlap"]["trained_on"]:
        out.show(comparison_table([{**r, "model": f"{part} names"} for part, r in parts.items()],
                                  f"{report['model']}: names it trained on (seen) and not"))  # fmt: skip
    if report["sources"]:
        out.show(comparison_table([{**r, "model": tag} for tag, r in report["sources"].items()],
                                  f"{report['model']}: each source's rows"))  # fmt: skip


def overlap_line(report: dict) -> None:
    """One stderr line when the scored names overlap the model's training names (or cannot be checked)."""
    seen = report["overlap"]
    if not seen["checked"]:
        render.info(
            f"{report['model']!r} keeps no list of its training names: overlap with them cannot be checked"
        )
    elif seen["trained_on"]:
        render.warn(
            f"{report['model']!r} trained on {seen['trained_on']:,} of these {report['n']:,} names "
            f"({seen['share']:.1%}): they flatter it; only the unseen names' scores measure it on new names"
        )


def register(app: typer.Typer) -> None:
    app.command("evaluate")(options.takes(EvaluateArgs)(evaluate_cmd))
