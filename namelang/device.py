"""`--device auto|cpu|cuda|cuda:N|mps` resolved in one place, with a clear error when absent."""

from __future__ import annotations

import re

from namelang.errors import NamelangError

_PATTERN = re.compile(r"^(auto|cpu|mps|cuda)(?::(\d+))?$")


def resolve_device(spec: str = "auto"):
    """A torch.device for `spec`; auto takes cuda, then mps, then cpu."""
    import torch

    match = _PATTERN.match((spec or "auto").strip().lower())
    if not match or (match.group(2) is not None and match.group(1) != "cuda"):
        raise NamelangError(f"unknown device {spec!r}; use auto, cpu, cuda, cuda:N or mps")
    kind, index = match.group(1), match.group(2)
    mps = getattr(torch.backends, "mps", None)
    mps_ok = bool(mps and mps.is_available())
    if kind == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        return torch.device("mps" if mps_ok else "cpu")
    if kind == "cuda":
        if not torch.cuda.is_available():
            built = "with" if torch.backends.cuda.is_built() else "without"
            raise NamelangError(
                f"--device {spec}: no CUDA device is available (torch was built {built} CUDA)"
            )
        if index is not None and int(index) >= torch.cuda.device_count():
            raise NamelangError(f"--device {spec}: only {torch.cuda.device_count()} CUDA device(s) present")
        return torch.device(f"cuda:{index}" if index is not None else "cuda")
    if kind == "mps" and not mps_ok:
        raise NamelangError(f"--device {spec}: Apple MPS is not available on this machine")
    return torch.device(kind)


def torch_may_see_accelerator() -> bool:
    """Whether resolving `auto` needs torch at all: a CPU-only torch build off macOS sees no accelerator.

    Answered from the installed package's version (`2.13.0+cpu`), so the CPU path never pays for
    importing torch.
    """
    import platform
    from importlib import metadata

    if platform.system() == "Darwin":
        return True
    try:
        return not metadata.version("torch").endswith("+cpu")
    except metadata.PackageNotFoundError:
        return False


def inference_device(spec: str = "auto"):
    """None for CPU inference (the numpy engine, no torch import); else the torch.device to run on."""
    spec = (spec or "auto").strip().lower()
    if spec == "cpu" or (spec == "auto" and not torch_may_see_accelerator()):
        return None
    device = resolve_device(spec)
    return None if device.type == "cpu" else device


def describe(device) -> str:
    if device.type == "cuda":
        import torch

        return f"{device} ({torch.cuda.get_device_name(device)})"
    return str(device)
