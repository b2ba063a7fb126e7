"""export_official on small hand-built checkpoints of ours (no training): the file names from the step, the do_*
file's contents (MPD and MSD in official keys, each optimizer in its own place, the official last-update index),
and what it refuses or leaves out."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import pytest
import torch

from hifigan.checkpoints.export_official import export_official
from hifigan.checkpoints.format import generator_payload, write_checkpoint
from hifigan.checkpoints.official import ours_to_official
from hifigan.errors import CheckpointError, HifiganError, Note
from hifigan.inference import Vocoder
from hifigan.models import Generator
from tests.support.files import equal_states
from tests.support.full_checkpoint import narrow_discriminators, write_full_checkpoint
from tests.support.tiny import tiny_config


def _written(folder: Path, *names: str) -> list[Path]:
    """What export_official returns: the paths of `names` in `folder`, then the config.json beside them."""
    return [folder / name for name in (*names, "config.json")]


@pytest.fixture
def full_checkpoint(tmp_path):
    return write_full_checkpoint(tmp_path / "ours.pt")


def test_writes_g_and_do_files_with_the_official_layout(full_checkpoint, tmp_path):
    """g_/do_ named by the step (8 digits), both returned; do_ holds mpd and msd under their own names in official
    keys, optim_g and optim_d each in its place, and steps = step - 1 (the official 0-based last update)."""
    path, payload = full_checkpoint
    out = tmp_path / "export"
    written = export_official(path, out)
    assert written == [out / "g_00000007", out / "do_00000007", out / "config.json"]
    assert sorted(p.name for p in out.iterdir()) == ["config.json", "do_00000007", "g_00000007"]
    g_file = torch.load(out / "g_00000007", weights_only=True)
    assert equal_states(g_file["generator"], ours_to_official(payload["generator"]))
    do_file = torch.load(out / "do_00000007", weights_only=True)
    assert (do_file["steps"], do_file["epoch"]) == (6, 2)
    assert json.loads((out / "config.json").read_text()) == payload["config"]
    for name in ("mpd", "msd"):
        assert equal_states(do_file[name], ours_to_official(payload[name])), name
    for name in ("optim_g", "optim_d"):
        assert do_file[name]["param_groups"][0]["lr"] == payload[name]["param_groups"][0]["lr"], name
        assert equal_states(do_file[name]["state"], payload[name]["state"]), name


def test_a_checkpoint_without_a_step_is_g_00000000(tmp_path):
    """No 'step' key (a generator-only payload): step 0, and no do_* file (nothing to put in it)."""
    cfg = tiny_config("1", official_discriminators=True)
    write_checkpoint(tmp_path / "g.pt", generator_payload(Generator(cfg).state_dict(), cfg))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert export_official(tmp_path / "g.pt", tmp_path / "out") == _written(tmp_path / "out", "g_00000000")
    assert [str(w.message) for w in caught if "do_" in str(w.message)] == []  # a generator alone: nothing to say


def test_a_generator_alone_is_not_told_of_discriminator_settings_it_does_not_hold(tmp_path):
    """A generator-only file whose config sets non-official discriminators: no do_* file, and no note blaming the
    settings (it holds no discriminators at all); only the official code's own problems with the g_* file."""
    cfg = tiny_config("1")  # TINY_DISCRIMINATORS: narrower than the official ones
    write_checkpoint(tmp_path / "g.pt", generator_payload(Generator(cfg).state_dict(), cfg))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert export_official(tmp_path / "g.pt", tmp_path / "out") == _written(tmp_path / "out", "g_00000000")
    assert [str(w.message) for w in caught if "do_" in str(w.message)] == []
    assert caught and all(str(w.message).startswith("g_00000000: the official code cannot load it") for w in caught)


def test_a_missing_discriminator_leaves_out_the_do_file(full_checkpoint, tmp_path):
    """MPD without MSD in the file: g_* alone (a do_* file needs both), no error."""
    path, payload = full_checkpoint
    del payload["msd"]
    write_checkpoint(path, payload)
    no_msd = r"^no do_\* file: the checkpoint holds no msd \(a do_\* file holds mpd and msd\)$"
    with pytest.warns(UserWarning, match=no_msd):
        assert export_official(path, tmp_path / "out") == _written(tmp_path / "out", "g_00000007")


