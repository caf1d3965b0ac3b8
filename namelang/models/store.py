"""The model store: the one module that knows the layout of a model folder.

    <home>/models/
      .default                the default model's name (absent: the pretrained model serves)
      <name>/                 one trained model, written whole to a temporary folder, then renamed
        model.json            its ModelCard (namelang/models/card.py)
        weights.safetensors   its tensors (safetensors: nothing is ever unpickled)
        history.csv           one row per finished epoch
        lexicon.json.gz       the training names' label counts (models/lexicon.py), when the card says so
        loss.png              the loss and validation curves
        <kind's own files>    e.g. an n-gram model's vocabulary.json (`Spec.own_files`, `save(files=...)`)
        members/<member>/     an ensemble's member models, each a model folder of this same layout, listed
                              in its card's `members` (`save_ensemble`, `StoredModel.members`)

A model is referred to by its folder name in the store, by a path to a model folder, or as
`pretrained`, the model shipped inside the package. The store decides nothing about training: the
rules for names, interruption and defaults are applied by `training/run.py` and the commands, through it.
"""

from __future__ import annotations

import copy
import hashlib
import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from namelang.errors import NamelangError, literal
from namelang.models.card import ModelCard
from namelang.workspace import Workspace, atomic_dir, atomic_path, make_public, sha256_file, write_text

WEIGHTS = "weights.safetensors"
CARD = "model.json"
HISTORY = "history.csv"
LEXICON = "lexicon.json.gz"
LOSS_PLOT = "loss.png"
MEMBERS = "members"
DEFAULT_MARKER = ".default"
PRETRAINED = "pretrained"
PRETRAINED_DIR = Path(__file__).resolve().parent.parent / "pretrained"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")


def check_name(name: str) -> str:
    if not _NAME.match(name) or name == PRETRAINED:
        raise NamelangError(
            f"invalid model name {literal(name)!r}: use letters, digits, '.', '_' or '-' (and not {PRETRAINED!r})"
        )
    return name


def is_model_folder(path: Path) -> bool:
    return (Path(path) / CARD).is_file()


def read_card(folder: Path) -> ModelCard:
    path = Path(folder) / CARD
    if not path.is_file():
        raise NamelangError(f"{literal(folder)} is not a model folder (no {CARD})")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise NamelangError(f"cannot read {literal(path)}: {literal(exc)}") from exc
    return ModelCard.from_json(text, path)


