"""The registry, the device selector, `namelang train`, the trainer and the model store."""

from __future__ import annotations

import csv
import json
import os
import re
import stat

import numpy as np
import pytest
import torch
from conftest import TINY_MODEL

from namelang.data.alphabet import PAD, UNKNOWN, Alphabet
from namelang.device import resolve_device
from namelang.errors import NamelangError
from namelang.models.registry import ARCHITECTURES, spec_from
from namelang.models.store import ModelStore, read_card


def test_registry_lists_every_architecture_in_help(invoke):
    assert {"rnn-classic", "rnn", "lstm", "gru"} <= set(ARCHITECTURES)
    result = invoke("train", "--help")
    assert result.exit_code == 0
    for arch in ARCHITECTURES:
        assert arch in result.stdout


@pytest.mark.parametrize("arch", sorted(a for a in ARCHITECTURES if a != "ngram"))
def test_every_architecture_masks_padding(arch):
    """A name's logits must not change when the batch around it has longer names (more padding)."""
    spec = spec_from(arch, hidden=8, embedding_dim=4) if arch != "rnn-classic" else spec_from(arch, hidden=8)
    torch.manual_seed(0)
    model = spec.build(10, 3).eval()
    alone = model(torch.tensor([[2, 3, 4]]), torch.tensor([3]))
    padded = model(torch.tensor([[2, 3, 4, 0, 0, 0], [5, 6, 7, 8, 9, 2]]), torch.tensor([3, 6]))
    assert torch.allclose(alone[0], padded[0], atol=1e-5)
    assert padded.shape == (2, 3)


def test_alphabet_encoding():
    alphabet = Alphabet.from_names(["ab", "ba", "c"])
    ids, lengths = alphabet.encode(["abc", "", "z" * 100, "a"], max_length=8)
    assert alphabet.chars == "abc" and alphabet.size == 5
    assert lengths.tolist() == [3, 0, 8, 1]
    assert ids[0, :3].tolist() == [2, 3, 4] and ids[1].tolist() == [PAD] * 8
    assert set(ids[2].tolist()) == {UNKNOWN}


def test_device_selector():
    assert resolve_device("cpu").type == "cpu"
    assert resolve_device("auto").type in {"cpu", "cuda", "mps"}
    with pytest.raises(NamelangError, match="unknown device"):
        resolve_device("tpu")
    if not torch.cuda.is_available():
        with pytest.raises(NamelangError, match="no CUDA device"):
            resolve_device("cuda:0")


def test_absent_device_is_one_line(tiny_home, invoke):
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    result = invoke("train", "--device", "cuda", "--home", tiny_home, *TINY_MODEL)
    assert result.exit_code == 1 and result.stderr.startswith("error:") and "CUDA" in result.stderr
    assert "Traceback" not in result.output


