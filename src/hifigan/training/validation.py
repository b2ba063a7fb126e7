"""Validation: every whole held-out utterance through the generator (eval mode, no gradients), as the official
code, its mean mel L1, and the audio and mel images of the first few clips for TensorBoard."""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable, Iterator

import numpy as np
import torch
from torch import nn

from hifigan.config import HifiganConfig
from hifigan.data.dataset import VocoderDataset
from hifigan.evaluation.spectral import mel_l1
from hifigan.mel import MelSpectrogram
from hifigan.training.run_log import RunLog, mel_figure


class Validation:
    """The held-out clips and how to score them; `media_clips` clips also go to TensorBoard as audio and mels."""

    def __init__(self, valid_set: VocoderDataset, config: HifiganConfig, device: torch.device,
                 autocast: Callable[[], contextlib.AbstractContextManager], media_clips: int) -> None:
        self.valid_set, self.config, self.device, self.autocast = valid_set, config, device, autocast
        self.media_clips = media_clips
        self.input_mel = MelSpectrogram(**config.mel_kwargs())
        self.logged_references = False

    @torch.no_grad()
    def run(self, generator: nn.Module, step: int, epoch: int, log: RunLog | None) -> float:
        """Mean mel L1 (loss mel) over the held-out clips, logged as val/mel_l1 (NaN when there are none)."""
        if len(self.valid_set) == 0:
            return math.nan
        errors = []
        for i, mel, audio, y_hat in self.vocode(generator):
            errors.append(mel_l1(audio, y_hat, self.config))
            if log and i < self.media_clips:
                self._log_media(log, step, i, mel, audio, y_hat)
        value = float(np.mean(errors))
        if log:
            log.scalars(step, {"val/mel_l1": value}, epoch=epoch)
        return value

    def vocode(self, generator: nn.Module) -> Iterator[tuple[int, torch.Tensor, torch.Tensor, torch.Tensor]]:
        """(index, input mel, reference audio, generated audio as float32 on the CPU) for each held-out clip.

        Frame i's audio is samples [i hop, (i + 1) hop) in either framing, so sample n of one is sample n of the
        other; the generated audio stops at the recording's end (centred framing's 1 + T // hop frames give up
        to a hop more)."""
        generator.eval()
        try:
            with torch.no_grad():
                for i in range(len(self.valid_set)):
                    mel, audio, _, _ = self.valid_set[i]
                    with self.autocast():
                        y_hat = generator(mel.unsqueeze(0).to(self.device))
                    yield i, mel, audio, y_hat.float().reshape(-1)[: audio.shape[-1]].cpu()
        finally:
            generator.train()

    def _log_media(self, log: RunLog, step: int, i: int, mel: torch.Tensor, audio: torch.Tensor,
                   y_hat: torch.Tensor) -> None:
        clip = self.valid_set.clips[i].id
        sr = self.config.sampling_rate
        writer = log.writer
        if not self.logged_references:
            writer.add_audio(f"reference/{clip}", audio.unsqueeze(0), step, sr)
        writer.add_audio(f"generated/{clip}", y_hat.unsqueeze(0), step, sr)
        generated = self.input_mel(y_hat).numpy()
        writer.add_figure(f"mel/{clip}", mel_figure(mel.numpy(), generated, clip), step, close=True)
        if i == min(self.media_clips, len(self.valid_set)) - 1:
            self.logged_references = True