@dataclass
class StoredModel:
    """A model folder and its card; the weights are read only when an engine is asked for."""

    name: str
    path: Path
    card: ModelCard
    is_default: bool = False

    @property
    def is_pretrained(self) -> bool:
        return self.path == PRETRAINED_DIR

    def spec(self):
        """The registry's spec of this model's kind, with the card's options (models/registry.py)."""
        from namelang.models.registry import spec_from

        return spec_from(self.card.arch, **self.card.arch_options)

    def members(self) -> list[StoredModel]:
        """An ensemble's member models, in its card's order (none for a single model)."""
        found = []
        for entry in self.card.members or []:
            folder = self.path / entry["folder"]
            if not folder.resolve().is_relative_to(self.path.resolve()) or not is_model_folder(folder):
                raise NamelangError(
                    f"{literal(self.path)}: member {literal(entry['name'])!r} is not a model folder inside it"
                )
            found.append(StoredModel(folder.name, folder, read_card(folder)))
        return found

    def read_text(self, name: str) -> str:
        """A file of the model's own kind (`save(files=...)`), e.g. an n-gram model's vocabulary."""
        path = self.path / name
        try:
            return path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise NamelangError(
                f"cannot read {literal(path)}: {literal(getattr(exc, 'strerror', None) or exc)}"
            ) from exc

    def files(self) -> dict[str, bytes]:
        """What scoring the model needs, as data: each file's path in the folder -> its bytes. The card,
        the weights, the lexicon when the card has one, the files of the kind's own (`Spec.own_files`),
        and each member's under its folder; nothing else (not the history, the plot or a package's
        files). `unpack` writes them back as a model folder (a Dask worker's copy)."""
        from namelang.models.registry import kind_of

        names = [CARD, *([] if self.card.members else [WEIGHTS]), *kind_of(self.card.arch).own_files]
        names += [LEXICON] if self.card.lexicon is not None else []
        found = {name: (self.path / name).read_bytes() for name in names}
        for member in self.members():
            folder = member.path.relative_to(self.path).as_posix()
            found.update({f"{folder}/{name}": blob for name, blob in member.files().items()})
        return found

    def weights(self) -> Path:
        """The weights file, refused when it does not match the checksum in the card."""
        weights = self.path / WEIGHTS
        if not weights.is_file():
            raise NamelangError(f"{literal(self.path)} has no {WEIGHTS}")
        expected = self.card.weights_sha256
        if expected and sha256_file(weights) != expected:
            raise NamelangError(
                f"{literal(weights)} does not match the checksum in {CARD}: the folder was altered"
            )
        return weights

    def lexicon_bytes(self) -> bytes | None:
        """The lexicon file's bytes (checked against the card), or None for a model without one."""
        if self.card.lexicon is None:
            return None
        path = self.path / LEXICON
        try:
            blob = path.read_bytes()
        except OSError as exc:
            raise NamelangError(f"cannot read {literal(path)}: {literal(exc.strerror or exc)}") from exc
        if hashlib.sha256(blob).hexdigest() != self.card.lexicon["sha256"]:
            raise NamelangError(
                f"{literal(path)} does not match the checksum in {CARD}: the folder was altered"
            )
        return blob

    def attach_lexicon(self, blob: bytes, info: dict) -> None:
        """Give this model folder a lexicon (replacing any). The folder is written anew and renamed into
        place whole: an interrupted run leaves the old folder, never a card naming a file not there."""
        note = lexicon_note(blob, info)
        with atomic_dir(self.path) as tmp:
            for path in self.path.iterdir():
                if path.is_file() and path.name not in (LEXICON, CARD):
                    shutil.copy2(path, tmp / path.name)
            (tmp / LEXICON).write_bytes(blob)
            card = copy.deepcopy(self.card)
            card.lexicon = note
            write_text(tmp / CARD, card.to_json())
        self.card = card

    def write_card(self, card: ModelCard) -> None:
        """Replace this model's card alone (written to a temporary name and renamed into place): for a
        change that names no other file, such as its prior or thresholds. The other files stay as they are."""
        card = copy.deepcopy(card)
        write_text(self.path / CARD, card.to_json())
        self.card = card

    def copied(self, target: Path, card: ModelCard, state: dict | None = None) -> StoredModel:
        """This model written whole into the folder `target` (replaced only once complete) with `card`
        as its card and, given `state` (tensors by name), new weights whose checksum the card takes."""
        target = Path(target)
        card = copy.deepcopy(card)
        with atomic_dir(target) as tmp:
            for path in self.path.iterdir():
                if path.name == CARD or (state is not None and path.name == WEIGHTS):
                    continue
                if path.is_dir():
                    shutil.copytree(path, tmp / path.name)
                elif path.is_file():
                    shutil.copy2(path, tmp / path.name)
            if state is not None:
                _save_tensors(state, tmp / WEIGHTS)
                card.weights_sha256 = sha256_file(tmp / WEIGHTS)
            write_text(tmp / CARD, card.to_json())
        return StoredModel(target.name, target, read_card(target))

    def export(self, folder: Path, card: ModelCard) -> None:
        """This single model's files written into `folder` (made if need be; its other files kept, as a
        package folder's), each atomically, the card last: how the shipped model is published."""
        folder.mkdir(parents=True, exist_ok=True)
        for path in self.path.iterdir():
            if path.is_file() and path.name != CARD:
                with atomic_path(folder / path.name) as tmp:
                    shutil.copy2(path, tmp)
        write_text(folder / CARD, card.to_json())

    def _spec_and_sizes(self):
        return self.spec(), len(self.card.alphabet) + 2, len(self.card.labels)

    def torch_module(self, device="cpu"):
        """Build the torch module from the card and load its weights, refusing any disagreement."""
        from safetensors import SafetensorError
        from safetensors.torch import load_file

        weights = self.weights()
        spec, n_chars, n_labels = self._spec_and_sizes()
        module = spec.build(n_chars, n_labels)
        try:
            module.load_state_dict(load_file(str(weights)), strict=True)
        except (RuntimeError, SafetensorError) as exc:
            first = str(exc).strip().splitlines()[0]
            raise NamelangError(
                f"{literal(self.path)}: {CARD} and {WEIGHTS} disagree ({literal(first)})"
            ) from exc
        return module.to(device).eval()

    def tensors(self) -> dict:
        """The weights as numpy arrays by name (checked against the card's checksum)."""
        from safetensors import SafetensorError
        from safetensors.numpy import load_file

        weights = self.weights()
        try:
            return load_file(str(weights))
        except SafetensorError as exc:
            raise NamelangError(
                f"{literal(weights)} is not a readable safetensors file ({literal(exc)})"
            ) from exc

    def numpy_engine(self):
        """The model for CPU inference without torch; NotImplementedError when the kind has none."""
        spec, n_chars, n_labels = self._spec_and_sizes()
        state = self.tensors()
        try:
            return spec.numpy_engine(state, n_chars, n_labels)
        except NamelangError as exc:
            raise NamelangError(f"{literal(self.path)}: {exc.template}") from exc


