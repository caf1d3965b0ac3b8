"""Training in one place: the fit path chosen by the registry, resume conflicts as data, and library
messages that name options in Python while the CLI words the same ones as flags."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from typing import ClassVar

import pytest
from conftest import TINY_MODEL, assert_user_error

from namelang.cli.options import flag_words
from namelang.config import TrainConfig
from namelang.errors import NamelangError
from namelang.models.ngram import NgramSpec
from namelang.models.registry import ARCHITECTURES, KINDS, Spec, spec_from
from namelang.models.store import ModelStore
from namelang.training import Conflict, ResumeConflicts, resume_conflicts, resume_run, start_run


@dataclass
class WideNgramSpec(NgramSpec):
    """An n-gram model under another name: the registry's `fit_path`, not the name, says how it is fitted."""

    summary: ClassVar[str] = "n-grams up to 3 characters"
    max_n: int = 3


@dataclass
class MembersSpec(Spec):
    """A kind of model no training run fits (as an ensemble of stored models): `fit_path` None."""

    summary: ClassVar[str] = "stored members"


@pytest.fixture
def wide_ngram(monkeypatch):
    monkeypatch.setattr(WideNgramSpec, "arch", "ngram-wide", raising=False)
    monkeypatch.setitem(ARCHITECTURES, "ngram-wide", WideNgramSpec)
    monkeypatch.setitem(KINDS, "ngram-wide", WideNgramSpec)
    return spec_from("ngram-wide")


def test_a_model_is_fitted_by_its_kinds_path_and_only_a_network_resumes(tiny_home, wide_ngram):
    result = start_run(tiny_home, wide_ngram, TrainConfig(), name="wide")
    card = result.card
    assert card.arch == "ngram-wide" and card.arch_options["max_n"] == 3
    assert card.epochs_run == 1 and card.history == [] and "sklearn" in card.versions
    assert card.prior and card.conformal and card.lexicon  # fitted on the splits, as a network's are
    assert (result.path / "vocabulary.json").is_file() and ModelStore(tiny_home).default() == "wide"
    with pytest.raises(NamelangError, match="continues a network's training; 'wide' is an ngram-wide model"):
        resume_run(tiny_home, "wide", epochs=3)


def test_a_stored_model_of_a_kind_no_longer_registered_is_an_unknown_architecture(
    tiny_home, wide_ngram, monkeypatch
):
    """Resuming it, or attaching it a lexicon, asks the registry (`StoredModel.spec`): on main the first
    said it was not resumable, the second that it was not fitted on the splits."""
    from namelang.training import attach_lexicon

    start_run(tiny_home, wide_ngram, TrainConfig(), name="wide")
    monkeypatch.delitem(KINDS, "ngram-wide")
    monkeypatch.delitem(ARCHITECTURES, "ngram-wide")
    for attempt in (
        lambda: resume_run(tiny_home, "wide", epochs=3),
        lambda: attach_lexicon("wide", tiny_home),
    ):
        with pytest.raises(NamelangError, match="^unknown architecture 'ngram-wide'; choose one of: "):
            attempt()


def test_a_kind_no_run_fits_is_refused(tiny_home, monkeypatch):
    monkeypatch.setattr(MembersSpec, "arch", "members", raising=False)
    monkeypatch.setitem(ARCHITECTURES, "members", MembersSpec)
    monkeypatch.setitem(KINDS, "members", MembersSpec)
    with pytest.raises(NamelangError, match="members models are not fitted by a training run"):
        start_run(tiny_home, MembersSpec(), TrainConfig(), name="m")
    assert not ModelStore(tiny_home).path_of("m").exists()


def test_resume_conflicts_are_data_worded_as_python_or_as_flags(tiny_home, invoke):
    assert invoke("train", "--name", "r", "--home", tiny_home, *TINY_MODEL, "-q").exit_code == 0
    card = ModelStore(tiny_home).load("r").card
    given = {"lr": 0.1, "hidden": 16, "epochs": 5, "force": True, "layers": 2}
    assert resume_conflicts(card, given, "r") == [
        Conflict("lr", 0.1, 0.008),
        Conflict("force", True, reason="not with {resume}"),
        Conflict("layers", 2, 1),
    ]
    with pytest.raises(ResumeConflicts) as caught:
        resume_run(tiny_home, "r", given={"lr": 0.1, "force": True})
    assert [c.option for c in caught.value.conflicts] == ["lr", "force"]
    python = str(caught.value)
    assert "--" not in python and "lr=0.1 (stored: 0.008)" in python and "force (not with resume)" in python
    cli = caught.value.worded(flag_words)
    assert cli.startswith("--resume r continues the stored run") and "--lr 0.1 (stored: 0.008)" in cli
    assert cli.endswith("only --epochs, --patience and --device may change")


def test_run_messages_name_options_not_flags(tiny_home, invoke):
    assert invoke("train", "--name", "x", "--home", tiny_home, *TINY_MODEL, "-q").exit_code == 0
    spec = spec_from("gru", hidden=8, embedding_dim=4)
    with pytest.raises(NamelangError) as caught:
        start_run(tiny_home, spec, TrainConfig(epochs=1), name="x")
    assert str(caught.value).endswith("continue it with resume='x', or replace it with force")
    with pytest.raises(NamelangError, match="pass a larger epochs to continue"):
        resume_run(tiny_home, "x", epochs=2)
    refused = invoke("train", "--resume", "x", "--epochs", "2", "--home", tiny_home)
    assert_user_error(refused, "'x' already ran 2 epochs; pass a larger --epochs to continue")


def test_data_messages_name_options_not_flags(tiny_home, invoke):
    from namelang.data.download import check_sha256
    from namelang.data.split import check_fractions, read_split

    for call, python, flag in [
        (lambda: check_fractions(0.0, 0.1), "val must be between 0 and 1", "--val must be between 0 and 1"),
        (lambda: check_fractions(0.5, 0.5), "val + test must leave", "--val + --test must leave"),
        (lambda: check_sha256("abc"), "sha256 must be 64 hexadecimal digits", "--sha256 must be 64"),
        (lambda: read_split(tiny_home, "nope"), "split must be train, val, test", "--split must be train"),
    ]:
        with pytest.raises(NamelangError) as caught:
            call()
        assert str(caught.value).startswith(python) and caught.value.worded(flag_words).startswith(flag)
    assert_user_error(invoke("prepare", "--val", "0", "--home", tiny_home), "--val must be between 0 and 1")
    refused = invoke("download", "--sha256", "abc", "--home", tiny_home)
    assert refused.exit_code == 2 and "'--sha256': must be 64 hexadecimal digits" in refused.output


def test_the_package_sources_readers_import_no_registry():
    """The readers import the Source record and the tags, the registry imports the readers: no circle."""
    code = (
        "import sys; import namelang.data.wikipedia, namelang.data.polish, namelang.data.arabic, "
        "namelang.data.chinese; print('namelang.data.sources' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"
