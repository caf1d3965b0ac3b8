"""The store's rules, through the CLI: names, --force, --resume, Ctrl-C (a real SIGINT), rm, the card."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import TINY_MODEL, assert_user_error, sigint_as_a_terminal_sends_it

from namelang.errors import NamelangError
from namelang.models.card import FORMAT, ModelCard
from namelang.models.store import PRETRAINED_DIR, ModelStore, read_card

ROOT = Path(__file__).resolve().parents[1]
ONE_EPOCH = ("--hidden", "8", "--embedding-dim", "4", "--epochs", "1", "--batch-size", "32")


def files(folder: Path) -> dict[str, bytes]:
    """Every file under `folder`, by relative path: compared byte for byte."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture
def trained_home(tiny_trained, tmp_path) -> Path:
    """A copy of the workspace holding the tiny split and the model `tiny` (the default)."""
    home = tmp_path / "home"
    shutil.copytree(tiny_trained, home)
    return home


# --- the card -------------------------------------------------------------------------------------


def test_card_reads_a_format_1_card_and_round_trips():
    raw = json.loads((PRETRAINED_DIR / "model.json").read_text())
    raw.pop("format", None)  # the shipped card without its version: how 0.1.0 wrote it
    card = ModelCard.from_dict(raw)
    assert card.format == FORMAT  # no version: format 1, migrated on reading
    assert (
        card.arch == raw["arch"] and card.labels == raw["labels"] and card.arch_options == raw["arch_options"]
    )
    assert card.best.val_accuracy == raw["best"]["val_accuracy"]
    assert card.data.train_label_counts == raw["data"]["train_label_counts"]
    again = ModelCard.from_json(card.to_json())
    assert again == card and json.loads(again.to_json()) == {**raw, "format": FORMAT}


def test_source_priors_round_trip_and_a_card_without_them_has_none():
    base = {"arch": "ngram", "labels": ["a", "b"], "format": FORMAT, "label_prior": [1]}
    assert ModelCard.from_dict(base).source_priors is None  # written before namelang stored them
    shares = {"archive": {"a": 0.75, "b": 0.25}, "mimesis": {"a": 0.5, "b": 0.5}}
    card = ModelCard.from_dict({**base, "source_priors": shares})
    assert card.source_priors == shares and card.extras == {"label_prior": [1]}
    assert json.loads(card.to_json())["source_priors"] == shares
    shipped = ModelCard.from_json((PRETRAINED_DIR / "model.json").read_text())
    assert {"archive", "mimesis", "wikipedia", "zxcvbn-pl"} <= set(shipped.source_priors)
    assert all(sum(s.values()) == pytest.approx(1) for s in shipped.source_priors.values())


def test_card_keeps_unknown_fields_and_refuses_bad_ones():
    base = {"arch": "ngram", "labels": ["a", "b"], "format": FORMAT}
    card = ModelCard.from_dict({**base, "label_prior": [0.5, 0.5], "data": {"sources": ["archive"]}})
    assert card.extras == {"label_prior": [0.5, 0.5]} and card.data.extras == {"sources": ["archive"]}
    written = json.loads(card.to_json())
    assert written["label_prior"] == [0.5, 0.5] and written["data"]["sources"] == ["archive"]
    # 0.1.0 stored every option for every architecture; format 1 drops those rnn-classic does not use.
    old = {"arch": "rnn-classic", "labels": ["a"], "arch_options": {"hidden": 8, "dropout": 0.0, "layers": 1}}
    assert ModelCard.from_dict(old).arch_options == {"hidden": 8}
    for bad, words in [
        ({**base, "format": FORMAT + 1}, "upgrade namelang"),
        ({**base, "labels": []}, "labels"),
        ({**base, "temperature": -1}, "temperature"),
        ({**base, "best": "high"}, "bad field"),
        ({**base, "source_priors": ["archive"]}, "source_priors"),
        ({**base, "source_priors": {"archive": 0.5}}, "source_priors"),
    ]:
        with pytest.raises(NamelangError, match=words):
            ModelCard.from_dict(bad, "x/model.json")


# --- names and --force ----------------------------------------------------------------------------


