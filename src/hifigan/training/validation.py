"""The validation: every whole held-out utterance through the generator, as the official code, its mean mel L1, and
the audio and mel images of the first few clips. At vocoding speed: clips are read by DataLoader workers and vocoded
in batches with exact context (`Vocoder.batch`: each clip's audio is what it would be alone), by a copy of the
generator with its weight norms folded once per pass. Always in the weights' own precision (fp32), also in a bf16
run: bf16 vocoding scores V1 ~8% worse than its weights do, which would make val/mel_l1 measure rounding, not
the model, and make a resume in another precision pick its best by precision. Passes in a few padded shapes
(VALIDATION_BUCKETS), so that the memory a convolution library keeps per shape stays bounded."""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset

from hifigan.checkpoints.run_files import REFERENCES_KEY
from hifigan.config import HifiganConfig
from hifigan.data.carried import CarryFailures, listed, raise_failures
from hifigan.data.dataset import VocoderDataset
from hifigan.evaluation.spectral import loss_log_mel
from hifigan.files.paths import same_file
from hifigan.inference.engines import resolve_backend
from hifigan.inference.packing import Buckets
from hifigan.inference.vocoder import Vocoder
from hifigan.mel import MelSpectrogram
from hifigan.models.generators import empty_generator, fold_norms, layer_description
from hifigan.runtime.cpus import usable_cpus
from hifigan.training.mel_images import MelImages
from hifigan.training.reporting import RunLog
from hifigan.training.run_folder import run_folder_of
from hifigan.training.worker_deaths import fetched, started
from hifigan.training.worker_signals import end_workers, leave_stop_signals_to_parent

BATCH_FRAMES = 4000  # mel frames per batch (laid end to end, hifigan.inference.packing): bounds memory
BATCH_CLIPS = 16
# Every pass padded to one of a few shapes, never run as it is (docs/training-at-scale.md, Memory): a convolution
# library keeps what it set up per shape (oneDNN's primitive cache: up to 1024), and each batch's clips laid end to
# end are a length of their own, so, unbucketed, a varied held-out set filled it and the run kept that to its end.
VALIDATION_BUCKETS = Buckets(exact_after=None)


def frame_batches(frames: Sequence[int], budget: int = BATCH_FRAMES, most: int = BATCH_CLIPS) -> list[list[int]]:
    """Consecutive indices in groups of at most `most` clips and `budget` frames in all; a clip longer than the
    budget is a group of its own."""
    groups: list[list[int]] = []
    total = 0
    for i, n in enumerate(frames):
        if groups and len(groups[-1]) < most and total + n <= budget:
            groups[-1].append(i)
            total += n
        else:
            groups.append([i])
            total = n
    return groups


def official_mel_error(reference: torch.Tensor, generated: torch.Tensor) -> float:
    """The official validation error of one clip: the mean |difference| of the loss log-mels of the whole recording
    and of the generated audio (in the official framing the frame counts agree; a teacher-forced mel a frame
    shorter or longer than its audio is compared over the frames both have)."""
    frames = min(reference.shape[-1], generated.shape[-1])
    return torch.nn.functional.l1_loss(generated[..., :frames], reference[..., :frames]).item()


class _Scored(Dataset):
    """The held-out items with what the score compares against, prepared in the loader's workers: the loss log-mel
    of the whole recording, as the official validation computes it (its last frames see the samples past the
    generated audio's end, mel frames x hop)."""

    def __init__(self, valid_set: VocoderDataset, config: HifiganConfig) -> None:
        self.valid_set, self.config = valid_set, config

    def __len__(self) -> int:
        return len(self.valid_set)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, int]:
        mel, audio, _, i = self.valid_set[index]
        return mel, audio, loss_log_mel(audio, self.config), i


class _Passes:
    """A loader's batch_sampler: a pass's batches, none while `idle` (an iterator started then starts the workers and
    gives them nothing to read)."""

    def __init__(self, batches: list[list[int]]) -> None:
        self.batches, self.idle = batches, False

    def __iter__(self) -> Iterator[list[int]]:
        return iter([] if self.idle else self.batches)

    def __len__(self) -> int:
        return 0 if self.idle else len(self.batches)


