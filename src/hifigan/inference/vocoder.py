"""`Vocoder`: log-mel in, waveform out, on any of the exact backends (`hifigan.inference.engines`), one-shot,
batched or streamed; any generator (hifigan.models.generators), the engines for those that describe their layers.
Output: [T * hop] for a [num_mels, T] mel, [B, T * hop] for a batch, the shape of the exported graphs."""

from __future__ import annotations

import os
import warnings
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING

import numpy as np
import torch
from torch import nn

from hifigan.arrays.mel_shape import unbatched
from hifigan.checkpoints.contents import load_generator
from hifigan.config import HifiganConfig, load_config
from hifigan.config.values import integer
from hifigan.errors import CheckpointError, HifiganError
from hifigan.inference.config_fit import check_fits
from hifigan.inference.engines import Runner, build_runner, resolve_backend, resolve_precision
from hifigan.inference.mel_input import MelIntake, refuse_one_mel
from hifigan.inference.ownership import check_placement, placement
from hifigan.inference.packing import Buckets, Plan, chosen_buckets, pack
from hifigan.inference.streaming import DEFAULT_CHUNK_FRAMES, ReceptiveField, split_frames, stream
from hifigan.messages.plural import a_type
from hifigan.models.generators import fold_norms, layer_description
from hifigan.models.receptive_field import generator_field
from hifigan.runtime.devices import resolve_device

if TYPE_CHECKING:
    from hifigan.melconv.conventions import MelStats


