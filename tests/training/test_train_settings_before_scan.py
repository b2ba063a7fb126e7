"""A setting that `hifigan train` refuses whatever the data (--cuda-graph off CUDA, a segment too short, a part's
value, the objective's rules, the held-out draw out of range) is refused before the corpus is scanned: the one line
it always said, no scan cache, no warning of the corpus's bad files (which the scan would report); a Trainer built in
Python refuses the same settings (training.preflight)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from hifigan import Corpus, Trainer, TrainJob, TrainOptions, train
from hifigan.cli import main
from hifigan.config import load_config
from hifigan.errors import ConfigError, HifiganError
from hifigan.training.config_choice import ConfigChoice, naming_config_file, overrides_named
from hifigan.training.preflight import CONFIG_CHECKS
from hifigan.training.registry import check_segment_size
from tests.support.files import corpus_with_bad_files, left_in, save_config_json
from tests.support.tiny import tiny_config

pytestmark = pytest.mark.usefixtures("single_thread")

# (the config's overrides, the options, the line's problem; "{config}: " where the line names the config file)
REFUSED = {
    "cuda_graph": ({}, ["--cuda-graph"], "--cuda-graph needs --device cuda (got cpu)"),
    "segment": ({}, ["--segment-size", "16"], "--segment-size 16: segment_size 16 is too short for the mel "
                                              "front-end, which pads a window by 24 samples per side: give 32 or "
                                              "more, a multiple of hop_size 16"),
    "segment_off_hop": ({}, ["--batch-size", "4", "--segment-size", "100"],
                        "--segment-size 100: segment_size (100) must be a multiple of hop_size (16)"),
    "segment_in_file": (dict(segment_size=16), [], "{config}: segment_size 16 is too short for the mel front-end, "
                                                   "which pads a window by 24 samples per side: give 32 or more, a "
                                                   "multiple of hop_size 16"),
    # two faults, one in the file and one through an option: each named where it is
    "segment_beside_file_fault": (dict(discriminator_args={"mpd": {"periods": []}}), ["--segment-size", "16"],
                                  "--segment-size 16: segment_size 16 is too short for the mel front-end, which pads "
                                  "a window by 24 samples per side: give 32 or more, a multiple of hop_size 16"),
    "file_fault_beside_segment": (dict(segment_size=16, discriminator_args={"mpd": {"periods": []}}),
                                  ["--segment-size", "512"], "{config}: discriminator_args['mpd']: periods must be a "
                                                             "non-empty list of integers >= 1, got []"),
    "periods": (dict(discriminator_args={"mpd": {"periods": []}}), [],
                "{config}: discriminator_args['mpd']: periods must be a non-empty list of integers >= 1, got []"),
    "msd_pool": (dict(discriminator_args={"msd": {"pool_kernel_size": 2, "pool_padding": 2}}), [],
                 "{config}: discriminator_args['msd']: pool_padding 2 must be at most half of pool_kernel_size 2"),
    "no_weight": (dict(loss_weights={"mel": 0.0, "adv": 0.0, "fm": 0.0}), [],
                  "{config}: loss_weights gives no term a weight > 0"),
    "stft_short": (dict(loss_weights={"stft": 1.0}), [],
                   "{config}: loss_args['stft']: segment_size 512 is too short for the STFT loss (needs >= 1025 "
                   "samples at resolutions [[1024, 120, 600], [2048, 240, 1200], [512, 50, 240]]): give 1040 or "
                   "more, a multiple of hop_size 16"),
}  # --valid-count/--valid-fraction/--valid-cap out of range: usage errors (tests/cli/test_option_ranges.py)


@pytest.fixture(scope="module")
def bad_corpus(tmp_path_factory, tiny_corpus):
    """The tiny corpus plus files the scan would report (unreadable, silent, clipping)."""
    return corpus_with_bad_files(tmp_path_factory.mktemp("bad") / "corpus", tiny_corpus)


@pytest.mark.parametrize("case", REFUSED)
def test_a_bad_setting_is_refused_in_its_one_line_before_the_scan(case, tmp_path, bad_corpus, capsys):
    overrides, options, problem = REFUSED[case]
    config = save_config_json(tmp_path / "config.json", tiny_config(**overrides))
    out = tmp_path / "run"
    code = main(["train", "--corpus", str(bad_corpus), "--config", str(config), "--out", str(out), "--no-progress",
                 "--max-steps", "1", *options])
    captured = capsys.readouterr()
    assert code == 2
    assert captured.err.strip().splitlines() == [f"hifigan train: error: {problem.format(config=config)}"]
    assert captured.out == "" and left_in(out) == []  # no scan cache: no file was read


@pytest.mark.parametrize("case", ["segment", "segment_off_hop"])
def test_a_python_job_names_the_override_at_fault_as_its_field(case, tmp_path, bad_corpus):
    """Not `command line: ...`: a Python caller has none; the override at fault alone, as the caller set it."""
    _, options, problem = REFUSED[case]
    segment_size = int(options[-1])
    job = TrainJob(TrainOptions(out=tmp_path / "run", progress=False), Corpus(bad_corpus), config=tiny_config(),
                   batch_size=4, segment_size=segment_size, max_steps=1)
    with pytest.raises(ConfigError) as refused:
        train(job)
    assert str(refused.value) == problem.replace(f"--segment-size {segment_size}", f"segment_size={segment_size}")
    assert left_in(tmp_path / "run") == []


@pytest.mark.parametrize("case", ["cuda_graph", "segment_in_file", "periods"])
def test_a_trainer_built_in_python_refuses_the_same_settings(case, tmp_path):
    """Named as the fields (option_names); refused before any clip is needed (none are given)."""
    overrides, _, problem = REFUSED[case]
    config = tiny_config(**overrides)
    with pytest.raises(HifiganError) as refused:
        Trainer(config, [], [], TrainOptions(out=tmp_path / "run", cuda_graph=case == "cuda_graph" or None))
    expected = problem.replace("{config}: ", "").replace("--cuda-graph", "cuda_graph").replace("--device cuda",
                                                                                               "device='cuda'")
    assert str(refused.value) == expected and left_in(tmp_path / "run") == []


def test_a_trainer_built_in_python_refuses_an_unknown_precision_before_anything_is_written(tmp_path):
    """`train` checks --precision itself before the scan; a Trainer from Python has only its preflight to check it."""
    with pytest.raises(HifiganError) as refused:
        Trainer(tiny_config(), [], [], TrainOptions(out=tmp_path / "run", precision="fp61"))
    assert str(refused.value) == "precision must be fp32 or bf16, got 'fp61'" and left_in(tmp_path / "run") == []


def test_the_overrides_named_are_those_the_problem_names_as_whole_words_else_all():
    overrides = {"fmax": 7000, "segment_size": 16}
    assert overrides_named(overrides, "segment_size 16 is not a multiple of hop_size", cli=True) == "--segment-size 16"
    assert overrides_named(overrides, "fmax_for_loss 9000 is above the Nyquist", cli=True) == (
        "--fmax 7000 --segment-size 16")  # fmax_for_loss is not fmax: none named, so all
    assert overrides_named(overrides, "fmax 7000 and segment_size 16 clash", cli=False) == "fmax=7000, segment_size=16"


def test_a_config_error_that_names_its_file_is_left_as_it_is():
    """naming_config_file names only an error that names no file: one naming its own (a --mel-stats file, say)
    keeps it, rather than take the run config's."""
    choice = ConfigChoice(tiny_config(), file=Path("run.json"))
    with pytest.raises(ConfigError) as raised, naming_config_file(choice):
        raise ConfigError("stats.npz", "has no 'mean'")
    assert str(raised.value) == "stats.npz: has no 'mean'"
    with pytest.raises(ConfigError) as raised, naming_config_file(choice):
        raise ConfigError(None, "segment_size 7 is odd")
    assert str(raised.value) == "run.json: segment_size 7 is odd"