class Validation:
    """The held-out clips and how to score them; `media_clips` clips also go to TensorBoard as audio and mels;
    `num_workers` DataLoader processes read and prepare the clips; `backend`: what vocodes them (hifigan.inference)."""

    def __init__(self, valid_set: VocoderDataset, config: HifiganConfig, device: torch.device, media_clips: int,
                 num_workers: int = 0, backend: str = "auto") -> None:
        self.valid_set, self.config, self.device = valid_set, config, device
        self.media_clips, self.backend = media_clips, backend
        self.num_workers = min(num_workers, usable_cpus())
        self.input_mel = MelSpectrogram(**config.mel_kwargs())
        self.references_step: int | None = None  # the step the run logged the reference audio at (once a run)
        self.batches = frame_batches((valid_set.clips.num_samples // config.hop_size + 1).tolist())
        self._vocoder: Vocoder | None = None
        self._kept: DataLoader | None = None  # the loader whose workers serve every pass, inside workers_kept
        self.mel_images = MelImages()  # the media clips' figures, kept from one validation to the next

    @torch.no_grad()
    def run(self, generator: nn.Module, step: int, epoch: int, log: RunLog | None) -> float:
        """Mean mel L1 (loss mel) over the held-out clips, logged as val/mel_l1 (NaN when there are none). Torch's
        global RNG is left as it was (a generator copy that empty_generator builds initialised draws from it): a run
        validates when it stops, so otherwise a resumed run's RNG states would differ from a straight run's."""
        if len(self.valid_set) == 0:
            return math.nan
        cuda = [] if self.device.type != "cuda" else [torch.cuda.current_device() if self.device.index is None
                                                      else self.device.index]
        with torch.random.fork_rng(devices=cuda):
            return self._score(generator, step, epoch, log)

    def _score(self, generator: nn.Module, step: int, epoch: int, log: RunLog | None) -> float:
        errors = np.zeros(len(self.valid_set))
        for i, mel, audio, y_hat, reference in self._vocoded(generator):
            errors[i] = official_mel_error(reference, loss_log_mel(y_hat, self.config))
            if log and i < self.media_clips:
                self._log_media(log, step, i, mel, audio, y_hat)
        value = float(np.mean(errors))
        if log:
            log.scalars(step, {"val/mel_l1": value}, epoch=epoch)
        return value

    def vocoder(self, generator: nn.Module) -> Vocoder:
        """A Vocoder holding `generator`'s current weights, folded (a copy: the training model is untouched), on
        `backend` (all compute the same function; `auto`: the fastest exact one). An eager one is built once and
        later passes load the new folded weights into it; an engine (which holds its own copy) is built per pass."""
        copy = empty_generator(self.config).to(self.device, next(generator.parameters()).dtype)
        copy.load_state_dict(generator.state_dict())
        if self._vocoder is not None and self._vocoder.backend == "eager":
            self._vocoder.generator.load_state_dict(fold_norms(copy.eval()).state_dict())
        else:
            self._vocoder = Vocoder(copy, self.config, self.device, backend=self._backend(copy),
                                    shape_buckets=VALIDATION_BUCKETS)  # it folds the copy
        return self._vocoder

    def _backend(self, generator: nn.Module) -> str:
        """`auto` as the Vocoder resolves it for `generator`, but `tiled` for `tiled-split` on the CPU: tiled-split
        keeps a thread pool, and DataLoader workers forked while its threads live (this pass's, or training's next
        epoch) can spin forever in MKL's allocator (seen here)."""
        if self.backend != "auto":
            return self.backend
        layers = layer_description(generator)
        undescribed = None if layers is not None else type(generator).__name__
        chosen = resolve_backend("auto", self.device, "fp32", layers, undescribed, cli=False)  # names no setting
        return "tiled" if chosen == "tiled-split" else chosen

    def vocode(self, generator: nn.Module) -> Iterator[tuple[int, torch.Tensor, torch.Tensor, torch.Tensor]]:
        """(index, input mel, reference audio, generated audio on the CPU, float32, float64 for a float64 generator)
        for each held-out clip, in index order.

        Frame i's audio is samples [i hop, (i + 1) hop) in either framing, so sample n of one is sample n of the
        other; the generated audio stops at the recording's end (centred framing's 1 + T // hop frames give up
        to a hop more)."""
        for i, mel, audio, y_hat, _ in self._vocoded(generator):
            yield i, mel, audio, y_hat

    def _vocoded(self, generator: nn.Module) -> Iterator[tuple[int, torch.Tensor, torch.Tensor, torch.Tensor,
                                                                torch.Tensor]]:
        vocoder = self.vocoder(generator)
        # A held-out clip that no longer loads, or a worker that dies, stops the run as in training (data.carried:
        # ClipLoadError; training.worker_deaths: WorkerDied).
        loader = self._loader(_Passes(self.batches), persistent=False) if self._kept is None else self._kept
        for batch in raise_failures(fetched(loader)):
            outputs = vocoder.batch([mel for mel, _, _, _ in batch])
            for (mel, audio, reference, i), y_hat in zip(batch, outputs):
                y_hat = y_hat if y_hat.dtype == torch.float64 else y_hat.float()
                yield i, mel, audio, y_hat[: audio.shape[-1]], reference

    def _loader(self, passes: _Passes, persistent: bool) -> DataLoader:
        """The held-out clips in `passes`' batches, read and scored by `num_workers` processes."""
        return DataLoader(CarryFailures(_Scored(self.valid_set, self.config)), batch_sampler=passes,
                          num_workers=self.num_workers, collate_fn=listed, persistent_workers=persistent,
                          worker_init_fn=leave_stop_signals_to_parent if self.num_workers else None,
                          generator=torch.Generator().manual_seed(0))  # leaves torch's global RNG as it was

    @contextlib.contextmanager
    def workers_kept(self, start: bool) -> Iterator[None]:
        """Where `start` (a fit that validates), the block's passes share one set of workers, started now and ended
        with the block, not a start each (a fork that copies the page tables of the process holding the models, whose
        every page written next is copied again); started now, before the fit's training workers, they share the
        pages those keep, not another copy of the models and optimizer states. They read nothing until a pass: each
        reads the clips as they are then. Elsewhere each pass starts its own."""
        if not start or self.num_workers == 0 or not self.batches or self._kept is not None:
            yield
            return
        passes = _Passes(self.batches)
        self._kept = self._loader(passes, persistent=True)
        try:
            passes.idle = True
            started(self._kept)  # the loader keeps the iterator; each pass resumes it (its workers) for its batches
            passes.idle = False
            yield
        finally:
            kept, self._kept = self._kept, None
            end_workers(kept)

    def _log_media(self, log: RunLog, step: int, i: int, mel: torch.Tensor, audio: torch.Tensor,
                   y_hat: torch.Tensor) -> None:
        clip = self.valid_set.clips[i].id
        sr = self.config.sampling_rate
        image = self.mel_images.image(clip, mel.numpy(), self.input_mel(y_hat.float()).numpy())
        with log.tensorboard() as writer:
            if self.references_step is None:
                writer.add_audio(f"reference/{clip}", audio.unsqueeze(0), step, sr)
            writer.add_audio(f"generated/{clip}", y_hat.float().unsqueeze(0), step, sr)
            writer.add_image(f"mel/{clip}", image, step, dataformats="HWC")
        if i == min(self.media_clips, len(self.valid_set)) - 1 and self.references_step is None:
            self.references_step = step


def references_logged(obj: dict[str, Any], source: Path, out: Path) -> int | None:
    """The step at which the run of checkpoint `obj` (read from `source`) logged its reference audio, where a run
    resumed from it logs into that run's folder (whose events keep what was logged up to the checkpoint); else
    None (another folder, or a checkpoint made before this was stored): the next validation logs them."""
    step = obj.get(REFERENCES_KEY)
    return int(step) if step is not None and same_file(run_folder_of(Path(source)), out) else None
