"""The lexicon of training names: known names answer from their label counts, new names from the network.

Also what it makes honest: evaluate's seen/unseen split and overlap line, and train's closing comparison.
"""

from __future__ import annotations

import gzip
import json
import shutil

import numpy as np
import pandas as pd
import pytest
from conftest import TINY_MODEL

from namelang import Classifier
from namelang.data.split import read_split
from namelang.errors import NamelangError
from namelang.models.lexicon import BETA_GRID, Lexicon, choose_beta, smoothed


@pytest.fixture(scope="module")
def names(tiny_trained):
    """(a train name, a val name) of the tiny split; the val name is never a train name."""
    train = read_split(tiny_trained, "train")[0]
    val = read_split(tiny_trained, "val")[0]
    assert not set(train) & set(val)
    return train[0], val[0]


def strip_lexicon(folder):
    """The model folder as models trained before lexicons were: no file, no `lexicon` in the card."""
    card = json.loads((folder / "model.json").read_text(encoding="utf-8"))
    card.pop("lexicon")
    (folder / "model.json").write_text(json.dumps(card), encoding="utf-8")
    (folder / "lexicon.json.gz").unlink()


def test_a_training_name_answers_from_the_lexicon_a_new_one_from_the_network(tiny_trained, names):
    seen, unseen = names
    clf = Classifier.load("tiny", home=tiny_trained)
    network = Classifier.load("tiny", home=tiny_trained, lexicon=False)
    beta = clf.card.lexicon["beta"]
    label = dict(zip(*read_split(tiny_trained, "train")[:2]))[seen]
    counts = np.eye(len(clf.labels))[[clf.labels.index(label)]]
    want = smoothed(counts, network.predict_proba([seen]), beta)
    np.testing.assert_allclose(clf.predict_proba([seen]), want, rtol=1e-6)
    assert clf.predict([seen], top_k=1)[0][0][0] == label  # one source's label outweighs beta <= 1.5
    np.testing.assert_array_equal(clf.predict_proba([unseen]), network.predict_proba([unseen]))
    assert clf.known([seen, unseen, ""]).tolist() == [True, False, False]
    assert clf.script_paths([seen, unseen, "スズキ"]) == ["lexicon", "model", "rule: Kana -> Japanese"]
    assert network.script_paths([seen]) == ["model"]


def test_explain_says_which_names_the_lexicon_answered(tiny_trained, names, invoke):
    result = invoke("predict", *names, "--explain", "-f", "csv", "--home", tiny_trained)
    assert result.exit_code == 0, result.output
    assert pd.read_csv(pd.io.common.StringIO(result.stdout))["script_path"].tolist() == ["lexicon", "model"]


def test_beta_is_chosen_on_validation_and_stored_in_the_card(tiny_trained):
    card = Classifier.load("tiny", home=tiny_trained).card
    note = card.lexicon
    assert note["split"] == "val" and note["names"] == len(set(read_split(tiny_trained, "train")[0]))
    assert note["beta"] in BETA_GRID
    tried = {float(k): v for k, v in note["accuracy"].items() if k != "network"}
    assert set(tried) == set(BETA_GRID)
    best = max(tried.values())
    assert tried[note["beta"]] == best and all(v < best for b, v in tried.items() if b > note["beta"])


def test_choose_beta_takes_the_best_accuracy_and_the_larger_beta_on_a_tie():
    counts = np.array([[1, 0], [0, 1], [2, 1]])
    probs = np.array([[0.2, 0.8], [0.3, 0.7], [0.1, 0.9]])
    y = np.array([0, 1, 0])
    beta, accuracy = choose_beta(counts, probs, y, grid=(0.5, 1.0, 1.5, 4.0))
    # Row 2 flips to the network's label once beta * (0.9 - 0.1) > 2 - 1; row 0 once beta * (0.8 - 0.2) > 1.
    assert accuracy == {"network": 1 / 3, "0.5": 1.0, "1": 1.0, "1.5": 2 / 3, "4": 1 / 3}
    assert beta == 1.0


def test_the_file_keeps_counts_of_several_sources_and_labels():
    lexicon = Lexicon.from_rows(
        ["Abe", "Abe", "Lee", "Kim"], ["Japanese", "Chinese", "Chinese", "Korean"],
        ["a;b", "b", "a", ""], ["Chinese", "Japanese", "Korean"],
    )  # fmt: skip
    blob = lexicon.to_bytes()
    assert blob == lexicon.to_bytes()  # no timestamp: the same lexicon, the same bytes
    back = Lexicon.from_bytes(blob)
    assert back.names == ["Abe", "Kim", "Lee"]
    assert back.counts([0, 1, 2]).tolist() == [[1, 2, 0], [0, 0, 1], [1, 0, 0]]
    assert back.rows(["Lee", "Nobody"]).tolist() == [2, -1]
    with pytest.raises(NamelangError, match="not a readable lexicon"):
        Lexicon.from_bytes(gzip.compress(b'{"labels": []}'))


