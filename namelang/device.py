"""A device (auto, cpu, cuda, cuda:N, mps) resolved in one place, with a clear error when absent."""

from __future__ import annotations

import re

from namelang.errors import NamelangError, literal

_PATTERN = re.compile(r"^(auto|cpu|mps|cuda)(?::(\d+))?$")


def resolve_device(spec: str = "auto"):
    """A torch.device for `spec`; auto takes cuda, then mps, then cpu."""
    from namelang.extras import import_torch

    match = _PATTERN.match((spec or "auto").strip().lower())
    if not match or (match.group(2) is not None and match.group(1) != "cuda"):
        raise NamelangError(f"unknown device {literal(spec)!r}; use auto, cpu, cuda, cuda:N or mps")
    kind, index = match.group(1), match.group(2)
    torch = import_torch(f"device {spec!r} needs PyTorch" if kind != "auto" else "training needs PyTorch")
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
                f"{{device={literal(spec)}}}: no CUDA device is available (torch was built {built} CUDA); "
                "use {device=cpu}"
            )
        if index is not None and int(index) >= torch.cuda.device_count():
            raise NamelangError(
                f"{{device={literal(spec)}}}: only {torch.cuda.device_count()} CUDA device(s) present"
            )
        return torch.device(f"cuda:{index}" if index is not None else "cuda")
    if kind == "mps" and not mps_ok:
        raise NamelangError(
            f"{{device={literal(spec)}}}: Apple MPS is not available on this machine; use {{device=cpu}}"
        )
    return torch.device(kind)


def torch_may_see_accelerator() -> bool:
    """Whether resolving `auto` needs torch at all, answered without importing it (about 2 s).

    No torch installed, or a CPU-only build (`2.13.0+cpu`), sees no accelerator. Otherwise the machine is
    asked: Apple silicon for MPS; an NVIDIA driver (/proc/driver/nvidia/gpus, /dev/nvidia0 or nvidia-smi
    on PATH) or AMD's /dev/kfd (ROCm) for CUDA. A CUDA build of torch on a machine with no GPU then
    scores on the numpy engine, as a CPU-only build does.
    """
    import platform

    if platform.system() == "Darwin":
        return platform.machine() == "arm64" and _torch_version() is not None
    if not gpu_present():  # a few file checks: the usual answer, with no package metadata read
        return False
    version = _torch_version()
    return version is not None and not version.endswith("+cpu")


def _torch_version() -> str | None:
    from importlib import metadata

    try:
        return metadata.version("torch")
    except metadata.PackageNotFoundError:
        return None


def gpu_present() -> bool:
    """An NVIDIA or AMD GPU's driver is visible to this process (no torch, no CUDA runtime loaded)."""
    import os
    import shutil

    gpus = "/proc/driver/nvidia/gpus"
    if os.path.isdir(gpus) and os.listdir(gpus):
        return True
    return (
        os.path.exists("/dev/nvidia0") or os.path.exists("/dev/kfd") or shutil.which("nvidia-smi") is not None
    )


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