def test_existing_name_is_refused_and_force_replaces_only_a_finished_run(tiny_home, invoke, monkeypatch):
    import namelang.training.loop as training

    assert invoke("train", "--name", "m", "--home", tiny_home, *ONE_EPOCH, "-q").exit_code == 0
    folder = tiny_home / "models" / "m"
    before = files(folder)

    refused = invoke("train", "--name", "m", "--home", tiny_home, *ONE_EPOCH)
    assert_user_error(refused, "'m' exists already", "--resume m", "--force", alone=True)
    assert files(folder) == before

    # While a forced run trains, the old model stays intact and loadable; Ctrl-C keeps it as it was.
    real, calls = training.evaluate_split, []

    def check_old_then_validate(*args, **kwargs):
        calls.append(1)
        assert files(folder) == before
        assert ModelStore(tiny_home).load("m").numpy_engine() is not None
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(training, "evaluate_split", check_old_then_validate)
    cut = invoke(
        "train", "--name", "m", "--force", "--seed", "5", "--home", tiny_home, *ONE_EPOCH, "--epochs", "3"
    )
    assert cut.exit_code == 130 and "'m' was left as it was" in cut.stderr
    assert files(folder) == before and len(calls) == 2

    monkeypatch.setattr(training, "evaluate_split", real)
    forced = invoke("train", "--name", "m", "--force", "--seed", "5", "--home", tiny_home, *ONE_EPOCH)
    assert forced.exit_code == 0, forced.output
    after = files(folder)
    assert after["weights.safetensors"] != before["weights.safetensors"]
    assert read_card(folder).training["seed"] == 5 and ModelStore(tiny_home).default() == "m"


# --- --resume -------------------------------------------------------------------------------------


def test_resume_refuses_each_differing_option(tiny_home, invoke):
    assert invoke("train", "--name", "r", "--home", tiny_home, *TINY_MODEL, "-q").exit_code == 0
    before = files(tiny_home / "models")
    result = invoke(
        "train", "--resume", "r", "--arch", "LSTM", "--lr", "0.1", "--hidden", "16", "--name", "x", "--force",
        "--epochs", "3", "--home", tiny_home,
    )  # fmt: skip
    line = assert_user_error(result, "--arch lstm (stored: gru)", "--lr 0.1 (stored: 0.008)", alone=True)
    assert "--name x (stored: r)" in line and "--force (not with --resume)" in line
    assert "--hidden" not in line  # the same as stored: no conflict
    assert files(tiny_home / "models") == before
    resumed = invoke("train", "--resume", "r", "--epochs", "3", "--patience", "4", "--home", tiny_home, "-q")
    assert resumed.exit_code == 0, resumed.output
    card = read_card(tiny_home / "models" / "r")
    assert [h["epoch"] for h in card.history] == [1, 2, 3] and card.training["patience"] == 4
    assert card.arch_options["hidden"] == 16 and card.training["epochs"] == 3


# --- Ctrl-C: a real SIGINT to a real `namelang train` ----------------------------------------------

# Many epochs, so that a run is still going when the signal lands; batch size 1 makes epoch 1 long.
SLOW = ("--hidden", "32", "--embedding-dim", "8", "--epochs", "40")