def test_the_lexicon_is_checked_like_the_weights(tiny_trained, tmp_path):
    folder = tmp_path / "m"
    shutil.copytree(tiny_trained / "models" / "tiny", folder)
    (folder / "lexicon.json.gz").write_bytes(Lexicon(["Arabic"], ["X"], ["0"]).to_bytes())
    with pytest.raises(NamelangError, match="checksum"):
        Classifier.load(folder)
    (folder / "lexicon.json.gz").unlink()  # the card names a lexicon the folder lacks
    with pytest.raises(NamelangError, match="cannot read"):
        Classifier.load(folder)


def test_a_model_without_a_lexicon_loads_and_answers_from_the_network(tiny_trained, names, tmp_path, invoke):
    folder = tmp_path / "old"
    shutil.copytree(tiny_trained / "models" / "tiny", folder)
    strip_lexicon(folder)
    old = Classifier.load(folder)
    network = Classifier.load("tiny", home=tiny_trained, lexicon=False)
    assert old.lexicon is None and old.known(list(names)) is None
    np.testing.assert_array_equal(old.predict_proba(list(names)), network.predict_proba(list(names)))
    assert old.script_paths(list(names)) == ["model", "model"]
    result = invoke("evaluate", "-m", folder, "--split", "val", "--home", tiny_trained)
    assert result.exit_code == 0, result.output
    assert "cannot be checked" in result.stderr
    report = json.loads(result.stdout)
    assert report["overlap"] == {"checked": False, "trained_on": None, "share": None}
    assert report["seen"] is None and report["unseen"] is None


def test_attach_lexicon_rebuilds_it_for_an_existing_model(tiny_trained, tmp_path):
    from namelang.training import attach_lexicon

    home = tmp_path / "home"
    shutil.copytree(tiny_trained, home)
    folder = home / "models" / "tiny"
    original = (folder / "lexicon.json.gz").read_bytes()
    strip_lexicon(folder)
    attach_lexicon("tiny", home)
    clf = Classifier.load("tiny", home=home)
    assert (folder / "lexicon.json.gz").read_bytes() == original
    assert clf.card.lexicon["beta"] in BETA_GRID and len(clf.lexicon) == clf.card.lexicon["names"]


def test_the_server_answers_training_names_from_the_lexicon(tiny_trained, names):
    import warnings

    with warnings.catch_warnings():  # starlette deprecates its TestClient on httpx; it still works
        warnings.simplefilter("ignore")
        from fastapi.testclient import TestClient

    from namelang.server import Settings, create_app

    # The app loads the model itself, as `namelang serve -m tiny` does; its name cache is on.
    with TestClient(create_app(Settings(model="tiny", home=str(tiny_trained)))) as client:
        got = [client.post("/v1/predict", json={"names": list(names), "top_k": 1, "explain": True}).json()
               for _ in range(2)]  # fmt: skip
    assert got[0] == got[1] and [r["script_path"] for r in got[0]] == ["lexicon", "model"]
    want = Classifier.load("tiny", home=tiny_trained).predict(list(names), top_k=1)
    assert [r["predictions"][0]["probability"] for r in got[0]] == pytest.approx(
        [w[0][1] for w in want], abs=1e-6
    )
    network = Classifier.load("tiny", home=tiny_trained, lexicon=False).predict([names[0]], top_k=1)
    assert got[0][0]["predictions"][0]["probability"] != pytest.approx(network[0][0][1], abs=1e-3)


def test_evaluate_reports_seen_and_unseen_names_apart(tiny_trained, names, tmp_path, invoke):
    train = pd.read_csv(tiny_trained / "prepared" / "train.csv", dtype=str).head(10)
    val = pd.read_csv(tiny_trained / "prepared" / "val.csv", dtype=str).head(30)
    mixed = tmp_path / "mixed.csv"
    pd.concat([train, val]).to_csv(mixed, index=False)
    result = invoke("evaluate", "--split", mixed, "--home", tiny_trained)
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["overlap"] == {"checked": True, "trained_on": 10, "share": 0.25}
    assert report["seen"]["n"] == 10 and report["unseen"]["n"] == 30
    network = Classifier.load("tiny", home=tiny_trained, lexicon=False)
    predicted = np.array(network.labels)[network.predict_proba(val["name"].tolist()).argmax(axis=1)]
    assert report["unseen"]["accuracy"] == pytest.approx(np.mean(predicted == val["label"].to_numpy()))
    warning = [line for line in result.stderr.splitlines() if "trained on" in line]
    assert len(warning) == 1 and "10 of these 40 names (25.0%)" in warning[0]
    table = invoke("evaluate", "--split", mixed, "--home", tiny_trained, "-f", "table")
    assert "seen names" in table.stdout and "unseen names" in table.stdout


