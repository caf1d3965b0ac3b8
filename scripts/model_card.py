"""MODEL_CARD.md of the shipped model, from the figures `build_pretrained.py` measured in its run (which
takes its names for the figures, WITH_PRIOR and SHIPPED, from here)."""

from __future__ import annotations

WITH_PRIOR = " with --prior "  # "archive test with --prior archive": that subset under its source's prior
SHIPPED = "shipped"  # the name of the shipped model among the build's models


def _models(figures: dict) -> dict[str, dict]:
    return {m["name"]: m for m in figures["models"]}


def _f(value, digits: int = 4) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def _pts(value: float) -> str:
    return f"{100 * value:+.2f} pts"


def _name(m: dict) -> str:
    return f"**{m['name']}** (shipped)" if m["name"] == SHIPPED else m["name"]


def _tests(figures: dict) -> list[str]:
    return [f"{tag} test" for tag in figures["sources"] if f"{tag} test" in _models(figures)[SHIPPED]["test"]]


def _oos_point(report: dict, max_loss: float = 0.02) -> tuple[dict, dict]:
    """The threshold chosen on validation (most out-of-scope flagged within max_loss), and its test point."""
    val = [p for p in report["oos_val"] if p["accuracy_lost"] <= max_loss]
    best = max(val, key=lambda p: p["oos_flagged"]) if val else report["oos_val"][0]
    test = next(p for p in report["oos_test"] if p["threshold"] == best["threshold"])
    return best, test


def comparison_rows(figures: dict, with_prior: bool = False) -> str:
    """Accuracy / mean recall of every model on each source's test rows (own prior, or the source's)."""
    lines = []
    for m in figures["models"]:
        cells = []
        for key in _tests(figures):
            r = m["test"].get(key + WITH_PRIOR + key.split()[0] if with_prior else key)
            cells.append(f"{_f(r['accuracy'])} / {_f(r['mean_recall'])}" if r else "—")
        lines.append(
            f"| {_name(m)} | {m['kind']} | {_f(m['val'].get('accuracy'))} | " + " | ".join(cells) + " |"
        )
    return "\n".join(lines)


def _header(figures: dict) -> str:
    tests = _tests(figures)
    return (
        "| model | kind | val accuracy | "
        + " | ".join(f"{t}: accuracy / mean recall" for t in tests)
        + " |\n"
        "| --- | --- | ---: | " + " | ".join("---:" for _ in tests) + " |"
    )


def language_rows(shipped: dict, ngram: dict, key: str) -> str:
    ours, theirs = shipped["test"][key]["per_label"], ngram["test"][key]["per_label"]
    return "\n".join(
        f"| {label} | {v['support']} | {v['recall']:.3f} | {theirs.get(label, {}).get('recall', 0):.3f} |"
        for label, v in ours.items()
        if v["support"] and label != "unknown"
    )


def prior_rows(choice: dict) -> str:
    lines = []
    for name, row in choice["candidates"].items():
        cells = [
            f"{_f(r['accuracy'])} / {_f(r['mean_recall'])} / {100 * r['worst_excess']:+.1f} {r['worst_label']}"
            for key, r in row.items()
            if isinstance(r, dict) and "accuracy" in r
        ]
        mark = f"**{name}** (chosen)" if name == choice["chosen"] else name
        lines.append(
            f"| {mark} | "
            + " | ".join(cells)
            + f" | {row['score']:.4f} | {'yes' if row['explodes'] else 'no'} |"
        )
    return "\n".join(lines)


def _prior_header(choice: dict) -> str:
    first = next(iter(choice["candidates"].values()))
    keys = [k.replace(" test", "") for k, r in first.items() if isinstance(r, dict) and "accuracy" in r]
    return (
        "| prior | "
        + " | ".join(f"{k} val: acc. / recall / worst excess" for k in keys)
        + " | score | explodes |\n"
        "| --- | " + " | ".join("---:" for _ in keys) + " | ---: | --- |"
    )