def _namelang(*args: str, **popen) -> subprocess.Popen:
    """A real `namelang` process running this checkout."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    env.pop("NAMELANG_HOME", None)
    return subprocess.Popen([sys.executable, "-m", "namelang", *args], env=env, cwd=ROOT, text=True,
                            preexec_fn=sigint_as_a_terminal_sends_it, **popen)  # fmt: skip


def _sigint_after(home: Path, first_words: str, *args: str) -> tuple[int, str]:
    """Start `namelang train`, send SIGINT once a stderr line starts with `first_words`; (code, stderr)."""
    proc = _namelang(
        "train", "--home", str(home), *SLOW, *args, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    seen = []
    for line in proc.stderr:
        seen.append(line)
        if line.startswith(first_words):
            proc.send_signal(signal.SIGINT)
            break
    _, rest = proc.communicate(timeout=120)
    return proc.returncode, "".join(seen) + rest


def test_sigint_before_the_first_epoch_saves_nothing(trained_home):
    before = files(trained_home / "models")
    code, stderr = _sigint_after(
        trained_home, "training on cpu: epochs 1 to", "--name", "cut", "--batch-size", "1"
    )  # in epoch 1
    assert code == 130, stderr
    assert "epoch   1" not in stderr and "nothing was saved" in stderr and "Traceback" not in stderr
    assert files(trained_home / "models") == before  # the store is untouched, byte for byte


def test_sigint_after_an_epoch_keeps_it_as_interrupted_not_default(trained_home, invoke):
    tiny = files(trained_home / "models" / "tiny")
    code, stderr = _sigint_after(trained_home, "epoch   1", "--name", "part", "--batch-size", "4")
    assert code == 130, stderr
    assert "--resume part" in stderr and "not made the default" in stderr and "Traceback" not in stderr
    card = read_card(trained_home / "models" / "part")
    assert card.interrupted and card.epochs_run == len(card.history) >= 1
    assert files(trained_home / "models" / "tiny") == tiny and ModelStore(trained_home).default() == "tiny"

    listed = {
        r["name"]: r for r in json.loads(invoke("models", "--home", trained_home, "--format", "json").stdout)
    }
    assert listed["part"]["interrupted"] and not listed["part"]["default"] and listed["tiny"]["default"]
    assert "(interrupted)" in invoke("models", "--home", trained_home, "--format", "table").stdout
    assert json.loads(invoke("models", "show", "part", "--home", trained_home).stdout)["interrupted"] is True

    more = str(card.epochs_run + 1)
    resumed = invoke("train", "--resume", "part", "--epochs", more, "--home", trained_home, "-q")
    assert resumed.exit_code == 0, resumed.output
    card = read_card(trained_home / "models" / "part")
    assert (
        not card.interrupted and card.epochs_run == int(more) and ModelStore(trained_home).default() == "part"
    )


# --- models rm, default, and the group's options ---------------------------------------------------


def test_rm_asks_on_a_terminal_and_removing_the_default_clears_it(trained_home, invoke, monkeypatch):
    import pty

    import namelang.cli.models as models_cli

    folder = trained_home / "models" / "tiny"
    no_tty = invoke("models", "rm", "tiny", "--home", trained_home)
    assert_user_error(no_tty, "--yes")
    assert folder.is_dir() and ModelStore(trained_home).default() == "tiny"

    monkeypatch.setattr(models_cli, "_stdin_is_terminal", lambda: True)
    declined = invoke("models", "rm", "tiny", "--home", trained_home, input="n\n")
    assert declined.exit_code == 1 and "(the default model)" in declined.stderr and folder.is_dir()

    # A real terminal: the question goes to stderr, the answer comes from the terminal.
    controller, terminal = pty.openpty()
    proc = _namelang(
        "models", "rm", "tiny", "--home", str(trained_home), stdin=terminal, stderr=subprocess.PIPE
    )
    os.close(terminal)
    asked = proc.stderr.read(len("remove 'tiny'"))
    os.write(controller, b"y\n")
    _, said = proc.communicate(timeout=60)
    os.close(controller)
    assert proc.returncode == 0 and asked == "remove 'tiny'", asked + said
    assert "pretrained model serves again" in said and not folder.exists()
    store = ModelStore(trained_home)
    assert store.default() is None and store.load().is_pretrained


def test_models_group_options_work_before_or_after_the_subcommand(trained_home, invoke, tmp_path):
    home = str(trained_home)
    assert json.loads(invoke("models", "--home", home, "show", "tiny").stdout)["name"] == "tiny"
    assert json.loads(invoke("models", "show", "tiny", "--home", home).stdout)["default"] is True
    assert invoke("models", "--home", home, "default", "pretrained").exit_code == 0
    assert ModelStore(trained_home).default() is None
    quiet = invoke("models", "-q", "--home", home, "rm", "tiny", "--yes")
    assert quiet.exit_code == 0 and quiet.stderr == "" and not (trained_home / "models" / "tiny").exists()
    elsewhere = invoke("models", "--home", str(tmp_path / "empty"), "show", "tiny")
    assert_user_error(elsewhere, "unknown model 'tiny'")


# --- the registry and the epoch line --------------------------------------------------------------


def test_arch_in_any_case_and_epoch_lines_fit_80_columns(tiny_home, invoke):
    result = invoke("train", "--arch", "GRU", "--name", "up", "--home", tiny_home, *TINY_MODEL)
    assert result.exit_code == 0, result.output
    assert read_card(tiny_home / "models" / "up").arch == "gru"
    # Off a terminal Rich renders at 80 columns: a longer epoch line would wrap onto a second line.
    lines = result.stderr.splitlines()
    epoch_lines = [line for line in lines if line.startswith("epoch")]
    assert len(epoch_lines) == 2 and all(len(line) <= 80 for line in epoch_lines)
    following = [lines[lines.index(line) + 1] for line in epoch_lines]
    assert all(line.startswith(("epoch", "saved")) for line in following)


def test_epoch_line_at_80_columns_with_long_values():
    import io

    from rich.console import Console

    from namelang.cli.train import epoch_line
    from namelang.training import EpochReport

    report = EpochReport(120, 2.34567, 1.98765, 0.83131, 0.70123, 1e-3, 345.67, improved=True)
    buffer = io.StringIO()
    Console(file=buffer, width=80).print(epoch_line(report), highlight=False, soft_wrap=False)
    assert buffer.getvalue().count("\n") == 1 and len(buffer.getvalue().rstrip("\n")) <= 80
    assert "2.346" in buffer.getvalue() and "345.7s" in buffer.getvalue()


def test_rnn_classic_refuses_options_it_does_not_use(tiny_home, invoke):
    result = invoke(
        "train", "--arch", "rnn-classic", "--embedding-dim", "8", "--dropout", "0.1", "--home", tiny_home
    )
    assert_user_error(result, "rnn-classic does not use --dropout, --embedding-dim")
    assert not (tiny_home / "models").exists()


# --- ensembles and a model as data -----------------------------------------------------------------


def test_the_store_saves_an_ensemble_and_its_members_load_in_the_cards_order(trained_home, tmp_path):
    from namelang import Classifier
    from namelang.models.store import unpack

    store = ModelStore(trained_home)
    shutil.copytree(trained_home / "models" / "tiny", trained_home / "models" / "twin")
    found = [store.load("twin"), store.load("tiny")]
    card = ModelCard(
        arch="ensemble",
        labels=list(found[0].card.labels),
        alphabet=found[0].card.alphabet,
        members=[{"name": m.name, "arch": m.card.arch, "weight": w} for m, w in zip(found, (0.25, 0.75))],
    )
    stored = store.save_ensemble("pair", card, found)
    assert [m.name for m in stored.members()] == ["twin", "tiny"] and stored.card.name == "pair"
    assert [m["weight"] for m in read_card(stored.path).members] == [0.25, 0.75]
    store.remove("twin")  # the ensemble holds copies: it stays whole

    # Two copies of one model, weights summing to 1 at temperature 1: the model's own probabilities.
    names = ["Satoshi", "Ivanov", "", "Nguyen"]
    alone = Classifier.load("tiny", home=trained_home, lexicon=False).predict_proba(names)
    pair = Classifier.load("pair", home=trained_home, lexicon=False)
    assert np.allclose(pair.predict_proba(names), alone, atol=1e-9, equal_nan=True)
    assert pair.max_length == card.max_length and [m.name for m in pair.members] == ["twin", "tiny"]
    assert not any(m.use_lexicon for m in pair.members)  # lexicon=False reaches the members
    pair.threads = 2
    assert [m.threads for m in pair.members] == [2, 2]

    # As data (what a Dask worker is sent): every file scoring needs, none it does not.
    files = stored.files()
    single = ["model.json", "weights.safetensors"] + (["lexicon.json.gz"] if found[1].card.lexicon else [])
    assert sorted(files) == sorted(
        ["model.json"] + [f"members/{m}/{f}" for m in ("twin", "tiny") for f in single]
    )
    copy = unpack(files, tmp_path / "copy", "pair")
    again = Classifier.from_stored(copy, lexicon=False)
    assert np.allclose(again.predict_proba(names), alone, atol=1e-9, equal_nan=True)
    with pytest.raises(NamelangError, match="may not leave its folder"):
        unpack({"../escaped": b"x"}, tmp_path / "other", "x")


def test_write_card_replaces_the_card_alone(trained_home):
    found = ModelStore(trained_home).load("tiny")
    kept = {path.name: path.stat().st_ino for path in found.path.iterdir() if path.name != "model.json"}
    card = found.card
    card.prior = {"name": "changed"}
    found.write_card(card)
    card.prior = None  # the stored model keeps its own copy
    assert read_card(found.path).prior == found.card.prior == {"name": "changed"}
    assert {
        path.name: path.stat().st_ino for path in found.path.iterdir() if path.name != "model.json"
    } == kept


def test_the_pretrained_model_as_data_carries_only_what_scoring_reads(tmp_path):
    """Its package folder also holds MODEL_CARD.md, metrics.json and __init__.py (a fifth of the bytes):
    they are not sent to every Dask worker (on main they were)."""
    files = ModelStore(tmp_path).load("pretrained").files()
    assert sorted(files) == ["lexicon.json.gz", "model.json", "weights.safetensors"]
    assert all(files[name] == (PRETRAINED_DIR / name).read_bytes() for name in files)


def test_an_ensemble_card_must_keep_its_members_inside_and_agree_with_them(trained_home, tmp_path):
    from namelang import Classifier

    store = ModelStore(trained_home)
    found = [store.load("tiny")]
    card = ModelCard(arch="ensemble", labels=list(found[0].card.labels), alphabet=found[0].card.alphabet,
                     members=[{"name": "tiny", "arch": "gru", "weight": 1.0}])  # fmt: skip
    stored = store.save_ensemble("solo", card, found)
    path = stored.path / "model.json"
    written = json.loads(path.read_text())
    for members, words in [
        ([{**written["members"][0], "folder": "../tiny"}], "not a model folder inside it"),
        ([{**written["members"][0], "weight": -1}], "members must be"),
        ([], "members must be"),
    ]:
        path.write_text(json.dumps({**written, "members": members}))
        with pytest.raises(NamelangError, match=words):
            Classifier.load("solo", home=trained_home)
    path.write_text(json.dumps({**written, "labels": written["labels"][::-1]}))
    with pytest.raises(NamelangError, match="does not predict the ensemble's labels"):
        Classifier.load("solo", home=trained_home)
    with pytest.raises(ValueError):  # a card that does not list each member once is a bug
        store.save_ensemble("bad", card, found * 2)