@pytest.mark.parametrize("arch", sorted(a for a in ARCHITECTURES if a != "ngram"))
def test_every_architecture_trains_and_is_stored(arch, tiny_home, invoke):
    extra = () if arch == "rnn-classic" else ("--layers", "2", "--bidirectional", "--dropout", "0.1")
    args = ["train", "--arch", arch, "--name", f"m-{arch}", "--home", tiny_home, *TINY_MODEL, *extra]
    if arch == "rnn-classic":
        args = [a for a in args if a not in ("--embedding-dim", "8")]
    result = invoke(*args)
    assert result.exit_code == 0, result.output
    folder = tiny_home / "models" / f"m-{arch}"
    meta = json.loads((folder / "model.json").read_text())
    assert meta["arch"] == arch and len(meta["history"]) == 2
    assert meta["labels"] == ["Arabic", "Chinese", "Greek", "Japanese", "Russian"]
    assert meta["parameters"] > 0 and meta["best"]["epoch"] in (1, 2)
    assert (folder / "weights.safetensors").stat().st_size > 0
    umask = os.umask(0)
    os.umask(umask)
    # Written through temporary files, but with the user's usual permissions, not mkstemp's 0600.
    for name in ("model.json", "weights.safetensors", "history.csv"):
        assert stat.S_IMODE((folder / name).stat().st_mode) == 0o666 & ~umask, name
    assert stat.S_IMODE(folder.stat().st_mode) == 0o777 & ~umask
    assert (folder / "loss.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with open(folder / "history.csv") as handle:
        assert [int(r["epoch"]) for r in csv.DictReader(handle)] == [1, 2]
    assert "epoch   1" in result.stderr and "training on cpu: epochs 1 to 2" in result.stderr
    assert ModelStore(tiny_home).default() == f"m-{arch}"
    loaded = ModelStore(tiny_home).load(f"m-{arch}").torch_module()
    assert sum(p.numel() for p in loaded.parameters()) == meta["parameters"]


def test_training_learns_the_tiny_set(tiny_home, invoke):
    result = invoke("train", "--name", "learn", "--home", tiny_home, "--epochs", "15", "--hidden", "32", "-q")
    assert result.exit_code == 0, result.output
    assert result.stderr == ""  # --quiet
    best = json.loads((tiny_home / "models" / "learn" / "model.json").read_text())["best"]
    # Five languages of very different spelling: far above the 20% of guessing.
    assert best["val_accuracy"] > 0.6


def test_same_seed_same_weights(tiny_home, invoke):
    for name in ("a", "b"):
        assert invoke("train", "--name", name, "--seed", "7", "--home", tiny_home, *TINY_MODEL).exit_code == 0
    invoke("train", "--name", "c", "--seed", "8", "--home", tiny_home, *TINY_MODEL)
    from safetensors.torch import load_file

    weights = {n: load_file(tiny_home / "models" / n / "weights.safetensors") for n in "abc"}
    assert all(torch.equal(weights["a"][k], weights["b"][k]) for k in weights["a"])
    assert not all(torch.equal(weights["a"][k], weights["c"][k]) for k in weights["a"])
    meta = {n: json.loads((tiny_home / "models" / n / "model.json").read_text()) for n in "ab"}
    strip = [{k: v for k, v in h.items() if k != "seconds"} for h in meta["a"]["history"]]
    assert strip == [{k: v for k, v in h.items() if k != "seconds"} for h in meta["b"]["history"]]


def test_resume_continues_a_run(tiny_home, invoke):
    assert invoke("train", "--name", "r", "--home", tiny_home, *TINY_MODEL).exit_code == 0
    result = invoke("train", "--resume", "r", "--epochs", "4", "--home", tiny_home)
    assert result.exit_code == 0, result.output
    meta = json.loads((tiny_home / "models" / "r" / "model.json").read_text())
    assert [h["epoch"] for h in meta["history"]] == [1, 2, 3, 4]
    assert meta["arch_options"]["hidden"] == 16  # the stopped run's options, not the defaults
    again = invoke("train", "--resume", "r", "--epochs", "4", "--home", tiny_home)
    assert again.exit_code == 1 and "larger --epochs" in again.stderr


def test_ctrl_c_keeps_the_best_model(tiny_home, monkeypatch, invoke):
    import namelang.training.loop as training

    calls = {"n": 0}
    real = training.evaluate_split

    def interrupt_on_third(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(training, "evaluate_split", interrupt_on_third)
    result = invoke("train", "--name", "cc", "--home", tiny_home, *TINY_MODEL, "--epochs", "5")
    assert result.exit_code == 130, result.output
    assert "interrupted" in result.stderr and "--resume cc" in result.stderr
    meta = json.loads((tiny_home / "models" / "cc" / "model.json").read_text())
    assert meta["interrupted"] is True and len(meta["history"]) == 2
    assert ModelStore(tiny_home).default() is None  # an interrupted run never becomes the default


def test_early_stopping(tiny_home):
    from namelang.config import TrainConfig
    from namelang.training import start_run

    spec = spec_from("gru", hidden=8, embedding_dim=4)
    # lr 0 never improves after the first epoch, so patience 2 stops after epoch 3.
    result = start_run(tiny_home, spec, TrainConfig(epochs=10, lr=0.0, patience=2), name="es")
    assert result.fit.stopped_early and len(result.fit.history) == 3


def test_select_picks_the_kept_epoch_and_counts_patience_by_that_score():
    from namelang.training import EarlyStopping, EpochReport

    # (val loss, accuracy, macro-F1) per epoch: each score peaks at a different epoch.
    scores = [(1.0, 0.70, 0.50), (0.8, 0.72, 0.40), (0.9, 0.75, 0.45), (0.95, 0.74, 0.42)]
    history = [EpochReport(e, 1.0, loss, acc, f1, 0.1, 1.0) for e, (loss, acc, f1) in enumerate(scores, 1)]
    for select, best, stale in (("macro-f1", 1, 3), ("accuracy", 3, 1), ("loss", 2, 2)):
        stopping = EarlyStopping(patience=2, select=select)
        improved = [stopping.update(r) for r in history]
        assert stopping.best_epoch == best and improved[best - 1] and not any(improved[best:])
        resumed = EarlyStopping.from_history(history, 2, select)
        assert (resumed.best_epoch, resumed.stale, resumed.exhausted) == (best, stale, stale >= 2)


def test_train_select_accuracy_keeps_the_most_accurate_epoch(tiny_home, invoke):
    result = invoke("train", "--name", "acc", *TINY_MODEL, "--select", "ACCURACY", "--epochs", "4",
                    "--patience", "4", "--home", tiny_home, "-q")  # fmt: skip
    assert result.exit_code == 0, result.output
    card = read_card(tiny_home / "models" / "acc")
    assert card.training["select"] == "accuracy"
    first_best = max(card.history, key=lambda h: h["val_accuracy"])
    assert card.best.epoch == first_best["epoch"] and card.best.val_accuracy == first_best["val_accuracy"]
    assert [h["epoch"] for h in card.history if h["improved"]][-1] == card.best.epoch
    refused = invoke("train", "--resume", "acc", "--select", "loss", "--epochs", "6", "--home", tiny_home)
    assert refused.exit_code == 1 and "--select loss (stored: accuracy)" in refused.output
    assert invoke("train", "--select", "f1", "--home", tiny_home).exit_code == 2


def test_a_card_from_before_select_resumes_as_macro_f1(tiny_home, invoke):
    assert invoke("train", "--name", "old", *TINY_MODEL, "--home", tiny_home, "-q").exit_code == 0
    path = tiny_home / "models" / "old" / "model.json"
    stored = json.loads(path.read_text())
    del stored["training"]["select"]
    path.write_text(json.dumps(stored))
    result = invoke(
        "train", "--resume", "old", "--select", "macro-f1", "--epochs", "3", "--home", tiny_home, "-q"
    )
    assert result.exit_code == 0, result.output
    assert read_card(path.parent).training["select"] == "macro-f1"


def test_balanced_loss_weights():
    from namelang.training import class_weights

    labels = np.array([0] * 90 + [1] * 10)
    weights = class_weights(labels, 3)
    assert weights[1] == pytest.approx(9 * weights[0]) and weights[2] == 0
    assert weights[labels].mean() == pytest.approx(1.0)


def test_models_list_show_default_rm(tiny_home, invoke):
    for name in ("one", "two"):
        assert invoke("train", "--name", name, "--home", tiny_home, *TINY_MODEL, "-q").exit_code == 0
    listed = json.loads(invoke("models", "--home", tiny_home, "--format", "json").stdout)
    names = [r["name"] for r in listed]
    assert {"one", "two"} <= set(names)
    assert [r["name"] for r in listed if r["default"]] == ["two"]
    table = invoke("models", "--home", tiny_home, "--format", "table")
    assert "one" in table.stdout and "val macro-F1" in table.stdout
    assert invoke("models", "default", "one", "--home", tiny_home).exit_code == 0
    assert ModelStore(tiny_home).default() == "one"
    shown = json.loads(invoke("models", "show", "one", "--home", tiny_home).stdout)
    assert shown["arch"] == "gru" and "history" not in shown
    assert invoke("models", "rm", "one", "--yes", "--home", tiny_home).exit_code == 0
    assert not (tiny_home / "models" / "one").exists() and ModelStore(tiny_home).default() is None
    missing = invoke("models", "rm", "one", "--yes", "--home", tiny_home)
    assert missing.exit_code == 1 and "no model named 'one'" in missing.stderr
    unknown = invoke("models", "show", "zzz", "--home", tiny_home)
    assert unknown.exit_code == 1 and "known models" in unknown.stderr


def test_loading_refuses_disagreeing_folder(tiny_home, invoke):
    assert invoke("train", "--name", "ok", "--home", tiny_home, *TINY_MODEL, "-q").exit_code == 0
    folder = tiny_home / "models" / "ok"
    meta = json.loads((folder / "model.json").read_text())
    meta["arch_options"]["hidden"] = 32
    (folder / "model.json").write_text(json.dumps(meta))
    with pytest.raises(NamelangError, match="disagree"):
        ModelStore(tiny_home).load("ok").torch_module()
    (folder / "weights.safetensors").write_bytes(b"\0" * 64)
    with pytest.raises(NamelangError, match="checksum"):
        ModelStore(tiny_home).load("ok").torch_module()


def test_train_without_prepared_data(tmp_path, invoke):
    result = invoke("train", "--home", tmp_path, *TINY_MODEL)
    assert result.exit_code == 1 and "namelang prepare" in result.stderr


def test_char_dropout_hides_characters_in_training_only():
    from namelang.config import TrainConfig
    from namelang.data.alphabet import PAD, UNKNOWN
    from namelang.training import Encoded, fit

    seen = []

    class Recorder(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.out = torch.nn.Linear(1, 2)

        def forward(self, ids, lengths):
            seen.append((self.training, ids.clone()))
            return self.out(ids.float().mean(dim=1, keepdim=True))

    ids = np.full((64, 6), 5, dtype=np.int64)
    ids[:, 4:] = PAD
    data = Encoded(ids, np.full(64, 4), np.arange(64) % 2)
    fit(Recorder(), data, data, 2, TrainConfig(epochs=1, batch_size=64, char_dropout=0.5))
    train_ids = torch.cat([i for training, i in seen if training])
    eval_ids = torch.cat([i for training, i in seen if not training])
    hidden = (train_ids[:, :4] == UNKNOWN).float().mean().item()
    assert 0.35 < hidden < 0.65  # about half the characters, drawn at random
    assert (train_ids[:, 4:] == PAD).all()  # padding is never touched
    assert (eval_ids[:, :4] == 5).all()  # validation sees the names as they are


def test_eta_is_the_pace_so_far_times_the_batches_left():
    from namelang.cli.train import eta_seconds

    assert eta_seconds(0.0, 0, 300) is None  # no batch yet: no guess
    assert eta_seconds(2.0, 10, 300) == pytest.approx(58.0)  # 5 batches/s, 290 left
    assert eta_seconds(60.0, 300, 300) == 0.0


def test_the_whole_run_has_an_eta_from_its_first_batches():
    """Rich's own estimate of the epochs bar needs a few finished epochs; ours is there after one batch."""
    from namelang.cli import render
    from namelang.cli.train import _Progress

    with render.count_progress() as progress:
        bars = _Progress(progress, "cpu")
        bars.on_epoch_start(1, 30, 10)
        bars.clock -= 2.0  # the first batch took 2 s: 299 left at that pace
        bars.on_batch(1, 0.5)
        epochs = progress.tasks[bars.epochs]
        eta = epochs.fields["eta"]
        assert eta == pytest.approx(598, abs=2) and epochs.completed == 0
        shown = [str(column.render(epochs)) for column in progress.columns]
        assert "0:09:58" in shown or "0:09:57" in shown, shown


def test_the_run_is_named_before_its_first_epoch(tiny_home, invoke):
    result = invoke("train", "--home", tiny_home, *TINY_MODEL)  # no --name: the default, said first
    assert result.exit_code == 0, result.output
    lines = result.stderr.splitlines()
    said = re.fullmatch(r"run '(gru-\d{8}-\d{6})', to be saved in (.+)", lines[0])
    assert said, lines[0]
    assert lines[1].startswith("training on cpu: epochs 1 to 2") and lines[2].startswith("epoch   1")
    assert said[2] == str(tiny_home / "models" / said[1])
    assert (tiny_home / "models" / said[1] / "model.json").is_file()
