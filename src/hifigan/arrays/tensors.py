"""Whether a value is a torch tensor, asked without importing torch, so that the modules that take a numpy array or
a tensor (hifigan.audio, hifigan.mel_file, hifigan.arrays.mel_shape) leave torch out of commands that need only numpy:
`hifigan check-mel` judges a mel in a fraction of torch's ~1.5 s of start-up."""

from __future__ import annotations

import sys


def is_tensor(value: object) -> bool:
    """isinstance(value, torch.Tensor); False while torch is not imported, as no tensor can exist before it is."""
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(value, torch.Tensor)
