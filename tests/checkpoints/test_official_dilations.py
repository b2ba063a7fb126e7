"""The official code's ResBlock1 builds three dilated convolutions per block and ResBlock2 two, whatever
resblock_dilation_sizes lists: an official g_* file of a config listing more (V1's [1, 3, 5] with resblock "2")
loads with that config and computes as the official code built it, and export-official says when the official
code cannot load one of ours."""

from __future__ import annotations

import dataclasses
import json
import warnings

import torch

from hifigan.checkpoints.contents import load_generator, load_official_generator
from hifigan.checkpoints.export_official import export_official
from hifigan.checkpoints.format import generator_payload, read_checkpoint, write_checkpoint
from hifigan.cli import main
from hifigan.config import load_config
from hifigan.models import Generator
from hifigan.training.config_choice import choose_config
from hifigan.training.options import TrainJob
from tests.support.official_reference import RefGenerator
from tests.support.tiny import MELS_80, tiny_config


def test_an_official_file_of_resblock_2_with_three_dilations_loads_as_the_official_code_built_it(tmp_path):
    built = tiny_config("2", **MELS_80, resblock_dilation_sizes=[[1, 3], [1, 3]])  # what the official code makes
    torch.manual_seed(0)
    official = RefGenerator(built).eval()
    torch.save({"generator": official.state_dict()}, tmp_path / "g_00000010")
    given = dataclasses.replace(built, resblock_dilation_sizes=[[1, 3, 5], [1, 3, 5]])  # the config file it used
    (tmp_path / "config.json").write_text(json.dumps(given.to_dict()))
    generator, cfg = load_generator(tmp_path / "g_00000010", tmp_path / "config.json")
    assert cfg.resblock_dilation_sizes == [[1, 3], [1, 3]]
    mel = torch.randn(1, 80, 12)
    with torch.no_grad():
        torch.testing.assert_close(generator.eval()(mel), official(mel), rtol=0, atol=1e-6)


def test_a_fork_file_holding_every_listed_dilation_keeps_its_config(tmp_path):
    cfg = tiny_config("2", **MELS_80, resblock_dilation_sizes=[[1, 3, 5], [1, 3, 5]])
    torch.save({"generator": RefGenerator(cfg).state_dict()}, tmp_path / "g_00000010")
    assert load_generator(tmp_path / "g_00000010", cfg)[1].resblock_dilation_sizes == [[1, 3, 5], [1, 3, 5]]


def test_export_official_says_the_official_code_cannot_load_other_dilation_counts(tmp_path):
    cfg = tiny_config("2", **MELS_80, official_discriminators=True, resblock_dilation_sizes=[[1, 3, 5], [1, 3]])
    write_checkpoint(tmp_path / "ours.pt", generator_payload(Generator(cfg).state_dict(), cfg, step=3))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        export_official(tmp_path / "ours.pt", tmp_path / "out")
    assert [str(w.message) for w in caught] == [
        "g_00000003: the official code cannot load it: its ResBlock2 builds 2 dilated convolutions per block "
        "(resblock_dilation_sizes' first 2), this model's resblock_dilation_sizes[0] has 3"]


def test_fine_tuning_an_official_file_with_its_config_starts_from_its_weights(tmp_path, tiny_corpus):
    built = tiny_config("2", **MELS_80, fmax=None, resblock_dilation_sizes=[[1, 3], [1, 3]])
    torch.manual_seed(0)
    torch.save({"generator": RefGenerator(built).state_dict()}, tmp_path / "g_00000010")
    given = dataclasses.replace(built, resblock_dilation_sizes=[[1, 3, 5], [1, 3, 5]])
    (tmp_path / "config.json").write_text(json.dumps(given.to_dict()))
    args = ["train", "--init-from", str(tmp_path / "g_00000010"), "--config", str(tmp_path / "config.json"),
            "--corpus", str(tiny_corpus), "--out", str(tmp_path / "run"), "--max-steps", "1", "--no-progress",
            "--validation-interval", "0", "--quiet"]
    assert main(args) == 0
    saved = read_checkpoint(tmp_path / "run" / "checkpoints" / "ckpt_00000001.pt")
    assert saved["config"]["resblock_dilation_sizes"] == [[1, 3], [1, 3]]


