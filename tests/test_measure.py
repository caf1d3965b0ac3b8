"""namelang.measure (what the build script and the benchmarks share) and the tools' argument handling.

The tools themselves run in a subprocess, as a developer runs them: a missing or unreadable archive is
one `error:` line and exit 1, before anything is read or trained. The seam into training, loading,
scoring, tagging and the store is exercised on the tiny fixture split, so that a change of that API
shows here rather than in the middle of a two-hour build."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from namelang import measure
from namelang.errors import NamelangError

ROOT = Path(__file__).resolve().parents[1]


def run_tool(script: str, *args: str, cwd: Path, archive_variable: str | None = None):
    env = {k: v for k, v in os.environ.items() if k != measure.ARCHIVE_VARIABLE}
    if archive_variable is not None:
        env[measure.ARCHIVE_VARIABLE] = archive_variable
    command = [sys.executable, str(ROOT / script), *args]
    return subprocess.run(command, capture_output=True, text=True, env=env, cwd=cwd, timeout=120)


def assert_one_line(result, *words: str) -> str:
    assert result.returncode == 1, result.stderr
    assert result.stdout == "" and "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    for word in words:
        assert word in lines[0], lines[0]
    return lines[0]


def test_the_build_without_an_archive_says_how_to_give_one_in_one_line(tmp_path):
    result = run_tool("scripts/build_pretrained.py", "--work", str(tmp_path / "work"), cwd=tmp_path)
    assert_one_line(result, "no archive given", "--archive PATH", measure.ARCHIVE_VARIABLE)
    assert not (tmp_path / "work").exists()  # nothing prepared, nothing trained


@pytest.mark.parametrize("case", ["missing", "not a zip", "a folder", "variable names a missing file"])
def test_the_build_refuses_an_unreadable_archive_in_one_line(case, tmp_path):
    missing, text = tmp_path / "names.zip", tmp_path / "names.txt"
    text.write_text("Smith\n")
    given = {"missing": missing, "not a zip": text, "a folder": tmp_path}.get(case)
    args = ["--archive", str(given)] if given is not None else []
    variable = str(missing) if given is None else None
    result = run_tool("scripts/build_pretrained.py", *args, "--work", str(tmp_path / "w"), cwd=tmp_path,
                      archive_variable=variable)  # fmt: skip
    words = {"not a zip": [str(text), "not a zip archive"], "a folder": [str(tmp_path), "Is a directory"]}
    assert_one_line(result, *words.get(case, [str(missing), "No such file or directory"]))


# Every tool that reads the archive, with what keeps it from finding one elsewhere (a prepared --work).
TOOLS = {
    "benchmarks/train_benchmark.py": [],
    "benchmarks/registers_benchmark.py": [],
    "benchmarks/predict_benchmark.py": [],
    "benchmarks/tables_benchmark.py": [],
    "benchmarks/serve_benchmark.py": [],
    "benchmarks/faker_check.py": [],
    "benchmarks/uncertainty_benchmark.py": ["--work", "{tmp}/work"],
}


@pytest.mark.parametrize("script", TOOLS)
def test_every_tool_asks_for_the_archive_in_one_line(script, tmp_path):
    args = [a.format(tmp=tmp_path) for a in TOOLS[script]]
    assert_one_line(run_tool(script, *args, cwd=tmp_path), "--archive PATH", measure.ARCHIVE_VARIABLE)
    help_text = run_tool(script, "--help", cwd=tmp_path)
    assert help_text.returncode == 0 and "$" + measure.ARCHIVE_VARIABLE in help_text.stdout


def test_no_script_reaches_into_the_benchmarks_or_faker():
    for path in (ROOT / "scripts").glob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert "sys.path" not in text and "faker_check import" not in text, path
        assert "import faker" not in text and "from faker" not in text, path
    assert not (ROOT / "scripts" / "add_source_priors.py").exists()
    assert not (ROOT / "scripts" / "add_uncertainty.py").exists()


def test_the_tools_take_the_archive_through_one_helper(archive, tmp_path, monkeypatch, capsys):
    """`measure.archive_option` / `archive_or_exit`: no tool pastes the option or its error block."""
    import argparse

    for script in ["scripts/build_pretrained.py", *TOOLS]:
        text = (ROOT / script).read_text(encoding="utf-8")
        assert '"--archive"' not in text and "flag_words" not in text and "archive_or_exit(" in text, script
    monkeypatch.delenv(measure.ARCHIVE_VARIABLE, raising=False)
    parser = argparse.ArgumentParser(prog="tool")
    measure.archive_option(parser)
    given = parser.parse_args(["--archive", str(archive)]).archive
    assert measure.archive_or_exit(parser, given) == archive
    assert measure.archive_or_exit(parser, None, needed=False) is None
    with pytest.raises(SystemExit) as exited:
        measure.archive_or_exit(parser, tmp_path / "none.zip")
    line = capsys.readouterr().err
    assert (
        exited.value.code == 1
        and line.startswith("error: cannot read the archive ")
        and line.count("\n") == 1
    )


def test_archive_at_takes_the_path_given_else_the_variable(archive, tmp_path, monkeypatch):
    monkeypatch.delenv(measure.ARCHIVE_VARIABLE, raising=False)
    assert measure.archive_at(archive) == archive
    with pytest.raises(NamelangError) as caught:
        measure.archive_at(None)
    named = []
    caught.value.worded(lambda name, value: named.append(name) or name)
    assert named == ["archive"] and "archive='PATH'" in str(caught.value)
    monkeypatch.setenv(measure.ARCHIVE_VARIABLE, str(archive))
    assert measure.archive_at(None) == archive
    assert measure.archive_at("") == archive
    with pytest.raises(NamelangError, match="No such file"):
        measure.archive_at(tmp_path / "other.zip")  # a path given wins over the variable


def test_archive_names_distinct_or_as_listed(archive):
    listed = measure.archive_names(archive, distinct=False)
    distinct = measure.archive_names(archive)
    assert distinct == sorted(set(listed)) and len(listed) > len(distinct)  # the archive repeats names
    assert "" not in distinct and all(n == n.strip() for n in listed)


@pytest.fixture(scope="module")
def trained_home(tiny_prepared, tmp_path_factory) -> Path:
    """The tiny split with a tiny gru `g` and an n-gram `n`, trained through the seam."""
    home = tmp_path_factory.mktemp("measure") / "home"
    shutil.copytree(tiny_prepared, home)
    measure.train(home, "gru", 0, "g", epochs=2, batch_size=16)
    measure.train(home, "ngram", 0, "n")
    return home


def stored(home: Path, name: str, kind: str) -> measure.Trained:
    found = measure.kept(home, name, lambda card: True, kind, 0)
    assert found is not None, name
    return found


def test_train_kept_and_ensembled_through_the_seam(tiny_home):
    home = tiny_home
    model = measure.train(home, "gru", 0, "g", epochs=2, batch_size=16)
    assert (model.name, model.kind, model.seed, model.epochs) == ("g", "gru", 0, 2)
    assert model.parameters > 0 and set(model.val) == {"accuracy", "macro_f1"}
    assert measure.kept(home, "g", lambda card: card.arch == "gru", "gru", 0) == model
    test = measure.score_split(home, model)
    assert test["n"] == len(measure.read(home, "test").names) and 0 <= test["accuracy"] <= 1
    assert measure.kept(home, "g", lambda card: False, "gru") is None  # not the model wanted: removed
    assert measure.kept(home, "g", lambda card: True, "gru") is None
    again = measure.train(home, "gru", 0, "g", epochs=2, batch_size=16)
    ngram = measure.train(home, "ngram", 0, "n")
    both = measure.ensemble(home, ["g", "n"], "both")
    assert both.kind == "ensemble" and again.parameters + ngram.parameters == both.parameters
    kept = measure.kept(home, "both", lambda card: measure.member_names(card) == ["g", "n"], "ensemble")
    assert kept == both


def test_a_folded_prior_is_the_prior_applied(trained_home, tmp_path, monkeypatch):
    """The copy whose output bias carries a prior answers as the original re-weighted to that prior.
    The model is copied once: its refitted prior and thresholds rewrite the card alone (on main the
    folder was copied again onto itself)."""
    from namelang.models.store import StoredModel, read_card
    from namelang.uncertainty import model_prior, reweight

    copies = []
    copied = StoredModel.copied
    monkeypatch.setattr(
        StoredModel, "copied", lambda self, *a, **k: copies.append(a) or copied(self, *a, **k)
    )

    home = trained_home
    model = stored(home, "g", "gru")
    clf = measure.load(model.path)
    uniform = {lb: 1 / len(clf.labels) for lb in clf.labels}
    note = {"default_prior": {"name": "uniform", "shares": uniform}}
    folded = measure.fold_prior(home, model, "folded", "shipped", uniform, note)
    assert (folded.name, folded.kind, folded.seed) == ("folded", "shipped", 0)
    assert len(copies) == 1 and folded.path == copies[0][0]
    on_disk = read_card(folded.path)
    assert on_disk.lexicon and on_disk.conformal and on_disk.prior
    assert folded == measure.from_card("folded", "shipped", folded.path, on_disk, 0)
    names = measure.read(home, "val").names
    own = model_prior(clf.card, clf.labels)
    expected = reweight(clf.predict_proba(names), own, np.full(len(own), 1 / len(own)))
    moved = measure.load(folded.path)
    assert np.allclose(moved.predict_proba(names), expected, atol=1e-5)
    assert moved.card.extras["default_prior"] == note["default_prior"] and moved.card.conformal
    target = tmp_path / "pretrained"
    target.mkdir()
    card = measure.publish(folded, home, target, "pretrained")
    assert card["name"] == "pretrained" and measure.load(target).name == "pretrained"
    assert np.allclose(measure.load(target).predict_proba(names), expected, atol=1e-5)


def test_with_prior_is_what_predict_does(trained_home):
    from namelang.uncertainty import estimate_prior, model_prior, reweight

    clf = measure.load(stored(trained_home, "n", "ngram").path)
    names = measure.read(trained_home, "test").names
    probs = clf.predict_proba(names)
    found = estimate_prior(probs, model_prior(clf.card, clf.labels))  # EM over the rows, as `estimate` does
    estimated = measure.with_prior(clf, probs, "estimate")
    assert (
        np.allclose(estimated, reweight(probs, found.source, found.prior)) and estimated.dtype == probs.dtype
    )
    label = clf.labels[0]
    only = measure.with_prior(clf, probs, "census", {"census": {label: 1.0}})
    assert np.allclose(only[:, 0], 1.0)  # all the prior's mass on one label: every name is that label


def test_derive_keeps_the_rows_asked_for_with_the_same_groups(trained_home, tmp_path):
    measure.derive(trained_home, tmp_path, lambda name, label, sources: label != "Greek")
    for split in ("train", "val", "test"):
        union, derived = measure.read(trained_home, split), measure.read(tmp_path, split)
        assert derived == union.where(lambda n, lb, s: lb != "Greek") and derived.names
    manifest = json.loads((tmp_path / "prepared" / "manifest.json").read_text(encoding="utf-8"))
    assert "Greek" not in manifest["labels"] and "Greek" not in manifest["counts"]["train"]
    assert manifest["totals"]["test"] == len(measure.read(tmp_path, "test").names)


def test_tag_table_tags_the_surname_column(trained_home, tmp_path):
    source, output = tmp_path / "in.csv", tmp_path / "out.csv"
    source.write_text("id,surname\n1,Ivanov\n2,Tanaka\n3,\n", encoding="utf-8")
    model = stored(trained_home, "n", "ngram").path
    measure.tag_table(source, output, str(model), cache_size=0)
    lines = output.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 4 and lines[0].startswith("id,surname,") and lines[1].startswith("1,Ivanov,")
