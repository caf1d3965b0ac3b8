"""The independent check: Faker's per-locale surname lists, never used to train or choose anything.

    pip install faker
    python benchmarks/faker_check.py [--work build/pretrained | --archive PATH/names.zip] [--json out.json]
        [--model NAME=PATH ...]

Faker (MIT) ships per-country surname lists inside the package. The project keeps them out of every
training set, split and choice, so that they can say how the tool does on registers it never saw:
this script only scores. The locale -> label mapping below was written from the locales' names and
Faker's own descriptions of them, in the spirit of the Mimesis mapping (data/sources.py), before any
model was scored on them, and is not to be changed after looking at a result.

Scored: the shipped model (`pretrained`), and every model of a `scripts/build_pretrained.py` workspace
given with --work (the union's gru seeds, n-gram, ensemble, student; the archive-only gru and n-gram);
or, with --model, only the models named (the build runs this check so, once every choice is made). The
names the tool's sources hold are those of the --work union split, else of the archive (--archive) and
Mimesis. Each model sees every name as a user would pass it (native scripts included), once with its
own training prior and once with `--prior estimate` (the prior fitted by EM on this whole table, in-
and out-of-scope names together, as a user tagging it would do). Reported: accuracy and mean
per-language recall on the in-scope names, the same on the names no training source holds, per
language, per locale and per script for the shipped model, and the share of out-of-scope names labelled
`unknown`.
"""

from __future__ import annotations

import argparse
import importlib
import json
import statistics
import sys
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from namelang.measure import ARCHIVE_HELP, archive_option, archive_or_exit, load, read, with_prior

OUT_OF_SCOPE = "unknown"

LAST = ("last_names",)
# Faker locale -> (label, the provider's attributes that hold its surnames); a label's locales together.
IN_SCOPE: dict[str, tuple[str, tuple[str, ...]]] = {
    "cs_CZ": ("Czech", ("last_names", "last_names_female")),
    **dict.fromkeys(("de_DE", "de_AT", "de_CH"), ("German", LAST)),
    **dict.fromkeys(("nl_NL", "nl_BE"), ("Dutch", LAST)),
    "en_GB": ("English", LAST),
    # en_IE: Ireland's register, anglicised (Murphy, O'Brien) like the archive's; ga_IE: the same
    # surnames in Irish spelling (Ó Súilleabháin).
    **dict.fromkeys(("en_IE", "ga_IE"), ("Irish", LAST)),
    "fr_FR": ("French", LAST),
    "it_IT": ("Italian", LAST),
    "pl_PL": ("Polish", ("unisex_last_names", "male_last_names")),  # its `last_names` is a placeholder
    **dict.fromkeys(("pt_PT", "pt_BR"), ("Portuguese", LAST)),
    **dict.fromkeys(("es_ES", "es_MX"), ("Spanish", LAST)),
    "ru_RU": ("Russian", LAST),  # Cyrillic, male and female forms
    "el_GR": ("Greek", LAST),  # Greek script, male and female forms
    "ja_JP": ("Japanese", ("last_names", "last_kana_names", "last_romanized_names")),
    "zh_CN": ("Chinese", ("last_names", "last_romanized_names")),
    "zh_TW": ("Chinese", LAST),
    "ko_KR": ("Korean", LAST),
    **dict.fromkeys(("ar_AA", "ar_SA", "ar_PS", "ar_DZ"), ("Arabic", LAST)),
    "vi_VN": ("Vietnamese", LAST),
}
# Languages outside the 18 (the Mimesis out-of-scope languages, and a few more Faker has).
# (et_EE's `last_names` adds Russian names living in Estonia: its Estonian list alone is read.)
OUT_OF_SCOPE_LOCALES: dict[str, tuple[str, ...]] = {
    locale: ("last_names_est",) if locale == "et_EE" else LAST
    for locale in "fi_FI sv_SE no_NO da_DK hu_HU tr_TR et_EE sk_SK hr_HR sl_SI lt_LT lv_LV ro_RO az_AZ fa_IR".split()
}
# Left out, and why: uk_UA, bg_BG (Cyrillic registers of languages the archive files under Russian, as
# the Mimesis uk and kk lists are left out); is_IS (patronymic stems, not surnames); en_US, en_NZ, en_IN,
# es_AR … (registers that mix origins, or languages outside the 18 written in Latin that the tool's
# sources do not cover as out of scope).