class ModelStore:
    """The models of one workspace: save, load, list, remove, and which one is the default."""

    def __init__(self, workspace: Workspace | Path | str | None = None):
        self.workspace = Workspace.resolve(workspace)
        self.folder = self.workspace.models

    def path_of(self, name: str) -> Path:
        return self.folder / check_name(name)

    def exists(self, name: str) -> bool:
        return is_model_folder(self.path_of(name))

    def save(
        self,
        name: str,
        state: dict,
        card: ModelCard,
        history_csv: str,
        plot: Callable[[Path], None] | None = None,
        files: dict[str, str] | None = None,
        lexicon: tuple[bytes, dict] | None = None,
    ) -> StoredModel:
        """Write a model folder whole (replacing one of that name only once it is complete).

        `state`: torch tensors or numpy arrays by name; `plot(path)` draws the loss curve; `files`:
        other text files of the model by name (an n-gram model's vocabulary.json); `lexicon`: the
        lexicon file's bytes and the card's note of it (models/lexicon.py).
        """
        target = self.path_of(name)
        with atomic_dir(target) as tmp:
            _save_tensors(state, tmp / WEIGHTS)
            card.name = name
            card.weights_sha256 = sha256_file(tmp / WEIGHTS)
            if lexicon is not None:
                (tmp / LEXICON).write_bytes(lexicon[0])
                card.lexicon = lexicon_note(*lexicon)
            write_text(tmp / CARD, card.to_json())
            write_text(tmp / HISTORY, history_csv)
            for file_name, text in (files or {}).items():
                write_text(tmp / file_name, text)
            if plot is not None:
                plot(tmp / LOSS_PLOT)
        return self.load(name)

    def save_ensemble(self, name: str, card: ModelCard, members: list[StoredModel]) -> StoredModel:
        """Write a model made of stored models whole: a copy of each member's folder in its own, and its
        card, whose `members` entries (one per member, in order) are given each member's folder."""
        if len(card.members or []) != len(members):
            raise ValueError("the card must list each member once, in order")
        target = self.path_of(name)
        with atomic_dir(target) as tmp:
            card.name = name
            for member, entry in zip(members, card.members):
                folder = f"{MEMBERS}/{member.name}"
                shutil.copytree(member.path, tmp / folder)
                entry["folder"] = folder
            write_text(tmp / CARD, card.to_json())
        return self.load(name)

    def default(self) -> str | None:
        marker = self.folder / DEFAULT_MARKER
        if marker.is_file():
            name = marker.read_text(encoding="utf-8").strip()
            if _NAME.match(name) and is_model_folder(self.folder / name):
                return name
        return None

    def set_default(self, name: str) -> None:
        if name != PRETRAINED and not self.exists(name):
            raise NamelangError(f"no model named {literal(name)!r} in {literal(self.folder)}")
        write_text(self.folder / DEFAULT_MARKER, name + "\n")

    def clear_default(self) -> None:
        (self.folder / DEFAULT_MARKER).unlink(missing_ok=True)

    def list(self) -> list[StoredModel]:
        """The stored models by name (folders whose card cannot be read are left out)."""
        default = self.default()
        found = []
        if self.folder.is_dir():
            for path in sorted(self.folder.iterdir()):
                if path.is_dir() and _NAME.match(path.name) and is_model_folder(path):
                    try:
                        card = read_card(path)
                    except NamelangError:
                        continue
                    found.append(StoredModel(path.name, path, card, path.name == default))
        return found

    def latest(self) -> StoredModel | None:
        """The stored model created last (by its card's `created`), interrupted or not; None if none."""
        return max((m for m in self.list() if m.card.created), key=lambda m: m.card.created, default=None)

    def newer_than_default(self) -> StoredModel | None:
        """The model created last, when it is not the default and was made after the default was last
        chosen (trained with no default, or interrupted); None when the default was chosen since."""
        from datetime import datetime, timezone

        latest = self.latest()
        if latest is None or latest.name == (self.default() or PRETRAINED):
            return None
        marker = self.folder / DEFAULT_MARKER
        if marker.is_file():
            try:
                created = datetime.fromisoformat(latest.card.created)
            except ValueError:
                return latest
            created = created if created.tzinfo else created.replace(tzinfo=timezone.utc)
            if datetime.fromtimestamp(marker.stat().st_mtime, timezone.utc) >= created:
                return None
        return latest

    def pretrained(self) -> StoredModel:
        if not is_model_folder(PRETRAINED_DIR):
            raise NamelangError("the pretrained model is not installed with this package; train one first")
        return StoredModel(PRETRAINED, PRETRAINED_DIR, read_card(PRETRAINED_DIR), self.default() is None)

    def load(self, ref: str | Path | None = None) -> StoredModel:
        """A store name, a model folder's path, `pretrained`, or (None) the default."""
        ref = str(ref) if ref is not None else (self.default() or PRETRAINED)
        if ref == PRETRAINED:
            return self.pretrained()
        if _NAME.match(ref) and is_model_folder(self.folder / ref):
            return StoredModel(ref, self.folder / ref, read_card(self.folder / ref), self.default() == ref)
        path = Path(ref).expanduser()
        if path.is_dir():
            return StoredModel(path.name, path, read_card(path))
        names = [m.name for m in self.list()] + [PRETRAINED]
        raise NamelangError(f"unknown model {literal(ref)!r}; known models: {', '.join(names)}")

    def remove(self, name: str) -> bool:
        """Delete a stored model; returns whether it was the default (the default is then cleared)."""
        path = self.path_of(name)
        if not is_model_folder(path):
            raise NamelangError(f"no model named {literal(name)!r} in {literal(self.folder)}")
        was_default = self.default() == name
        if was_default:
            self.clear_default()
        shutil.rmtree(path)
        return was_default


def unpack(files: dict[str, bytes], folder: Path, name: str) -> StoredModel:
    """The model of `StoredModel.files()`, written into the empty folder `folder` (e.g. a temporary one)."""
    folder = Path(folder)
    for relative, blob in files.items():
        path = (folder / relative).resolve()
        if not path.is_relative_to(folder.resolve()):
            raise NamelangError(f"a model's file may not leave its folder: {literal(relative)!r}")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(blob)
    return StoredModel(name, folder, read_card(folder))


def lexicon_note(blob: bytes, info: dict) -> dict:
    """The card's note of a lexicon file: what `info` says of it, and the file's sha256."""
    return {**info, "sha256": hashlib.sha256(blob).hexdigest()}


def _save_tensors(state: dict, path: Path) -> None:
    """torch tensors (networks) or numpy arrays (models that need no torch) to one safetensors file."""
    if all(type(v).__module__ == "numpy" for v in state.values()):
        import numpy as np
        from safetensors.numpy import save_file

        save_file({k: np.ascontiguousarray(v) for k, v in state.items()}, str(path))
    else:
        from safetensors.torch import save_file

        save_file({k: v.contiguous() for k, v in state.items()}, str(path))
    make_public(path)  # safetensors creates it private (0600)