def script_rows(shipped: dict) -> str:
    scripts = shipped["test"].get("scripts", {})
    return "\n".join(f"| {script} | {v['n']} | {v['accuracy']:.3f} |" for script, v in scripts.items())


def targets(figures: dict) -> list[tuple[str, str, bool]]:
    """Issue 20's targets, on the test split, the shipped model with its default prior."""
    models = _models(figures)
    s, ng = models[SHIPPED]["test"], models["ngram"]["test"]
    rows = []
    if "wikipedia test" in s:
        w, nw = s["wikipedia test"], ng["wikipedia test"]
        for metric, label in (("accuracy", "accuracy"), ("mean_recall", "mean recall")):
            gain = w[metric] - nw[metric]
            rows.append((f"wikipedia: ≥ +2 pts {label} over the union n-gram", _pts(gain), gain >= 0.02))
    for source in ("archive", "mimesis"):
        if f"{source} test" in s:
            value = s[f"{source} test"]["accuracy"]
            rows.append((f"{source}: accuracy ≥ 0.83 (default prior)", _f(value), value >= 0.83))
    faker = figures.get("faker", {}).get(SHIPPED)
    if faker:
        a = faker["own"]["all"]
        rows.append(("Faker: accuracy ≥ 0.72", _f(a["accuracy"]), a["accuracy"] >= 0.72))
        rows.append(("Faker: mean recall ≥ 0.82", _f(a["mean_recall"]), a["mean_recall"] >= 0.82))
    return rows


def faker_rows(figures: dict) -> str:
    lines = []
    for name, result in figures.get("faker", {}).items():
        for prior in ("own", "estimate"):
            a, u = result[prior]["all"], result[prior]["unseen"]
            lines.append(
                f"| {name} | {prior} | {a['names']:,} | {_f(a['accuracy'])} | {_f(a['mean_recall'])} | "
                f"{u['names']:,} | {_f(u['accuracy'])} | {_f(u['mean_recall'])} | {_f(result[prior]['out_of_scope_flagged'], 3)} |"
            )
    return "\n".join(lines)


def _sources(figures: dict) -> str:
    counts = figures["manifest"].get("sources", [])
    return "\n".join(
        f"| {s['name']} | {s.get('licence', '')} | {sum(s.get('rows', {}).values()) if isinstance(s.get('rows'), dict) else s.get('rows', '')} |"
        for s in counts
        if isinstance(s, dict)
    )