def test_the_python_api_reads_an_official_dict_as_the_cli_does():
    built = tiny_config("2", **MELS_80, resblock_dilation_sizes=[[1, 3], [1, 3]])
    torch.manual_seed(0)
    official = RefGenerator(built).eval()
    given = dataclasses.replace(built, resblock_dilation_sizes=[[1, 3, 5], [1, 3, 5]])
    generator = load_official_generator({"generator": official.state_dict()}, given).eval()
    mel = torch.randn(1, 80, 12)
    with torch.no_grad():
        torch.testing.assert_close(generator(mel), official(mel), rtol=0, atol=1e-6)


def _export_warnings(tmp_path, cfg) -> list[str]:
    write_checkpoint(tmp_path / "ours.pt", generator_payload(Generator(cfg).state_dict(), cfg, step=3))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        export_official(tmp_path / "ours.pt", tmp_path / "out")
    return [str(w.message) for w in caught]


def test_export_official_says_a_block_of_fewer_dilations_than_resblock_1_builds(tmp_path):
    cfg = tiny_config("1", **MELS_80, official_discriminators=True, resblock_dilation_sizes=[[1, 3, 5], [1, 3]])
    assert _export_warnings(tmp_path, cfg) == [
        "g_00000003: the official code cannot load it: its ResBlock1 builds 3 dilated convolutions per block "
        "(resblock_dilation_sizes' first 3), this model's resblock_dilation_sizes[1] has 2"]


def test_export_official_checks_every_block_not_the_first_only(tmp_path):
    cfg = tiny_config("2", **MELS_80, official_discriminators=True, resblock_dilation_sizes=[[1, 3], [1, 3, 5]])
    assert _export_warnings(tmp_path, cfg) == [
        "g_00000003: the official code cannot load it: its ResBlock2 builds 2 dilated convolutions per block "
        "(resblock_dilation_sizes' first 2), this model's resblock_dilation_sizes[1] has 3"]


def test_an_official_file_of_a_single_residual_block_loads_as_the_official_code_built_it(tmp_path):
    built = tiny_config("2", **MELS_80, upsample_rates=[16], upsample_kernel_sizes=[32], resblock_kernel_sizes=[3],
                        resblock_dilation_sizes=[[1, 3]])  # one upsampling, one kernel: resblocks.0 only
    torch.manual_seed(0)
    official = RefGenerator(built).eval()
    torch.save({"generator": official.state_dict()}, tmp_path / "g_00000010")
    given = dataclasses.replace(built, resblock_dilation_sizes=[[1, 3, 5]])
    (tmp_path / "config.json").write_text(json.dumps(given.to_dict()))
    generator, cfg = load_generator(tmp_path / "g_00000010", tmp_path / "config.json")
    assert cfg.resblock_dilation_sizes == [[1, 3]]
    mel = torch.randn(1, 80, 6)
    with torch.no_grad():
        torch.testing.assert_close(generator.eval()(mel), official(mel), rtol=0, atol=1e-6)


def test_an_official_file_without_a_config_starts_from_v1(tmp_path):
    """--init-from an official g_* file and no --config: V1, the official config (as before the dilations were
    read), not 'official checkpoint carries no config'."""
    torch.save({"generator": RefGenerator(tiny_config("1", **MELS_80)).state_dict()}, tmp_path / "g_00000010")
    job = TrainJob(init_from=tmp_path / "g_00000010")
    choice = choose_config(job, None, None, read_checkpoint(tmp_path / "g_00000010"))
    assert (choice.config, choice.read_with, choice.beside) == (load_config("v1"), "v1", None)
