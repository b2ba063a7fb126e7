"""A part registered from outside the package declares its floor (the shortest training segment it takes) beside its
factory, read with the config's arguments over the factory's defaults: `hifigan train` refuses a shorter segment
before the scan, and every 'too short' line suggests a length that covers it, as for the built-in parts."""

from __future__ import annotations

from dataclasses import replace

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from hifigan.cli import main
from hifigan.errors import ConfigError
from hifigan.training.losses import LossBreakdown
from hifigan.training.preflight import CONFIG_CHECKS
from hifigan.training.registry import (
    DISCRIMINATOR_FLOORS,
    DISCRIMINATORS,
    GENERATOR_TERMS,
    TERM_FLOORS,
    build_discriminators,
    part_floors,
    register_discriminator,
    register_generator_term,
)
from tests.support.files import left_in, save_config_json
from tests.support.tiny import tiny_config

pytestmark = pytest.mark.usefixtures("single_thread")

FRAME = 2001  # the wide discriminator's default frame: longer than any built-in part's need at the tiny config's
LEAST = 2016  # FRAME in whole hops of 16


class WideDiscriminator(nn.Module):
    """One unpadded convolution `frame` samples wide on raw audio: a segment shorter than a frame gives it nothing
    to score (torch refuses the convolution), so its floor is `frame`."""

    def __init__(self, frame: int) -> None:
        super().__init__()
        self.conv = nn.Conv1d(1, 2, frame)

    def score(self, x: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        h = F.leaky_relu(self.conv(x), 0.1)
        return torch.flatten(h, 1), [h]

    def forward(self, y: torch.Tensor, y_hat: torch.Tensor) -> tuple:
        (real, real_maps), (fake, fake_maps) = self.score(y), self.score(y_hat)
        return [real], [fake], [real_maps], [fake_maps]


def wide(config, frame: int = FRAME) -> WideDiscriminator:
    return WideDiscriminator(frame)


def wide_floor(config, frame: int, **_) -> int:
    return frame


@pytest.fixture
def wide_registered():
    register_discriminator("wide", wide, min_samples=wide_floor)
    yield
    del DISCRIMINATORS["wide"], DISCRIMINATOR_FLOORS["wide"]


def test_train_refuses_a_segment_under_a_registered_floor_before_the_scan(wide_registered, tmp_path, tiny_corpus,
                                                                          capsys):
    """The factory never looks at segment_size: the declared floor alone refuses 512, in the line a built-in
    part's refusal has, suggesting the floor in whole hops."""
    config = save_config_json(tmp_path / "config.json", tiny_config(discriminators=["mpd", "msd", "wide"]))
    out = tmp_path / "run"
    code = main(["train", "--corpus", str(tiny_corpus), "--config", str(config), "--out", str(out), "--no-progress",
                 "--max-steps", "1"])
    captured = capsys.readouterr()
    assert code == 2 and captured.out == "" and left_in(out) == []
    assert captured.err.strip().splitlines() == [
        f"hifigan train: error: {config}: discriminator_args['wide']: segment_size 512 is too short for the "
        f"discriminator 'wide' (needs >= {FRAME} samples): give {LEAST} or more, a multiple of hop_size 16"]


@pytest.mark.parametrize("options, problem", [
    (["--segment-size", "16"], "--segment-size 16: segment_size 16 is too short for the mel front-end, which pads a "
                               f"window by 24 samples per side: give {LEAST} or more, a multiple of hop_size 16"),
    (["--segment-size", "64"], "--segment-size 64: discriminator_args['msd']: segment_size 64 is too short for the "
                               "MSD's pooling (scale 1 would see no sample): give 4000 or more, a multiple of "
                               "hop_size 16"),
])
def test_every_too_short_line_suggests_the_registered_floor(wide_registered, tmp_path, tiny_corpus, capsys, options,
                                                            problem):
    """The mel front-end's line and a built-in part's line count the wide floor, read with the config's frame 4000
    over the factory's default."""
    msd = {"pool_kernel_size": 100, "pool_padding": 0}  # scale 1 sees a sample of 100 or more
    changes = dict(discriminators=["mpd", "msd", "wide"], discriminator_args={"wide": {"frame": 4000}, "msd": msd})
    config = save_config_json(tmp_path / "config.json", tiny_config(**changes) if options[1] == "64" else
                              tiny_config(discriminators=["mpd", "msd", "wide"]))
    out = tmp_path / "run"
    code = main(["train", "--corpus", str(tiny_corpus), "--config", str(config), "--out", str(out), "--no-progress",
                 "--max-steps", "1", *options])
    captured = capsys.readouterr()
    assert code == 2 and left_in(out) == []
    assert captured.err.strip().splitlines() == [f"hifigan train: error: {problem}"]


def test_the_suggested_length_passes_every_check_and_the_part_scores_it(wide_registered):
    config = tiny_config(discriminators=["mpd", "msd", "wide"])
    for too_short in (16, LEAST - 16):
        with pytest.raises(ConfigError, match=f"give {LEAST} or more"):
            for check in CONFIG_CHECKS:
                check(replace(config, segment_size=too_short))
    for check in CONFIG_CHECKS:
        check(replace(config, segment_size=LEAST))
    built = build_discriminators(replace(config, segment_size=LEAST))["wide"]
    audio = torch.randn(1, 1, LEAST)
    real, _, _, _ = built(audio, audio)
    assert real[0].shape == (1, 2 * (LEAST - FRAME + 1))


def test_a_part_without_a_floor_has_none_and_an_unused_one_does_not_count(wide_registered):
    config = tiny_config(discriminators=["mpd", "msd"])
    assert sorted(part_floors(config)) == [1, 11]  # the official MSD's and MPD's, for parts the config uses
    assert sorted(part_floors(replace(config, discriminators=["mpd", "msd", "wide"]))) == [1, 11, FRAME]
    register_discriminator("floorless", lambda config: WideDiscriminator(FRAME))
    try:
        assert part_floors(tiny_config(discriminators=["msd", "floorless"])) == [1]
    finally:
        del DISCRIMINATORS["floorless"]


class SpanTerm:
    """A loss term on the mean of the last `span` samples: its floor is `span`."""

    def __init__(self, config, span: int = 3000) -> None:
        self.span = span

    def __call__(self, inputs, weight: float) -> LossBreakdown:
        loss = (inputs.y_hat[..., -self.span:] - inputs.y[..., -self.span:]).abs().mean()
        return LossBreakdown(weight * loss, {"g/span": loss.detach()})


def test_a_registered_loss_term_s_floor_counts_while_it_is_weighed():
    register_generator_term("span", SpanTerm, min_samples=lambda config, span, **_: span)
    try:
        weighed = tiny_config(loss_weights={"mel": 45.0, "adv": 1.0, "fm": 2.0, "span": 1.0})
        with pytest.raises(ConfigError) as refused:
            for check in CONFIG_CHECKS:
                check(weighed)
        assert str(refused.value) == ("loss_args['span']: segment_size 512 is too short for the loss term 'span' "
                                      "(needs >= 3000 samples): give 3008 or more, a multiple of hop_size 16")
        for check in CONFIG_CHECKS:
            check(replace(weighed, segment_size=3008))
        assert 3000 not in part_floors(replace(weighed, loss_weights={**weighed.loss_weights, "span": 0.0}))
    finally:
        del GENERATOR_TERMS["span"], TERM_FLOORS["span"]