class Vocoder:
    """A ready-to-run generator: eval mode, weight norm folded, no autograd, on the chosen backend.

    It takes the generator it is given over (folds, freezes and casts it in place to its precision): to vocode with
    a model you keep training, give it a copy built from the state dict (not `copy.deepcopy`, whose copy shares
    torch's parametrized classes, so folding it would break the original). A Vocoder itself deep-copies and pickles
    on every backend (__getstate__)."""

    def __init__(
        self, generator: nn.Module, config: str | os.PathLike | HifiganConfig, device: str | torch.device = "cpu",
        backend: str = "auto", precision: str = "fp32", shape_buckets: bool | Buckets | None = None, *,
        cli: bool = False,
    ) -> None:
        """`config`: a HifiganConfig, or a preset's name or a file's path, as from_checkpoint takes it. `cli`: a
        command builds it, whose refusals and warnings name its options (`--precision bf16`), not these arguments
        (`precision='bf16'`)."""
        if not isinstance(generator, nn.Module):
            hint = (" (a state dict? Vocoder.from_checkpoint(state_dict, config=...) reads one)"
                    if isinstance(generator, dict) else " (a checkpoint's path? Vocoder.from_checkpoint(path) reads it)"
                    if isinstance(generator, str | os.PathLike) else "")
            raise TypeError(f"generator must be a torch.nn.Module (the generator model), not {a_type(generator)}{hint}")
        config = load_config(config)
        self.device = resolve_device(device, cli=False)  # built from Python; the commands check --device first
        # Whole mels and batches run in passes of a few shapes; a Buckets: those (a server's, hifigan.serve.limits).
        self.buckets: Buckets | None = chosen_buckets(shape_buckets, self.device.type == "cuda")
        self._asked: Counter[tuple[int, int]] = Counter()  # (rows, frames) -> passes asked for: see _seen
        # What the engines read (every layer's kind, geometry and activation); None: a generator that does not
        # describe its layers, which only `eager` runs (its own forward).
        self.layers = layer_description(generator)
        if self.layers is not None:  # the config of the model as built (a fork's dilations cut), as an export records
            config = check_fits(generator, self.layers, config)
        self.config = config
        undescribed = None if self.layers is not None else type(generator).__name__
        self.backend = resolve_backend(backend, self.device, precision, self.layers, undescribed, cli=cli)
        self.precision, self.dtype = precision, resolve_precision(precision)
        weights = next(generator.parameters()).dtype
        if self.dtype == torch.float32 and weights in (torch.float16, torch.bfloat16):
            generator.float()  # a generator the caller made half: fp32 asked, so cast in place (exactly), as fp16 is
        if self.dtype == torch.float32 and weights == torch.float64:
            self.dtype = torch.float64  # a float64 generator (the exactness tests) runs in float64 end to end
            if self.backend.startswith("onnx"):
                raise HifiganError(None, f"backend {self.backend} runs float32 only (ONNX Runtime has no float64 conv)")
        self.io_dtype = torch.float64 if self.dtype == torch.float64 else torch.float32  # of mels in and audio out
        self.intake = MelIntake(config, self.io_dtype)  # mels in: shape, values, convention (set_mel_convention)
        self.generator = fold_norms(generator.to(self.device).eval())
        self.generator.requires_grad_(False)
        # From the layers, the generator's own receptive_field(), or measured once (hifigan.models.receptive_field).
        field, source = generator_field(self.generator, config.num_mels, config.hop_size)
        self.receptive_field: ReceptiveField = field
        if undescribed is not None:
            auto = "backend auto: " if backend == "auto" else ""
            warnings.warn(f"{auto}{undescribed} has no layer description (layers()); running eager, receptive field "
                          f"{field.left} past + {field.right} future frames ({source})", RuntimeWarning, stacklevel=2)
        self._runner = self._engine()
        self._placement = placement(self.generator)  # what each pass checks (hifigan.inference.ownership)

    def _engine(self) -> Runner:
        """The backend's runner of `self.generator`, at the precision asked."""
        runner = build_runner(self.generator, self.backend, self.device)
        if self.precision != "fp32":  # eager or fused (resolve_backend): modules, cast in place
            runner.to(self.dtype)
        return runner

    def __getstate__(self) -> dict[str, object]:
        """What copy.deepcopy and pickle copy: all but the runner (a thread pool, an ONNX Runtime session, CUDA
        graphs: nothing a copy may share or pickle can write), which the copy builds anew from its own generator."""
        return {k: v for k, v in self.__dict__.items() if k != "_runner"}

    def __setstate__(self, state: dict[str, object]) -> None:
        self.__dict__.update(state)
        self._runner = self._engine()

    @classmethod
    def from_checkpoint(
        cls,
        path: str | os.PathLike | dict,
        config: str | os.PathLike | HifiganConfig | None = None,
        device: str | torch.device = "cpu",
        backend: str = "auto",
        precision: str = "fp32",
        shape_buckets: bool | Buckets | None = None,
    ) -> Vocoder:
        """Our checkpoint (config inside), an official `g_*` file or a generator's bare state dict (`config`; without
        one, the official config.json beside it, noted by a hifigan.errors.Note warning: checkpoints.contents); the
        file, or its contents already loaded (a dict: read as the file would be)."""
        from hifigan.pretrained import named_like_a_file

        try:
            generator, cfg = load_generator(path, config)
        except CheckpointError as e:
            raise named_like_a_file(e, path, cli=False) from None
        return cls(generator, cfg, device, backend, precision, shape_buckets)

    @classmethod
    def from_pretrained(cls, name: str, device: str | torch.device = "cpu", backend: str = "auto",
                        precision: str = "fp32", shape_buckets: bool | Buckets | None = None) -> Vocoder:
        """A registered pretrained generator (`lj-v1`, `universal-v1`; see hifigan.pretrained), hash-checked."""
        from hifigan.pretrained import load_pretrained

        generator, cfg = load_pretrained(name)
        return cls(generator, cfg, device, backend, precision, shape_buckets)

    @property
    def hop_size(self) -> int:
        """Audio samples per mel frame, for every generator."""
        return self.config.hop_size

    @property
    def worker_cpu_seconds(self) -> float:
        """CPU seconds spent so far by the engine's own worker threads (the split backends' pool; 0 for the others):
        work a caller's thread hands off and so does not see in its own CPU time."""
        return float(getattr(self._runner, "cpu_seconds", 0.0))

    def _run(self, mel: torch.Tensor) -> torch.Tensor:
        """[B, num_mels, T] -> [B, T * hop] on the CPU, in `self.io_dtype`; the generator's placement checked."""
        check_placement(self.generator, self._placement)
        return self._pass(mel)

    def _pass(self, mel: torch.Tensor) -> torch.Tensor:
        """`_run` without the placement check: for the passes of one plan, checked once before them."""
        with torch.inference_mode():
            return self._runner(mel.to(self.device, self.dtype)).squeeze(1).to(self.io_dtype).cpu()

    def set_mel_convention(self, spec: str | None, stats: str | os.PathLike | MelStats | None = None,
                           db_ref: float | None = None) -> Vocoder:
        """Convert every input mel from convention `spec` (see hifigan.melconv) to the model's own first (its
        config's mel_convention; exact maps only). None, or the model's own: no conversion. `stats`: for
        meanstd/minmax, the inputs' normalisation (a statistics file as `--mel-stats` reads, or a MelStats; None:
        the model's own mean/std); `db_ref`: for db-ref, the reference amplitude (a number > 0). What is missing or
        of the wrong kind fails here, not when a mel is vocoded."""
        self.intake.set_convention(spec, stats, db_ref)
        return self

    def __call__(self, mel: torch.Tensor | np.ndarray) -> torch.Tensor:
        """[num_mels, T] -> [T * hop] or [B, num_mels, T] -> [B, T * hop], float32 (float64 for a float64
        generator) on the CPU."""
        mel = self.intake.whole(mel)
        single = mel.dim() == 2
        mel = mel.unsqueeze(0) if single else mel
        if mel.shape[0] == 0:  # an empty batch: no pass (the tiled and invariant engines cannot size one)
            return mel.new_zeros((0, mel.shape[2] * self.config.hop_size))
        if self.buckets is None or self._seen([(mel.shape[0], mel.shape[2])]):  # the plan of equal mels: one pass
            audio = self._run(mel)
            if audio.is_inference() and not torch.is_inference_mode_enabled():  # as batch and stream return it:
                audio = audio.clone()  # an ordinary tensor (`audio *= gain`, autograd), not inference_mode's
        else:
            items = list(mel)
            audio = torch.stack(self._run_plan(items, pack([mel.shape[2]] * len(items), self.receptive_field,
                                                           buckets=self.buckets)))
        return audio[0] if single else audio

    def batch(
        self, mels: Sequence[torch.Tensor | np.ndarray], keep: Sequence[tuple[int, int]] | None = None
    ) -> list[torch.Tensor]:
        """Vocode mels of different lengths together; each output equals vocoding that mel alone.

        Mels of one length are stacked as rows; the others are laid end to end as one sequence, the frames near its
        inner boundaries coming from windows of their own mel (`hifigan.inference.packing`): no padding, one pass
        per stacked length, one for the sequence and one for the edge windows (with `shape_buckets`: each pass
        padded to one of a few shapes, never where a wanted frame's receptive field reaches).
        `keep[i]` = (a, b): only the audio of mel i's frames [a, b) is wanted and returned, [(b - a) * hop] (a
        streaming window, which keeps frames away from both its ends, then needs no edge windows at all).
        """
        refuse_one_mel(mels, "batch takes a sequence of mels",
                       "vocoder(mel) vocodes it, vocoder.batch([mel]) as a batch of one")
        items = [self.intake.whole(m, dims=(2,), source=f"mel {i}") for i, m in enumerate(mels)]
        lengths = [m.shape[1] for m in items]
        plan = pack(lengths, self.receptive_field, keep)
        if self.buckets is not None and not self._seen(plan.shapes):
            plan = pack(lengths, self.receptive_field, keep, self.buckets)
        return self._run_plan(items, plan)

    def _run_plan(self, items: list[torch.Tensor], plan: Plan) -> list[torch.Tensor]:
        """The audio `plan` wants of each of `items` (checked mels, in the model's convention already)."""
        hop = self.hop_size
        check_placement(self.generator, self._placement)  # once per plan, not per pass: it walks every module
        passes = []
        for rows, (height, width) in zip(plan.runs, plan.shapes):
            mel = torch.zeros(height, self.config.num_mels, width, dtype=self.io_dtype)  # zeros: the padding
            for r, row in enumerate(rows):
                at = 0
                for w in row:
                    mel[r, :, at : at + w.frames] = items[w.item][:, w.start : w.stop]
                    at += w.frames
            passes.append(self._pass(mel))
        empty = torch.zeros(0, dtype=self.io_dtype)
        return [torch.cat([empty, *(passes[p.run][p.row, p.offset * hop : (p.offset + p.stop - p.start) * hop]
                                    for p in pieces)]) for pieces in plan.pieces]

    def _seen(self, shapes: list[tuple[int, int]]) -> bool:
        """Whether passes of these (rows, frames) have each been asked for `buckets.exact_after` times before, counting
        this time: a plan whose shapes keep coming back (a fixed-length loop, a repeated batch) then runs as it is,
        its set-up repaid by the calls after it; until then, and for one-offs, bucketed passes, whose shapes come
        back (Buckets)."""
        needed = self.buckets.exact_after if self.buckets is not None else 0
        if needed is None:  # never exact: no bookkeeping either
            return False
        seen = all(self._asked[shape] >= needed for shape in shapes)
        if len(self._asked) > 4096:  # a bound on a long-running caller's bookkeeping
            self._asked.clear()
        self._asked.update(shapes)
        return seen

    def stream(self, mel_chunks: Iterable[torch.Tensor | np.ndarray], min_frames: int = 1) -> Iterator[torch.Tensor]:
        """Audio chunks for [num_mels, t] mel chunks (or [1, num_mels, t]: a batch of one, as an acoustic model
        gives it); concatenated, they equal `self(whole mel)`.

        Each frame's audio leaves once `receptive_field.right` later frames have arrived (the look-ahead);
        memory stays bounded by the chunk size plus the receptive field. Each chunk is converted from the
        `set_mel_convention` convention as a whole mel would be (the maps act frame by frame). `min_frames`: the
        fewest frames a window vocodes (an integer >= 1; checked here, not at the first chunk).
        """
        integer("min_frames", min_frames, 1)
        refuse_one_mel(mel_chunks, "stream takes an iterable of mel chunks",
                       "vocoder(mel) vocodes it whole, vocoder.stream([mel]) streams it as one chunk")
        # Each chunk's dtype and values are checked as it arrives (a stream's chunks are small: one pass over each),
        # and its shape (before a conversion, else by the streaming cursor); every error names the chunk.
        return self._stream((self.intake.chunk(c, f"mel chunk {i}") for i, c in enumerate(mel_chunks)), min_frames)

    def _stream(self, mel_chunks: Iterable[torch.Tensor | np.ndarray], min_frames: int = 1
                ) -> Iterator[torch.Tensor]:
        return stream(self._run, mel_chunks, self.receptive_field, self.hop_size, self.config.num_mels, min_frames,
                      self.io_dtype)

    def chunked(self, mel: torch.Tensor | np.ndarray, chunk_frames: int = DEFAULT_CHUNK_FRAMES) -> torch.Tensor:
        """[num_mels, T] -> [T * hop] (a batch of one, [1, num_mels, T] -> [1, T * hop], as vocoder(mel) returns it)
        in chunks of `chunk_frames`, an integer >= 1 (bounded memory, same output as one-shot)."""
        mel = self.intake.whole(mel, batch_of_one=True)
        audio = torch.cat(list(self._stream(split_frames(unbatched(mel), chunk_frames), min_frames=chunk_frames)))
        return audio[None] if mel.dim() == 3 else audio

