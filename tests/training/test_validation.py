"""Validation at vocoding speed: held-out clips read by DataLoader workers and vocoded in batches with exact context
by a folded copy of the generator; each clip's audio and val/mel_l1 are what clip-by-clip vocoding gives (float64),
and the training generator is left as it was."""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from hifigan.audio import find_audio
from hifigan.data.clip_scan import scan_clips
from hifigan.data.dataset import VocoderDataset
from hifigan.evaluation.spectral import loss_log_mel
from hifigan.models import Generator
from hifigan.runtime.machine import cpu_computes
from hifigan.training.options import TrainOptions
from hifigan.training.trainer import Trainer
from hifigan.training.validation import VALIDATION_BUCKETS, Validation, frame_batches
from tests.support.files import write_clips
from tests.support.official_reference import reference_mel
from tests.support.tiny import tiny_config

CFG = tiny_config()


@pytest.fixture(scope="module")
def held_out(tmp_path_factory):
    """Nine clips of 0.05 to 0.6 s (3 to 300 mel frames): one batch holds very different lengths."""
    folder = tmp_path_factory.mktemp("held")
    write_clips(folder, 9, seconds=(0.05, 0.6), seed=5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clips = scan_clips(find_audio(folder), CFG, cli=True).clips
    return VocoderDataset(clips, CFG, train=False, cli=True)


def one_by_one(generator, dataset):
    """The reference: every clip alone through the training generator (weight norm as trained), as before."""
    generator.eval()
    with torch.no_grad():
        out = [generator(dataset[i][0].to(next(generator.parameters()).dtype)[None]).reshape(-1)
               for i in range(len(dataset))]
    generator.train()
    return [y[: dataset[i][1].shape[-1]] for i, y in enumerate(out)]


def official_error(audio, y_hat, mel):
    """The official validation's error of one clip: L1 between the loss mels of the whole recording and of the
    generated audio (`mel(signal, config)`), whose frame counts agree in the official framing."""
    reference, generated = mel(audio, CFG), mel(y_hat, CFG)
    assert reference.shape == generated.shape
    return torch.nn.functional.l1_loss(generated, reference).item()


def test_the_mel_error_is_the_official_validations_by_hand(held_out):
    """val/mel_l1 against the official computation written out (tests/support/official_reference.py's mel): the
    reference mel is the whole recording's, not that of the recording cut to the generated length (which it was:
    its last frames then saw reflect padding instead of the recording's tail, 2.0453 against the official 2.0451
    on two LJ clips)."""
    torch.manual_seed(2)
    generator = Generator(CFG)
    clips = [i for i, clip in enumerate(held_out.clips) if clip.num_samples % CFG.hop_size][:3]
    generated = {i: y for i, _, _, y in validation(held_out).vocode(generator) if i in clips}
    loss_mel = CFG.mel_kwargs(for_loss=True)
    by_hand = [official_error(held_out[i][1], generated[i], lambda y, _: reference_mel(y[None], **loss_mel))
               for i in clips]
    subset = VocoderDataset([held_out.clips[i] for i in clips], CFG, train=False, cli=True)
    assert validation(subset).run(generator, 0, 0, None) == pytest.approx(float(np.mean(by_hand)), rel=1e-5)


def validation(dataset, workers=0, backend="auto"):
    return Validation(dataset, CFG, torch.device("cpu"), media_clips=0, num_workers=workers, backend=backend)


def test_batched_clips_equal_clip_by_clip_in_float64(held_out):
    torch.manual_seed(0)
    generator = Generator(CFG).double()
    check = validation(held_out)
    assert len(check.batches) == 1 and len(set(c.num_samples for c in held_out.clips)) == 9  # ragged, one batch
    expected = one_by_one(generator, held_out)
    got = list(check.vocode(generator))
    assert [i for i, *_ in got] == list(range(9))
    for i, _, audio, y_hat in got:
        assert y_hat.dtype == torch.float64 and y_hat.shape == expected[i].shape and len(y_hat) > len(audio) - 16
        assert float((y_hat - expected[i]).abs().max()) < 1e-12, i
    value = check.run(generator, 0, 0, None)
    reference = float(np.mean([official_error(held_out[i][1], expected[i], loss_log_mel) for i in range(9)]))
    assert abs(value - reference) < 1e-12 * reference
    # the training generator keeps its weight norm and its training mode
    assert generator.training and any("parametrizations" in k for k in generator.state_dict())


def test_passes_take_a_few_padded_shapes_and_each_clip_is_what_it_is_alone(held_out):
    """A convolution library keeps what it set up per input shape (oneDNN's primitive cache), so every pass is padded
    to a bucket's shape, never run as it is: unbucketed, each batch was a shape of its own and a varied held-out set
    grew a run by hundreds of MB (docs/training-at-scale.md, Memory). The padding changes no clip's audio."""
    torch.manual_seed(3)
    generator = Generator(CFG).double()
    check = validation(held_out, backend="eager")  # the eager Vocoder is kept from pass to pass: its module is hooked
    frames = (held_out.clips.num_samples // CFG.hop_size + 1).tolist()
    check.batches = frame_batches(frames, budget=300, most=3)  # several batches, each laid end to end a length
    shapes: list[tuple[int, ...]] = []
    check.vocoder(generator).generator.register_forward_pre_hook(lambda _, args: shapes.append(tuple(args[0].shape)))
    got = list(check.vocode(generator))
    field = check.vocoder(generator).receptive_field
    assert len(check.batches) >= 4 and len(set(frames)) == 9
    frame_sizes = {VALIDATION_BUCKETS.frames(n) for n in range(1, 8192)}
    row_sizes = {VALIDATION_BUCKETS.rows(n) for n in range(1, 64)}
    assert shapes and all(rows in row_sizes and (width in frame_sizes or width <= field.left + field.right)
                          for rows, _, width in shapes), shapes
    assert all(rows == 1 for rows, _, width in shapes if width > field.left + field.right)  # one sequence a batch
    expected = one_by_one(generator, held_out)
    assert [i for i, *_ in got] == list(range(9))
    for i, _, _, y_hat in got:
        assert y_hat.shape == expected[i].shape and float((y_hat - expected[i]).abs().max()) < 1e-12, i
    reference = float(np.mean([official_error(held_out[i][1], expected[i], loss_log_mel) for i in range(9)]))
    assert abs(check.run(generator, 0, 0, None) - reference) < 1e-12 * reference


@pytest.mark.parametrize("backend", ["auto", "eager"])  # eager reloads one model per pass
def test_each_pass_uses_the_current_weights_and_workers_change_nothing(held_out, backend):
    torch.manual_seed(1)
    generator = Generator(CFG)
    check = validation(held_out, workers=2, backend=backend)
    first = [y for *_, y in check.vocode(generator)]
    with torch.no_grad():
        for p in generator.parameters():
            p.add_(0.01 * torch.randn_like(p))
    second = [y for *_, y in check.vocode(generator)]
    in_process = [y for *_, y in validation(held_out).vocode(generator)]
    expected = one_by_one(generator, held_out)
    for a, b, c, e in zip(first, second, in_process, expected):
        assert not torch.allclose(a, b)
        # a worker's mel may round differently (its threads; on the AVX2 Zen 3, 1.2e-7): stale weights differ by ~1e-2
        torch.testing.assert_close(b, c, rtol=1e-5, atol=1e-6)
        torch.testing.assert_close(b, e, rtol=1e-4, atol=1e-5)  # float32: batched vs alone round differently


@pytest.mark.skipif(not cpu_computes("bf16"), reason="bf16 runs need a CPU with AVX512-BF16 or AMX")
def test_a_bf16_run_scores_its_weights_in_fp32(tmp_path, held_out, single_thread):
    """val/mel_l1 measures the weights (fp32 in a bf16 run too), not bf16 rounding: a bf16 run's validation is
    the fp32 one. It vocoded under autocast, which scored these clips 1.2010 against 1.2029 and the official
    LJ_V1 generator's 0.243 against 0.227 on two LJ clips, so a resume in the other precision chose best.pt by
    precision."""
    clips = held_out.clips[:4]
    trainer = Trainer(CFG, clips, clips, TrainOptions(out=tmp_path / "run", progress=False, precision="bf16"))
    try:
        value = trainer.validation.run(trainer.generator, 0, 0, None)
    finally:
        trainer.close()
    fp32 = validation(VocoderDataset(clips, CFG, train=False, cli=True)).run(trainer.generator, 0, 0, None)
    assert value == pytest.approx(fp32, rel=1e-5)


@settings(max_examples=60, deadline=None)
@given(frames=st.lists(st.integers(1, 900), max_size=40), budget=st.integers(50, 1000), most=st.integers(1, 8))
def test_batches_are_consecutive_and_within_the_budget(frames, budget, most):
    groups = frame_batches(frames, budget, most)
    assert [i for g in groups for i in g] == list(range(len(frames)))
    for g in groups:
        assert len(g) <= most
        assert len(g) == 1 or sum(frames[i] for i in g) <= budget
    for g, h in itertools.pairwise(groups):  # a group ends only where the next clip would not fit
        assert len(g) == most or sum(frames[i] for i in g) + frames[h[0]] > budget
