"""The network's fit path: a torch module trained in epochs (`loop.fit`), fresh or resumed, then its
temperature fitted on the validation split."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from namelang.config import TrainConfig
from namelang.data.alphabet import Alphabet
from namelang.models.card import Best
from namelang.models.registry import ArchSpec
from namelang.models.store import StoredModel
from namelang.training.cards import Fitted
from namelang.training.loop import Callbacks, Encoded, EpochReport, FitResult, Resumed, fit
from namelang.training.splits import Prepared


@dataclass
class Network:
    """The module a run trains, its alphabet, and where a resumed run picks up (None: a fresh one)."""

    module: Any
    alphabet: Alphabet
    resumed: Resumed | None = None

    @classmethod
    def fresh(cls, spec: ArchSpec, config: TrainConfig, prepared: Prepared) -> Network:
        import torch

        torch.manual_seed(config.seed)
        alphabet = Alphabet(prepared.manifest["alphabet"])
        return cls(spec.build(alphabet.size, len(prepared.labels)), alphabet)

    @classmethod
    def stored(cls, found: StoredModel) -> Network:
        """A stored run's best weights and history, to continue from."""
        module = found.torch_module()
        best_state = {k: v.detach().clone() for k, v in module.state_dict().items()}
        history = [EpochReport(**h) for h in found.card.history]
        return cls(module, Alphabet(found.card.alphabet), Resumed(history, best_state))

    @property
    def epochs_done(self) -> int:
        return len(self.resumed.history) if self.resumed else 0


@dataclass
class Trained:
    """A network after its epochs, with the splits it trained and was validated on."""

    network: Network
    config: TrainConfig
    result: FitResult
    train: Encoded
    val: Encoded


def train(network: Network, config: TrainConfig, prepared: Prepared, device, callbacks: Callbacks) -> Trained:
    """The epochs: on the train split (plus the teacher's perturbed copies when distilling)."""
    from namelang.training.distill import distillation_set

    if config.teacher:  # the train split with the teacher's soft targets (read once, in there)
        train_data = distillation_set(prepared, config, network.alphabet)
    else:
        train_data = prepared.encoded("train", network.alphabet)
    val_data = prepared.encoded("val", network.alphabet)
    labels = len(prepared.labels)
    result = fit(network.module, train_data, val_data, labels, config, device, callbacks, network.resumed)
    return Trained(network, config, result, train_data, val_data)


def calibrated(trained: Trained, device) -> Fitted:
    """The best epoch's weights with the temperature fitted on the validation split's logits."""
    import torch

    from namelang.models.forward import batched_logits, softmax, torch_runner
    from namelang.training.calibration import fit_temperature

    module, result, val = trained.network.module, trained.result, trained.val
    val_logits = batched_logits(torch_runner(module, device or torch.device("cpu")), val.ids, val.lengths)
    temperature = fit_temperature(val_logits, val.labels)
    best = result.best
    return Fitted(
        fit=result,
        state=result.best_state,
        alphabet=trained.network.alphabet.chars,
        temperature=temperature,
        val_probs=softmax(val_logits / temperature),
        y_val=val.labels,
        rows=(len(trained.train), len(val)),
        parameters=sum(p.numel() for p in module.parameters()),
        best=Best(best.epoch, best.val_accuracy, best.val_macro_f1, best.val_loss) if best else Best(),
        library=("torch", torch.__version__),
        epochs_run=len(result.history),
        seconds=sum(r.seconds for r in result.history),
        config=trained.config,
        device=str(device or "cpu"),
    )