@dataclass
class Row:
    name: str
    label: str  # one of the 18, or OUT_OF_SCOPE
    locale: str


def read_faker() -> tuple[list[Row], str]:
    """Every mapped locale's surnames (distinct (name, label) pairs; a name several labels hold stays
    under each), and Faker's version."""
    try:
        import faker
    except ImportError:
        sys.exit("this check needs Faker: pip install faker")
    rows, seen = [], set()
    mapping = {**IN_SCOPE, **{loc: (OUT_OF_SCOPE, attrs) for loc, attrs in OUT_OF_SCOPE_LOCALES.items()}}
    for locale, (label, attributes) in mapping.items():
        provider = importlib.import_module(f"faker.providers.person.{locale}").Provider
        for attribute in attributes:
            for name in getattr(provider, attribute):  # tuples, lists and weighted OrderedDicts alike
                name = " ".join(str(name).split())
                if name and (name, label) not in seen:
                    seen.add((name, label))
                    rows.append(Row(name, label, locale))
    return rows, faker.VERSION


def source_names(work: Path | None, archive: Path | None) -> set[str]:
    """Every name the tool's sources hold, normalised as the models do: with --work, every name of the
    build's union split (all its sources); else the archive and Mimesis."""
    import tempfile

    from namelang.data.corpus import read_corpus
    from namelang.data.download import safe_extract
    from namelang.data.normalize import normalize_name
    from namelang.data.sources import read_mimesis

    if archive is None:
        names = [n for split in ("train", "val", "test") for n in read(work / "union", split).names]
        return {normalize_name(n) for n in names}
    names = list(read_mimesis().names)
    with tempfile.TemporaryDirectory() as tmp:
        safe_extract(archive, Path(tmp))
        names += read_corpus(Path(tmp)).names
    return {normalize_name(n) for n in names}


def has_union(work: Path | None) -> bool:
    return work is not None and (work / "union" / "prepared").exists()


def models_of(work: Path | None, chosen: list[str] | None) -> list[tuple[str, Path | str]]:
    """(label, model) of each `--model NAME=PATH` if any; else the shipped model and the --work ones."""
    if chosen:
        return [(label, Path(path)) for label, _, path in (c.partition("=") for c in chosen)]
    from namelang.models.store import is_model_folder

    found: list[tuple[str, Path | str]] = [("shipped (pretrained)", "pretrained")]
    if work is None:
        return found
    for folder, prefix in ((work / "union" / "models", "union "), (work / "archive-only" / "models", "")):
        for path in sorted(p for p in folder.iterdir() if is_model_folder(p)):
            found.append((prefix + path.name, path))
    return found


def scores(predicted: np.ndarray, truth: np.ndarray, keep: np.ndarray) -> dict:
    """Accuracy and mean per-language recall over the rows `keep` selects."""
    p, t = predicted[keep], truth[keep]
    recalls = {label: float(np.mean(p[t == label] == label)) for label in sorted(set(t))}
    return {
        "names": int(keep.sum()),
        "accuracy": float(np.mean(p == t)) if len(t) else float("nan"),
        "mean_recall": statistics.fmean(recalls.values()) if recalls else float("nan"),
        "recall": recalls,
    }


def check(model, rows: list[Row], seen: set[str]) -> dict:
    """One model's figures, with its training prior and with `--prior estimate`."""
    from namelang.data.normalize import normalize_name
    from namelang.data.scripts import script_of

    clf = load(model)
    names = [r.name for r in rows]
    truth = np.array([r.label for r in rows], dtype=object)
    probs = clf.predict_proba(names)
    in_scope = truth != OUT_OF_SCOPE
    unseen = np.array([normalize_name(n) not in seen for n in names])  # as `source_names` spells them
    labels = np.array(clf.labels, dtype=object)
    result = {"labels": len(clf.labels)}
    estimated = with_prior(clf, probs, "estimate")
    for prior, p in (("own", probs), ("estimate", estimated)):
        predicted = labels[np.argmax(p, axis=1)]
        result[prior] = {
            "all": scores(predicted, truth, in_scope),
            "unseen": scores(predicted, truth, in_scope & unseen),
            "out_of_scope_flagged": float(np.mean(predicted[~in_scope] == OUT_OF_SCOPE)),
            "per_locale": {
                loc: float(np.mean(predicted[idx] == truth[idx]))
                for loc, idx in _groups([r.locale for r in rows]).items()
            },
            "per_script": {
                script: float(np.mean(predicted[idx] == truth[idx]))
                for script, idx in _groups([script_of(n) for n in names], in_scope).items()
            },
        }
    return result