def test_non_official_discriminator_arguments_leave_out_the_do_file(tmp_path):
    """MPD and MSD by name but narrowed (not the official layout): a warning naming the argument, g_* only."""
    cfg = tiny_config("1")
    mpd, msd = narrow_discriminators()
    write_checkpoint(tmp_path / "ours.pt", generator_payload(Generator(cfg).state_dict(), cfg, mpd=mpd.state_dict(),
                                                             msd=msd.state_dict(), step=3))
    with pytest.warns(UserWarning, match=r"the checkpoint sets discriminator_args\['mpd'\]"):
        assert export_official(tmp_path / "ours.pt", tmp_path / "out") == _written(tmp_path / "out", "g_00000003")


def test_refuses_an_official_file_and_creates_nothing(tmp_path):
    """An official g_* file (it has a 'generator' key too) is no checkpoint of ours: refused, no output folder."""
    cfg = tiny_config("1")
    torch.save({"generator": ours_to_official(Generator(cfg).state_dict())}, tmp_path / "g_00000001")
    with pytest.raises(CheckpointError, match="not a checkpoint of this package"):
        export_official(tmp_path / "g_00000001", tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_an_output_path_that_is_a_file_is_refused(full_checkpoint, tmp_path):
    """--out naming a file: one error naming it, and no note before it (the model's 16 bins would have one), the
    file untouched."""
    (tmp_path / "out").write_text("keep")
    with warnings.catch_warnings(record=True) as said, pytest.raises(HifiganError, match="exists and is not a folder"):
        warnings.simplefilter("always")
        export_official(full_checkpoint[0], tmp_path / "out")
    assert [str(w.message) for w in said] == []
    assert (tmp_path / "out").read_text() == "keep"


def test_a_third_discriminator_leaves_out_the_do_file(tmp_path):
    """Official MPD and MSD trained beside MRD: a warning naming all three, g_* only (a do_* file would drop the MRD
    and misplace the optimizer's moments)."""
    cfg = tiny_config("1", official_discriminators=True, discriminators=["mpd", "msd", "mrd"])
    mpd, msd = narrow_discriminators()
    write_checkpoint(tmp_path / "ours.pt", generator_payload(Generator(cfg).state_dict(), cfg, mpd=mpd.state_dict(),
                                                             msd=msd.state_dict(), step=5))
    with pytest.warns(UserWarning, match="the checkpoint was trained with mpd, msd, mrd"):
        assert export_official(tmp_path / "ours.pt", tmp_path / "out") == _written(tmp_path / "out", "g_00000005")


def test_paths_given_as_strings(tmp_path):
    """The checkpoint and the output folder as str, as the other public functions take them: the same files, named
    as Paths (a str `out` once made the folder, then failed on `out / name` with a TypeError)."""
    cfg = tiny_config("1", official_discriminators=True)
    write_checkpoint(tmp_path / "g.pt", generator_payload(Generator(cfg).state_dict(), cfg))
    assert export_official(str(tmp_path / "g.pt"), str(tmp_path / "out")) == _written(tmp_path / "out", "g_00000000")
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["config.json", "g_00000000"]


def test_the_g_file_loads_alone_with_the_config_json_beside_it(tmp_path):
    """The official inference.py reads config.json from the g_* file's folder (the official train.py leaves it
    there): written beside it, it holds the official keys with the model's values, and a g_* file of a model that is
    not V1 (16 mel bins, log10 mels) vocodes with no config given exactly as our checkpoint does."""
    cfg = tiny_config("1", official_discriminators=True, mel_convention="log10")
    torch.manual_seed(0)
    write_checkpoint(tmp_path / "ours.pt", generator_payload(Generator(cfg).state_dict(), cfg, step=4))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the official code's own problems with 16 bins and log10: tested elsewhere
        g_file, config_json = export_official(tmp_path / "ours.pt", tmp_path / "out")
    official = json.loads(config_json.read_text())
    for key in ("resblock", "upsample_rates", "upsample_kernel_sizes", "upsample_initial_channel", "num_mels",
                "resblock_kernel_sizes", "resblock_dilation_sizes", "n_fft", "hop_size", "win_size", "sampling_rate",
                "fmin", "fmax", "segment_size", "learning_rate", "adam_b1", "adam_b2", "lr_decay", "seed"):
        assert official[key] == getattr(cfg, key), key
    with pytest.warns(Note, match="using .*config.json, beside it"):
        exported = Vocoder.from_checkpoint(g_file, backend="eager")
    assert exported.config == cfg
    mel = torch.randn(cfg.num_mels, 12)
    assert torch.equal(exported(mel), Vocoder.from_checkpoint(tmp_path / "ours.pt", backend="eager")(mel))
