"""The model store: `<home>/models/<name>/` with weights.safetensors, model.json, history.csv, loss.png.

A model is referred to by its folder name in the store, by a path to a model folder, or as
`pretrained`, the model shipped inside the package. Loading reads tensors (safetensors) and JSON only:
nothing is ever unpickled.
"""

from __future__ import annotations

import json
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from namelang.errors import NamelangError
from namelang.workspace import atomic_dir, make_public, sha256_file, write_text

WEIGHTS = "weights.safetensors"
META = "model.json"
HISTORY = "history.csv"
LOSS_PLOT = "loss.png"
DEFAULT_MARKER = ".default"
PRETRAINED = "pretrained"
PRETRAINED_DIR = Path(__file__).resolve().parent.parent / "pretrained"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")


@dataclass
class StoredModel:
    name: str
    path: Path
    meta: dict
    is_default: bool = False


def models_dir(home: Path) -> Path:
    return Path(home) / "models"


def check_name(name: str) -> str:
    if not _NAME.match(name) or name == PRETRAINED:
        raise NamelangError(
            f"invalid model name {name!r}: use letters, digits, '.', '_' or '-' (and not {PRETRAINED!r})"
        )
    return name


def read_meta(folder: Path) -> dict:
    path = Path(folder) / META
    if not path.is_file():
        raise NamelangError(f"{folder} is not a model folder (no {META})")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise NamelangError(f"{path} is not valid JSON: {exc}") from exc


def save(home: Path, name: str, state: dict, meta: dict, history_csv: str, plot=None) -> Path:
    """Write a model folder atomically; `plot(path)` draws the loss curve into the temporary folder."""
    from safetensors.torch import save_file

    check_name(name)
    target = models_dir(home) / name
    with atomic_dir(target) as tmp:
        save_file({k: v.contiguous() for k, v in state.items()}, str(tmp / WEIGHTS))
        make_public(tmp / WEIGHTS)  # safetensors creates it private (0600)
        meta = {**meta, "name": name, "weights_sha256": sha256_file(tmp / WEIGHTS)}
        write_text(tmp / META, json.dumps(meta, indent=2, ensure_ascii=False) + "\n")
        write_text(tmp / HISTORY, history_csv)
        if plot is not None:
            plot(tmp / LOSS_PLOT)
    return target


def get_default(home: Path) -> str | None:
    marker = models_dir(home) / DEFAULT_MARKER
    if marker.is_file():
        name = marker.read_text(encoding="utf-8").strip()
        if (models_dir(home) / name / META).is_file():
            return name
    return None


def set_default(home: Path, name: str) -> None:
    if name != PRETRAINED and not (models_dir(home) / name / META).is_file():
        raise NamelangError(f"no model named {name!r} in {models_dir(home)}")
    write_text(models_dir(home) / DEFAULT_MARKER, name + "\n")


def list_models(home: Path) -> list[StoredModel]:
    folder = models_dir(home)
    default = get_default(home)
    found = []
    if folder.is_dir():
        for path in sorted(folder.iterdir()):
            if path.is_dir() and not path.name.startswith(".") and (path / META).is_file():
                try:
                    meta = read_meta(path)
                except NamelangError:
                    continue
                found.append(StoredModel(path.name, path, meta, path.name == default))
    return found


def remove(home: Path, name: str) -> None:
    check_name(name)
    path = models_dir(home) / name
    if not (path / META).is_file():
        raise NamelangError(f"no model named {name!r} in {models_dir(home)}")
    if get_default(home) == name:
        (models_dir(home) / DEFAULT_MARKER).unlink(missing_ok=True)
    shutil.rmtree(path)


def locate(home: Path, ref: str | None = None) -> StoredModel:
    """Find a model folder: a store name, a path, `pretrained`, or (None) the default."""
    if ref is None:
        ref = get_default(home) or PRETRAINED
    if ref == PRETRAINED:
        if not (PRETRAINED_DIR / META).is_file():
            raise NamelangError("the pretrained model is not installed with this package; train one first")
        return StoredModel(PRETRAINED, PRETRAINED_DIR, read_meta(PRETRAINED_DIR))
    stored = models_dir(home) / ref
    if _NAME.match(ref) and (stored / META).is_file():
        return StoredModel(ref, stored, read_meta(stored), get_default(home) == ref)
    path = Path(ref).expanduser()
    if path.is_dir():
        return StoredModel(path.name, path, read_meta(path))
    names = [m.name for m in list_models(home)] + [PRETRAINED]
    raise NamelangError(f"unknown model {ref!r}; known models: {', '.join(names)}")


def _checked_weights(stored: StoredModel) -> Path:
    weights = stored.path / WEIGHTS
    if not weights.is_file():
        raise NamelangError(f"{stored.path} has no {WEIGHTS}")
    expected = stored.meta.get("weights_sha256")
    if expected and sha256_file(weights) != expected:
        raise NamelangError(f"{weights} does not match the checksum in {META}: the folder was altered")
    return weights


def _spec_and_sizes(stored: StoredModel):
    from namelang.models.registry import spec_from

    meta = stored.meta
    try:
        return (
            spec_from(meta["arch"], **meta.get("arch_options", {})),
            len(meta["alphabet"]) + 2,
            len(meta["labels"]),
        )
    except (KeyError, TypeError) as exc:
        raise NamelangError(f"{stored.path / META} is missing or has a bad field: {exc}") from exc


def load_weights(stored: StoredModel, device="cpu"):
    """Build the torch module from model.json and load its weights, refusing any disagreement between them."""
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    weights = _checked_weights(stored)
    spec, n_chars, n_labels = _spec_and_sizes(stored)
    module = spec.build(n_chars, n_labels)
    try:
        module.load_state_dict(load_file(str(weights)), strict=True)
    except (RuntimeError, SafetensorError) as exc:
        first = str(exc).strip().splitlines()[0]
        raise NamelangError(f"{stored.path}: {META} and {WEIGHTS} disagree ({first})") from exc
    return module.to(device).eval()


def load_numpy_engine(stored: StoredModel):
    """The model as a numpy engine for CPU inference: no torch import at all."""
    from safetensors import SafetensorError
    from safetensors.numpy import load_file

    weights = _checked_weights(stored)
    spec, n_chars, n_labels = _spec_and_sizes(stored)
    try:
        state = load_file(str(weights))
    except SafetensorError as exc:
        raise NamelangError(f"{weights} is not a readable safetensors file ({exc})") from exc
    try:
        return spec.numpy_engine(state, n_chars, n_labels)
    except NamelangError as exc:
        raise NamelangError(f"{stored.path}: {exc}") from exc
