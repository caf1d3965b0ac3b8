"""A training run: prepared splits in, a stored model out. Ties data, registry, trainer and store."""

from __future__ import annotations

import csv
import io
import platform
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path

from namelang import __version__
from namelang.calibration import fit_temperature
from namelang.config import TrainConfig
from namelang.data.alphabet import MAX_LENGTH, Alphabet
from namelang.data.split import MANIFEST, load_manifest, prepared_dir, read_split
from namelang.errors import NamelangError
from namelang.models import store
from namelang.models.forward import batched_logits, torch_runner
from namelang.models.registry import ArchSpec, spec_from
from namelang.training import Callbacks, Encoded, EpochReport, FitResult, fit
from namelang.workspace import sha256_file


@dataclass
class RunResult:
    name: str
    path: Path
    fit: FitResult
    meta: dict


def encode(names: list[str], labels: list[str], alphabet: Alphabet, label_index: dict[str, int]) -> Encoded:
    import numpy as np

    ids, lengths = alphabet.encode(names, MAX_LENGTH)
    return Encoded(ids, lengths, np.array([label_index[lb] for lb in labels], dtype=np.int64))


def history_csv(history: list[EpochReport]) -> str:
    buffer = io.StringIO()
    fields = list(asdict(history[0]).keys()) if history else ["epoch"]
    writer = csv.DictWriter(buffer, fieldnames=fields, lineterminator="\n")
    writer.writeheader()
    writer.writerows(asdict(r) for r in history)
    return buffer.getvalue()


PERTURBED = "\ufffd"  # a character no alphabet holds: every model reads it as unknown


def perturb(names: list[str], rate: float, rng) -> list[str]:
    """Each character hidden (as an unknown one) with probability `rate`: character dropout as text."""
    return ["".join(PERTURBED if rng.random() < rate else c for c in name) for name in names]


def distillation_set(
    home: Path, config: TrainConfig, names, labels, alphabet: Alphabet, label_list
) -> Encoded:
    """The training names plus perturbed copies, each with the teacher's softened probabilities."""
    import numpy as np

    from namelang.inference import Classifier
    from namelang.models.forward import softmax

    teacher = Classifier.load(config.teacher, home=home)
    if teacher.labels != list(label_list):
        raise NamelangError(f"the teacher {config.teacher!r} does not predict this data's labels")
    rng = np.random.default_rng(config.seed)
    inputs, targets = list(names), list(labels)
    for _ in range(config.teacher_copies):
        inputs += perturb(names, max(config.char_dropout, 0.1), rng)
        targets += labels
    probs = teacher.predict_proba(inputs)
    keep = ~np.isnan(probs[:, 0])  # a name perturbed into nothing but unknowns still has a row
    soft = softmax(np.log(np.clip(probs, 1e-12, None)) / config.distill_temperature)
    data = encode(inputs, targets, alphabet, {label: i for i, label in enumerate(label_list)})
    data.soft = np.where(keep[:, None], soft, 1.0 / len(label_list))
    return data


def _data_meta(manifest: dict, manifest_sha256: str, train_rows: int, val_rows: int) -> dict:
    return {
        "manifest_sha256": manifest_sha256,
        "source_sha256": manifest["source"]["sha256"],
        "train_rows": train_rows,
        "val_rows": val_rows,
        "train_label_counts": {lb: manifest["counts"]["train"][lb] for lb in manifest["labels"]},
    }


def default_run_name(arch: str) -> str:
    return f"{arch}-{datetime.now().strftime('%Y%m%d-%H%M%S')}"


