"""The --device check every command shares (vocode, serve, bench, train, demo): a torch.device, or one line that
names the option, the value and what is accepted."""

from __future__ import annotations

import torch

from hifigan.errors import HifiganError
from hifigan.messages.option_names import setting

ACCEPTED = "accepted: cpu, cuda, cuda:N"


def resolve_device(device: str | torch.device, cli: bool) -> torch.device:
    """A torch.device, with a one-line error naming it for an unknown name, CUDA asked for and absent (or a GPU
    index beyond the GPUs), and any other device this torch cannot compute on here (mps, xpu, ... where torch was
    built without it or finds none; meta, which holds no values). `cli` False (training from Python): the error names
    the field, `device='mps'` (option_names)."""
    name = setting("device", str(device) if isinstance(device, torch.device) else device, cli)  # None: as written
    try:
        device = torch.device(device)
    except (RuntimeError, TypeError):
        raise HifiganError(None, f"{name}: not a device ({ACCEPTED})") from None
    if device.type == "cpu":
        return device
    if device.type == "cuda" and not torch.cuda.is_available():
        raise HifiganError(None, f"{name}: CUDA is not available on this machine")
    if device.type == "cuda" and device.index is not None and device.index >= torch.cuda.device_count():
        raise HifiganError(None, f"{name}: this machine has {torch.cuda.device_count()} CUDA device(s)")
    if device.type == "meta":
        raise HifiganError(None, f"{name}: a meta device holds no values to compute with ({ACCEPTED})")
    if device.type != "cuda":
        try:  # torch names devices it was not built for (mps on Linux, xpu, ...): they fail at first use, not here
            torch.empty(1, device=device)
        except Exception:  # RuntimeError, NotImplementedError, AssertionError, ModuleNotFoundError, ... by backend
            raise HifiganError(None, f"{name}: torch cannot use this device on this machine "
                                     f"({ACCEPTED})") from None
    return device