def test_evaluate_on_names_the_model_never_saw_says_nothing_of_overlap(tiny_trained, invoke):
    result = invoke("evaluate", "--split", "test", "--home", tiny_trained)
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["overlap"]["trained_on"] == 0 and report["seen"] is None
    assert report["unseen"]["accuracy"] == report["accuracy"]
    assert "trained on" not in result.stderr and "cannot be checked" not in result.stderr


def test_train_ends_comparing_with_the_default_it_replaces(tiny_trained, tmp_path, invoke):
    home = tmp_path / "home"
    shutil.copytree(tiny_trained, home)
    result = invoke("train", "--name", "next", "--home", home, *TINY_MODEL)
    assert result.exit_code == 0, result.output
    lines = result.stderr.strip().splitlines()
    n_val = len(read_split(home, "val")[0])
    assert lines[-2].startswith(f"on {n_val:,} validation names neither model trained on: 'next' accuracy ")
    assert "'tiny'" in lines[-2] and "keeps no list" not in lines[-2]
    assert lines[-1] == "to go back to 'tiny' as the default: `namelang models default tiny`"
    back = invoke("models", "default", "tiny", "--home", home)
    assert back.exit_code == 0 and (home / "models" / ".default").read_text().strip() == "tiny"

    strip_lexicon(home / "models" / "tiny")  # an old default that keeps no list of its training names
    result = invoke("train", "--name", "third", "--home", home, *TINY_MODEL, "--no-default")
    assert result.exit_code == 0, result.output
    lines = result.stderr.strip().splitlines()
    assert "'tiny' keeps no list of its training names, so some of these may be among them" in lines[-2]
    assert lines[-1] == "'tiny' stays the default; `namelang models default third` makes the new one it"


def test_compare_with_leaves_out_the_names_the_old_model_trained_on(tiny_trained, tmp_path):
    from namelang.training import compare_with

    home = tmp_path / "home"
    shutil.copytree(tiny_trained, home)
    # As if the old model had trained on the first 5 val names: add them to its lexicon.
    folder = home / "models" / "tiny"
    val_names, val_labels, _ = read_split(home, "val")
    train = read_split(home, "train")
    clf = Classifier.load("tiny", home=home)
    lexicon = Lexicon.from_rows(train[0] + val_names[:5], train[1] + val_labels[:5],
                                [""] * (len(train[0]) + 5), clf.labels)  # fmt: skip
    from namelang.models.store import ModelStore

    ModelStore(home).load("tiny").attach_lexicon(lexicon.to_bytes(), clf.card.lexicon)
    shutil.copytree(folder, home / "models" / "twin")
    comparison = compare_with(home, "twin", "tiny")
    assert comparison.names == len(val_names) - 5 and comparison.left_out == 5
    assert comparison.old_has_lexicon and comparison.new_accuracy == comparison.old_accuracy
    assert compare_with(home, "tiny", "tiny") is None


def test_models_says_which_split_each_val_figure_is_on(tiny_trained, invoke):
    result = invoke("models", "--format", "json", "--home", tiny_trained)
    assert result.exit_code == 0, result.output
    rows = {r["name"]: r for r in json.loads(result.stdout)}
    assert rows["tiny"]["val_on"] == "this split" and rows["tiny"]["trained_names"] > 0
    assert rows["pretrained"]["val_on"] == "another split"
    table = invoke("models", "--format", "table", "--home", tiny_trained)
    assert "0.5" in table.stdout and "†" in table.stdout  # the pretrained model's figures, marked
    assert "† on another split than this workspace's: pretrained (" in table.stderr