def model_card(card: dict, figures: dict) -> str:
    models = _models(figures)
    shipped = models[SHIPPED]
    o, t = card["arch_options"], card["training"]
    chosen_val, chosen_test = _oos_point(shipped["test"])
    curve = "\n".join(
        f"| {p['threshold']:.1f} | {p['oos_flagged']:.3f} | {p['in_scope_accuracy']:.4f} | {100 * p['accuracy_lost']:.2f} |"
        for p in shipped["test"]["oos_test"]
    )
    totals = figures["manifest"]["totals"]
    choice = figures["default_prior"]
    sources = " ".join(figures["sources"])
    target_table = "\n".join(
        f"| {n} | {v} | {'met' if ok else '**missed**'} |" for n, v, ok in targets(figures)
    )
    languages = "\n\n".join(
        f"#### {key}\n\n| language | names | shipped | union n-gram |\n| --- | ---: | ---: | ---: |\n"
        + language_rows(shipped, models["ngram"], key)
        for key in _tests(figures)
    )
    return f"""# Model card — `pretrained` (namelang {card["versions"]["namelang"]})

The model that ships inside the package, used by `namelang predict` when the workspace has no model of
its own. `python scripts/build_pretrained.py --archive names.zip --sources {sources}` built it and wrote
every figure below in the same run ({figures["build_seconds"]:,} s on a shared 2-core CPU; `metrics.json`
beside this card holds them all).

## What it is

- **Architecture**: `{card["arch"]}` — character embeddings ({o["embedding_dim"]}), {o["layers"]}
  {"bidirectional" if o.get("bidirectional") else "unidirectional"} GRU layer(s) of {o["hidden"]} units, a linear
  layer over {len(card["labels"])} labels ({", ".join(card["labels"])}); {card["parameters"]:,}
  parameters. Logits are divided by a temperature of {card["temperature"]:.3f}, fitted on validation.
- **Training**: `namelang train --arch gru --epochs {t["epochs"]} --patience {t["patience"]} --batch-size
  {t["batch_size"]} --select {t.get("select", "macro-f1")} --seed {card["seed"]}`; the kept epoch was
  {card["best"]["epoch"]} of {card["epochs_run"]}, {card["training_seconds"]:.0f} s.
- **Data**: `namelang prepare {sources} --seed 0`, deduplicated across sources and group-split on the
  union (no name in two splits): {totals["train"]:,} train / {totals["val"]:,} validation / {totals["test"]:,}
  test rows. Each source's licence and provenance is in docs/data.md.
- **A lexicon of its train names**: a name the training sources hold answers from its label counts
  blended with the network (`--explain` says `lexicon`); every test figure below is on names the
  lexicon does not hold (the split is a group split), so it measures the network.
- **Its default prior**: `{choice["chosen"]}`, chosen on validation (below) and folded into the output
  bias; `--prior SOURCE`, `uniform` and `estimate` move from it.

## Test metrics (the union's test split, same run)

Each source's in-scope test rows; `accuracy / mean recall per language`. The union n-gram and the
archive-only models were trained on the same split's train rows, so nothing below saw a test name.

{_header(figures)}
{comparison_rows(figures)}

### With each source's own prior (`--prior SOURCE`)

{_header(figures)}
{comparison_rows(figures, with_prior=True)}

### The default prior, chosen on validation

Each candidate re-weights the network's validation probabilities by Bayes' rule, on the validation
rows of each source that mixes languages (the single-language lists say nothing of a table's mix); the
score is the mean over those sources of (accuracy + mean recall) / 2 (mean recall is the accuracy on a table where every
language is equally common: the shifted mix); "worst excess" is the label predicted for the most points
more of a source's rows than it truly holds, and a candidate "explodes" above 5 points.

{_prior_header(choice)}
{prior_rows(choice)}

### Against the targets

| target | shipped | |
| --- | ---: | --- |
{target_table}

### The independent check: Faker's surname lists (never trained or tuned on)

`unseen`: names no training source holds. Own prior and `--prior estimate`.

| model | prior | names | accuracy | mean recall | unseen names | unseen accuracy | unseen mean recall | out of scope flagged |
| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |
{faker_rows(figures)}

### Recall per language on each source's test rows

{languages}

### Names in their own script

Mimesis's test names written in their own script, as a user would pass them:

| script | names | accuracy |
| --- | ---: | ---: |
{script_rows(shipped)}

### Names outside the 18 languages

On validation, threshold {chosen_val["threshold"]:.1f} flags the most out-of-scope names for at most 2 points of
in-scope accuracy ({chosen_val["oos_flagged"]:.3f} flagged); on test it flags {chosen_test["oos_flagged"]:.3f} of them
for {100 * chosen_test["accuracy_lost"]:.2f} points. The whole test curve:

| threshold | out-of-scope flagged | in-scope accuracy | points lost |
| ---: | ---: | ---: | ---: |
{curve}

## Intended use

Tagging surnames with the language their spelling most resembles, for exploring or grouping lists of
names, and as a teaching example of character-level sequence classification.

## Limits

- **A guess from spelling only.** It does not know a person's nationality, ethnicity, citizenship or
  language, and must not be used to decide anything about a person.
- **Labels are proxies**: Wikipedia's rows are labelled by a person's nationality, not the origin of
  the name (a French "Nguyen" gives way to a stronger source, but not every such case has one);
  Mimesis's lists are generated-data lists, some of them country registers that mix origins.
- Out-of-scope names are only partly caught (above); anything else gets one of the 18 languages.

## Reproduce

```bash
pip install --no-deps name2nat==0.5.1   # the Wikipedia source (docs/data.md)
python scripts/build_pretrained.py --archive names.zip --sources {sources}
```
"""