def _groups(keys: list[str], keep: np.ndarray | None = None) -> dict[str, np.ndarray]:
    groups: dict[str, list[int]] = defaultdict(list)
    for i, key in enumerate(keys):
        if keep is None or keep[i]:
            groups[key].append(i)
    return {k: np.array(v) for k, v in sorted(groups.items())}


def render(results: dict, rows: list[Row], version: str) -> str:
    counts = Counter(r.label for r in rows)
    in_scope = sum(v for k, v in counts.items() if k != OUT_OF_SCOPE)
    lines = [
        f"Faker {version}: {in_scope:,} in-scope names ({len(counts) - 1} languages), "
        f"{counts[OUT_OF_SCOPE]:,} out of scope\n",
        "| model | prior | accuracy | mean recall | unseen names | unseen accuracy | unseen mean recall "
        "| out of scope flagged |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for model, r in results.items():
        for prior in ("own", "estimate"):
            s = r[prior]
            lines.append(
                f"| {model} | {prior} | {s['all']['accuracy']:.4f} | {s['all']['mean_recall']:.4f} "
                f"| {s['unseen']['names']:,} | {s['unseen']['accuracy']:.4f} | {s['unseen']['mean_recall']:.4f} "
                f"| {s['out_of_scope_flagged']:.3f} |"
            )
    first = next(iter(results))
    others = [m for m in results if m != first]
    lines += ["", f"Recall per language ({first} and the others, own prior)\n"]
    lines += ["| language | names | " + " | ".join([first, *others]) + " |"]
    lines += ["| --- | ---: |" + " ---: |" * (1 + len(others))]
    for label in sorted(k for k in counts if k != OUT_OF_SCOPE):
        cells = [
            f"{results[m]['own']['all']['recall'].get(label, float('nan')):.3f}" for m in [first, *others]
        ]
        lines.append(f"| {label} | {counts[label]:,} | " + " | ".join(cells) + " |")
    per_locale = Counter(r.locale for r in rows)
    lines += ["", f"Per locale ({first}; out-of-scope locales: share labelled unknown)\n"]
    lines += [
        "| locale | label | names | own prior | `--prior estimate` |",
        "| --- | --- | ---: | ---: | ---: |",
    ]
    label_of = {**{k: v[0] for k, v in IN_SCOPE.items()}, **{k: OUT_OF_SCOPE for k in OUT_OF_SCOPE_LOCALES}}
    for locale, n in per_locale.items():
        own, est = (results[first][p]["per_locale"][locale] for p in ("own", "estimate"))
        lines.append(f"| {locale} | {label_of[locale]} | {n:,} | {own:.3f} | {est:.3f} |")
    lines += [
        "",
        f"Per script, in-scope names ({first}, own prior)\n",
        "| script | accuracy |",
        "| --- | ---: |",
    ]
    for script, acc in results[first]["own"]["per_script"].items():
        lines.append(f"| {script} | {acc:.3f} |")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--work", type=Path, help="a scripts/build_pretrained.py workspace: score its models too"
    )
    archive_option(parser, f"without --work: {ARCHIVE_HELP}")
    parser.add_argument(
        "--model", action="append", metavar="NAME=PATH", help="score only these model folders (repeatable)"
    )
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)
    archive = archive_or_exit(parser, args.archive, needed=not has_union(args.work))
    rows, version = read_faker()
    seen = source_names(args.work, archive)
    results = {label: check(model, rows, seen) for label, model in models_of(args.work, args.model)}
    print(render(results, rows, version))
    if args.json:
        args.json.write_text(json.dumps({"faker": version, "models": results}, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
