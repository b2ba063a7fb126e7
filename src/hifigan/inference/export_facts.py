"""What an exported file (`hifigan export`) says of the mel its model takes, so that whoever holds only the file can
make that mel: ONNX `metadata_props` and TorchScript `_extra_files`, the same keys and strings in both.

A normalised model (mel_stats) given plain mels vocodes wrong audio without any error; the file carries its
statistics' values, the rate, hop and bins, the convention, floor and framing, and the whole config.
"""

from __future__ import annotations

import json
import os
import zipfile
from typing import Any

from hifigan.config import HifiganConfig
from hifigan.errors import HifiganError
from hifigan.melconv.model import ModelMel
from hifigan.melconv.stats import inline_stats

# The config's keys that define the input mel, each stored under its own name (the config's value, mel_stats as
# its values), with "mel" (ModelMel.label, as /v1/info's "mel"), "io" (the tensors in words, the mel as
# ModelMel.named) and "config"; an exported front-end (export_frontend.frontend_bytes) adds "min_samples", the
# shortest audio it takes.
INPUT_KEYS = ("sampling_rate", "hop_size", "num_mels", "n_fft", "win_size", "fmin", "fmax", "mel_convention",
              "mel_floor", "mel_framing", "mel_magnitude_eps", "mel_stats")
KEYS = ("mel", *INPUT_KEYS, "io", "config")
FRONTEND_KEYS = (*KEYS, "min_samples")


def _text(value: Any) -> str:
    """A string as it is; anything else (numbers, null, the statistics, the config) as JSON."""
    return value if isinstance(value, str) else json.dumps(value)


def input_facts(config: HifiganConfig) -> dict[str, str]:
    """The model's input described as string key/values (KEYS): a statistics file in mel_stats is stored as its
    values (the file does not travel with the export)."""
    mel = ModelMel.of(config)
    values = config.to_dict()
    values["mel_stats"] = None if mel.stats is None else inline_stats(mel.stats)
    facts = {"mel": mel.label, **{key: _text(values[key]) for key in INPUT_KEYS}}
    facts["io"] = (f"input 'mel' float32 [batch, {config.num_mels}, frames]: {mel.named(rate=True)}; output 'audio' "
                   f"float32 [batch, frames * {config.hop_size}]")
    facts["config"] = json.dumps(values)
    return facts


def frontend_facts(config: HifiganConfig, min_samples: int) -> dict[str, str]:
    """input_facts for the model's exported mel front-end (FRONTEND_KEYS): its own "io", and "min_samples"."""
    facts = input_facts(config)
    facts["io"] = (f"input 'audio' float32 [batch, samples] in [-1, 1] at {config.sampling_rate} Hz, samples >= "
                   f"{min_samples}; output 'mel' float32 [batch, {config.num_mels}, frames]: "
                   f"{ModelMel.of(config).named()}")
    facts["min_samples"] = str(min_samples)
    return facts


def with_onnx_facts(model: bytes, facts: dict[str, str]) -> bytes:
    """An ONNX model's bytes with `facts` as its metadata_props."""
    import onnx

    proto = onnx.load_from_string(model)
    onnx.helper.set_model_props(proto, facts)
    return proto.SerializeToString()


def read_facts(path: str | os.PathLike) -> dict[str, str]:
    """The facts stored in an exported .onnx (onnx package) or TorchScript file; {} for a file written without
    them. A file that is neither is a one-line HifiganError."""
    if zipfile.is_zipfile(path):  # TorchScript is a zip archive; its extra files are read by name
        import torch

        extra = dict.fromkeys(KEYS, "")
        try:
            torch.jit.load(path, map_location="cpu", _extra_files=extra)
        except RuntimeError as e:
            raise HifiganError(path, f"not a TorchScript file ({' '.join(str(e).split())[:200]})") from None
        return {key: value.decode() if isinstance(value, bytes) else value for key, value in extra.items() if value}
    from hifigan.runtime.extras import optional_import

    onnx = optional_import("onnx", "reading an ONNX file")
    try:
        model = onnx.load(os.fspath(path), load_external_data=False)
    except Exception as e:  # onnx raises DecodeError and others for a file that is not a model
        raise HifiganError(path, f"not an ONNX or TorchScript file ({type(e).__name__})") from None
    return {prop.key: prop.value for prop in model.metadata_props if prop.key in FRONTEND_KEYS}
