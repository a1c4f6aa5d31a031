"""The one check of a `--device` option, shared by every command that runs a network."""
from __future__ import annotations

from .errors import BadOption


def check_device(device: str) -> str:
    """`device` if it is cpu, cuda or cuda:N and there is such a device here; one clear BadOption otherwise
    (torch's own error lists a score of device kinds this project never runs on)."""
    if not isinstance(device, str):
        raise BadOption(f"--device must be cpu, cuda or cuda:N, not {device!r}")
    kind, colon, index = device.partition(":")
    if kind not in ("cpu", "cuda") or (colon and not (kind == "cuda" and index.isdigit())):
        raise BadOption(f"--device must be cpu, cuda or cuda:N, not {device!r}")
    if kind == "cpu":
        return device
    import torch

    if not torch.cuda.is_available():
        raise BadOption("--device cuda asked for, but no CUDA device is available")
    if index and int(index) >= torch.cuda.device_count():
        raise BadOption(f"--device {device}: there are only {torch.cuda.device_count()} CUDA devices")
    return device