def train(
    home: Path,
    spec: ArchSpec,
    config: TrainConfig,
    name: str | None = None,
    device=None,
    callbacks: Callbacks | None = None,
    make_default: bool = True,
    resume: str | None = None,
) -> RunResult:
    """Train on `<home>/prepared/` and save the best model to `<home>/models/<name>/`."""
    if getattr(spec, "kind", None) == "ngram":
        if resume is not None:
            raise NamelangError("--resume is for networks; an ngram model is fitted in one go")
        return train_ngram(home, spec, name, make_default, seed=config.seed)
    import torch

    from namelang import plots

    manifest = load_manifest(home)
    manifest_sha256 = sha256_file(prepared_dir(home) / MANIFEST)
    labels = manifest["labels"]
    label_index = {label: i for i, label in enumerate(labels)}
    history: list[EpochReport] = []
    best_state = None
    if resume is not None:
        previous = store.locate(home, resume)
        if previous.name == store.PRETRAINED:
            raise NamelangError("--resume takes a run in the store, not the pretrained model")
        meta = previous.meta
        if meta.get("data", {}).get("manifest_sha256") != manifest_sha256:
            raise NamelangError(f"cannot resume {resume!r}: the prepared data changed since it was trained")
        spec = spec_from(meta["arch"], **meta["arch_options"])
        config = TrainConfig(**{**meta["training"], "epochs": config.epochs})
        alphabet = Alphabet(meta["alphabet"])
        history = [EpochReport(**h) for h in meta["history"]]
        module = store.load_weights(previous)
        best_state = {k: v.detach().clone() for k, v in module.state_dict().items()}
        name = name or previous.name
        if len(history) >= config.epochs:
            raise NamelangError(
                f"{resume!r} already ran {len(history)} epochs; pass a larger --epochs to continue"
            )
    else:
        torch.manual_seed(config.seed)
        alphabet = Alphabet(manifest["alphabet"])
        module = spec.build(alphabet.size, len(labels))
        name = name or default_run_name(spec.arch)
    store.check_name(name)

    train_names, train_labels, _ = read_split(home, "train")
    val_names, val_labels, _ = read_split(home, "val")
    if not train_names or not val_names:
        raise NamelangError("the train and val splits must both hold names; run `namelang prepare` again")
    if config.teacher:
        train_data = distillation_set(home, config, train_names, train_labels, alphabet, labels)
    else:
        train_data = encode(train_names, train_labels, alphabet, label_index)
    val_data = encode(val_names, val_labels, alphabet, label_index)

    result = fit(module, train_data, val_data, len(labels), config, device, callbacks, history, best_state)
    val_logits = batched_logits(
        torch_runner(module, device or torch.device("cpu")), val_data.ids, val_data.lengths
    )
    temperature = fit_temperature(val_logits, val_data.labels)
    best = result.best
    seconds = sum(r.seconds for r in result.history)
    meta = {
        "arch": spec.arch,
        "arch_options": spec.to_dict(),
        "labels": labels,
        "alphabet": alphabet.chars,
        "max_length": MAX_LENGTH,
        "temperature": temperature,
        "normalization": manifest.get("normalization", {"form": "NFC", "ascii": False}),
        "data": _data_meta(manifest, manifest_sha256, len(train_data), len(val_data)),
        "training": asdict(config),
        "seed": config.seed,
        "versions": {
            "namelang": __version__,
            "torch": torch.__version__,
            "python": platform.python_version(),
        },
        "device": str(device or "cpu"),
        "parameters": sum(p.numel() for p in module.parameters()),
        "best": {
            "epoch": result.best_epoch,
            "val_accuracy": best.val_accuracy if best else None,
            "val_macro_f1": best.val_macro_f1 if best else None,
            "val_loss": best.val_loss if best else None,
        },
        "epochs_run": len(result.history),
        "training_seconds": round(seconds, 3),
        "interrupted": result.interrupted,
        "stopped_early": result.stopped_early,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "history": [asdict(r) for r in result.history],
    }
    history_rows = [asdict(r) for r in result.history]
    path = store.save(
        home,
        name,
        result.best_state,
        meta,
        history_csv(result.history),
        plot=lambda p: plots.loss_curve(history_rows, p, title=f"{name} ({spec.arch})"),
    )
    if make_default:
        store.set_default(home, name)
    return RunResult(name, path, result, store.read_meta(path))


def train_ngram(home: Path, spec, name: str | None, make_default: bool, seed: int = 0) -> RunResult:
    """Fit the n-gram baseline with scikit-learn (C chosen on validation) and store it like any model."""
    import numpy as np
    import sklearn

    from namelang.models.ngram import fit_ngram, n_parameters, save_fitted

    manifest = load_manifest(home)
    labels = manifest["labels"]
    train_split, val_split = read_split(home, "train")[:2], read_split(home, "val")[:2]
    if not train_split[0] or not val_split[0]:
        raise NamelangError("the train and val splits must both hold names; run `namelang prepare` again")
    fitted = fit_ngram(spec, train_split, val_split, labels)
    y_val = [labels.index(lb) for lb in val_split[1]]
    name = name or default_run_name(spec.arch)
    spec.c = fitted.c
    best = {"epoch": 1, "val_accuracy": fitted.val_accuracy, "val_macro_f1": fitted.val_macro_f1}
    meta = {
        "arch": spec.arch,
        "arch_options": spec.to_dict(),
        "labels": labels,
        "alphabet": manifest["alphabet"],
        "max_length": MAX_LENGTH,
        "temperature": fit_temperature(fitted.val_logits, np.array(y_val)),
        "normalization": manifest.get("normalization", {"form": "NFC", "ascii": False}),
        "data": _data_meta(
            manifest, sha256_file(prepared_dir(home) / MANIFEST), len(train_split[0]), len(val_split[0])
        ),
        "c_grid": fitted.grid,
        "seed": seed,
        "versions": {
            "namelang": __version__,
            "sklearn": sklearn.__version__,
            "python": platform.python_version(),
        },
        "device": "cpu",
        "parameters": n_parameters(fitted.state),
        "best": best,
        "epochs_run": 1,
        "training_seconds": round(fitted.seconds, 3),
        "interrupted": False,
        "stopped_early": False,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "history": [],
    }
    path, meta = save_fitted(home, store.check_name(name), fitted, meta)
    if make_default:
        store.set_default(home, name)
    result = FitResult({}, 1, [], False, fitted.seconds)
    return RunResult(name, path, result, meta)