@pytest.mark.parametrize("preset, pad, least", [("pwg-24k", 1024, 1200), ("bigvgan-44k", 768, 1024)])
def test_a_segment_too_short_is_told_the_shortest_of_whole_hops(preset, pad, least):
    """At hop 300 (centred frames, pad n_fft / 2) and hop 512 (official, pad (n_fft - hop) / 2) 'more than the pad'
    alone led to a length the hop refuses next (1025): the line names the shortest that trains, which does."""
    config = load_config(preset)
    for too_short in (config.hop_size, least - config.hop_size):
        with pytest.raises(ConfigError) as refused:
            check_segment_size(replace(config, segment_size=too_short))
        assert str(refused.value) == (f"segment_size {too_short} is too short for the mel front-end, which pads a "
                                      f"window by {pad} samples per side: give {least} or more, a multiple of "
                                      f"hop_size {config.hop_size}")
    check_segment_size(replace(config, segment_size=least))


# v1 (hop 256) with the parts that need longer segments than its mel's 384-sample pad: the MR-STFT loss (1025) and
# the MRD (905; a 4096-point one pads (4096 - 512) / 2 = 1792 a side: 1793); each line that refuses a segment
# suggests the largest need in whole hops, which every check passes
LONGER_NEEDS = {
    "stft": (dict(loss_weights={"stft": 1.0}), 1280),
    "mrd": (dict(discriminators=["mpd", "msd", "mrd"]), 1024),
    "both": (dict(loss_weights={"stft": 1.0}, discriminators=["mpd", "msd", "mrd"]), 1280),
    "mrd_wide": (dict(discriminators=["mrd"], discriminator_args={"mrd": {"resolutions": [[4096, 512, 2048]]}}),
                 2048),
    # six scales, each pooled by 4 without padding: the last sees a sample of 4 ** 5 = 1024 or more
    "msd_pooling": (dict(discriminator_args={"msd": {"scales": 6, "pool_stride": 4, "pool_padding": 0}}), 1024),
}


@pytest.mark.parametrize("case", LONGER_NEEDS)
def test_every_line_refusing_a_segment_suggests_one_that_passes_every_check(case):
    changes, least = LONGER_NEEDS[case]
    config = replace(load_config("v1"), **changes)
    for too_short in (256, least - 256):
        with pytest.raises(ConfigError) as refused:
            for check in CONFIG_CHECKS:
                check(replace(config, segment_size=too_short))
        assert str(refused.value).endswith(f": give {least} or more, a multiple of hop_size 256")
    for check in CONFIG_CHECKS:
        check(replace(config, segment_size=least))
