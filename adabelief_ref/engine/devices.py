"""Device and dtype resolution for the torch engine, and the provenance record of a run.

``device="auto"`` picks CUDA when torch sees a GPU and the CPU otherwise; an explicit device that
is unknown or not present on this machine is refused with a ``ValueError`` (never a silent
fallback). Every engine result carries :class:`RunRecord` — device, dtype, torch version, seed —
so a number can always be traced to the hardware and software that produced it.
"""

from __future__ import annotations

import platform
from dataclasses import asdict, dataclass
from typing import Any

import torch

DTYPES = {"float32": torch.float32, "float64": torch.float64}
DEVICE_KINDS = ("auto", "cpu", "cuda")


def resolve_device(device: Any = "auto") -> torch.device:
    """Return the ``torch.device`` meant by ``device``.

    Args:
        device: ``"auto"`` (CUDA if available, else CPU), ``"cpu"``, ``"cuda"``, ``"cuda:k"`` or a
            ``torch.device`` of those kinds.

    Raises:
        ValueError: an unknown device string or kind, or a CUDA device that is not available here
            (no GPU, or index k ≥ the number of GPUs).
    """
    if device is None or (isinstance(device, str) and device == "auto"):
        return torch.device("cuda") if torch.cuda.is_available() else torch.device("cpu")
    if not isinstance(device, (str, torch.device)):
        raise ValueError(
            f"device must be 'auto', 'cpu', 'cuda', 'cuda:<index>' or a torch.device; got {device!r}"
        )
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError, ValueError):
        raise ValueError(
            f"device must be 'auto', 'cpu', 'cuda', 'cuda:<index>' or a torch.device; got {device!r}"
        ) from None
    if dev.type == "cpu":
        return torch.device("cpu")
    if dev.type != "cuda":
        raise ValueError(f"device type must be 'cpu' or 'cuda'; got {device!r} (type {dev.type!r})")
    if not torch.cuda.is_available():
        raise ValueError(f"device={device!r} was requested but CUDA is not available on this machine; use 'cpu' or 'auto'")
    count = torch.cuda.device_count()
    if dev.index is not None and dev.index >= count:
        raise ValueError(f"device={device!r} does not exist: this machine has {count} CUDA device(s) (0..{count - 1})")
    return dev


def resolve_dtype(dtype: Any = torch.float64) -> torch.dtype:
    """Return ``torch.float32`` or ``torch.float64`` from a dtype or its name.

    Raises:
        ValueError: any other dtype (half precision underflows ε = 1e-16 and (g − m)², THEORY §1.3).
    """
    if isinstance(dtype, str) and dtype in DTYPES:
        return DTYPES[dtype]
    if dtype in (torch.float32, torch.float64):
        return dtype
    raise ValueError(f"dtype must be one of torch.float32, torch.float64, 'float32', 'float64'; got {dtype!r}")


def device_name(device: torch.device) -> str:
    """Human-readable name of the hardware behind ``device`` (the GPU model, or the CPU)."""
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    return platform.processor() or platform.machine() or "cpu"


@dataclass(frozen=True)
class RunRecord:
    """Provenance of an engine run.

    Attributes:
        device: the torch device string (``"cpu"``, ``"cuda:0"``).
        device_name: the hardware (GPU model or CPU).
        dtype: ``"float32"`` or ``"float64"``.
        torch_version: ``torch.__version__``.
        seed: the base seed of the problem's data (``None`` for deterministic problems).
        world_size: number of processes that shared the runs (1 unless distributed).
    """

    device: str
    device_name: str
    dtype: str
    torch_version: str
    seed: int | None
    world_size: int = 1

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def make_record(device: torch.device, dtype: torch.dtype, seed: int | None, world_size: int = 1) -> RunRecord:
    """Build the :class:`RunRecord` of a run on ``device`` in ``dtype`` with base ``seed``."""
    if device.type == "cuda" and device.index is None:
        device = torch.device("cuda", torch.cuda.current_device())
    return RunRecord(
        device=str(device),
        device_name=device_name(device),
        dtype=str(dtype).replace("torch.", ""),
        torch_version=torch.__version__,
        seed=seed,
        world_size=world_size,
    )