def test_beta_is_chosen_leaving_one_source_out_where_two_sources_hold_a_name(monkeypatch):
    """A name two lists hold: each list in turn is the truth and the other's label the entry. Where the
    lists disagree and the network knows better, a single count must not outvote it: beta grows."""
    from namelang.models import lexicon

    monkeypatch.setattr(lexicon, "MIN_HELD_OUT", 4)
    labels = ["Japanese", "Russian"]
    # Two names, each held by a list that says Japanese and a weak one that says Russian.
    names = ["Satoshi", "Satoshi", "Takeshi", "Takeshi"]
    rows = ["Japanese", "Russian", "Japanese", "Russian"]
    sources = ["mimesis", "wikipedia", "mimesis", "wikipedia"]
    counts, at, y, protocol = lexicon.held_out_entries(names, rows, sources, labels)
    assert protocol == "leave one source out"
    assert len(y) == 4  # each (name, source) once
    for entry, truth in zip(counts, y):
        assert entry.sum() == 1 and entry[truth] == 0  # the entry is the *other* list's label
    network = np.array([[0.9, 0.1]] * 4)[at]  # the network says Japanese
    beta, accuracy = lexicon.choose_beta(counts, network, y)
    assert accuracy["0.1"] == 0.0 and beta > 1  # small beta follows the other list: always wrong
    # With one source per name there is nothing to leave out: each name's own counts are its entry.
    counts, at, y, protocol = lexicon.held_out_entries(names[:1] + names[2:3], rows[:1] + rows[2:3],
                                                       sources[:1] + sources[2:3], labels)  # fmt: skip
    assert protocol == "own counts" and counts.tolist() == [[1, 0], [1, 0]]


def test_a_name_in_capitals_or_small_letters_is_found_case_folded(tiny_trained):
    clf = Classifier.load("tiny", home=tiny_trained)
    known = next(n for n in read_split(tiny_trained, "train")[0] if n.lower() != n.upper())
    variants = [known, known.upper(), known.lower()]
    assert clf.known(variants).tolist() == [True, True, True]
    probs = clf.predict_proba(variants)
    clf.use_lexicon = False
    network = clf.predict_proba(variants)
    clf.use_lexicon = True
    counts = clf.lexicon.counts(clf.lexicon.rows([known]))[0]  # the same counts, whatever the case
    beta = float(clf.card.lexicon["beta"])
    assert np.allclose(probs, (counts + beta * network) / (counts.sum() + beta), atol=1e-6)
    assert clf.script_paths(variants) == ["lexicon"] * 3
    mixed = known[0].lower() + known[1:].upper()  # neither all capitals nor all small letters
    assert clf.known([mixed]).tolist() == [mixed == known]


def test_blank_validation_names_take_no_other_names_counts():
    from namelang.models.lexicon import held_out_entries

    counts, rows, y, protocol = held_out_entries(["", "Ab"], ["x", "y"], ["s", "s"], ["x", "y"])
    assert protocol == "own counts" and rows.tolist() == [1] and counts.tolist() == [[0, 1]]


def test_models_marks_nothing_in_a_workspace_without_a_split(tmp_path, invoke):
    """No prepared split: no figure can be said to be on "another" one."""
    result = invoke("models", "--format", "json", "--home", tmp_path / "empty")
    assert result.exit_code == 0, result.output
    assert [r["val_on"] for r in json.loads(result.stdout)] == [None]  # the pretrained model alone
    table = invoke("models", "--format", "table", "--home", tmp_path / "empty")
    assert table.exit_code == 0 and "†" not in table.stdout + table.stderr


def test_compare_with_a_lexicon_that_fails_to_read_is_no_comparison(tiny_trained, monkeypatch):
    """The new model is saved before the comparison: a lexicon that fails on reading (a damaged old
    model) must not turn a finished `train` into an error."""
    from namelang.errors import NamelangError
    from namelang.training import compare_with

    def unreadable(self, names):
        raise NamelangError("the lexicon has a bad count")

    monkeypatch.setattr(Classifier, "known", unreadable)
    assert compare_with(tiny_trained, "tiny", "pretrained", device="cpu") is None


def test_an_interrupted_attach_lexicon_leaves_the_folder_as_it_was(tiny_trained, tmp_path, monkeypatch):
    import shutil

    from namelang.models import store as stores

    home = tmp_path / "home"
    shutil.copytree(tiny_trained, home)
    folder = home / "models" / "tiny"
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    found = stores.ModelStore(home).load("tiny")

    def interrupted(path, text):
        raise KeyboardInterrupt

    monkeypatch.setattr(stores, "write_text", interrupted)
    with pytest.raises(KeyboardInterrupt):
        found.attach_lexicon(b"another lexicon", {"names": 1, "beta": 1.0})
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before
    assert Classifier.load("tiny", home=home).known(["Zzz"]) is not None  # it still loads, lexicon and all
