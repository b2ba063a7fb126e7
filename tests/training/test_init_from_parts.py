"""--init-from takes the weights and Adam moments a file holds and nothing else: every optimizer setting (learning
rate, betas, eps, weight decay) is the run's config's, as the checkpoint's config then says; each discriminator the
file holds is loaded by name, the others start fresh, and so does the discriminator optimizer when the sets differ."""

from __future__ import annotations

import pytest
import torch

from hifigan.checkpoints.format import read_checkpoint
from hifigan.cli import main
from hifigan.training.registry import DISCRIMINATORS, register_discriminator
from tests.support.files import equal_states, save_config_json
from tests.support.official_files import official_discriminator_file, official_tiny_files
from tests.support.tiny import TinyDiscriminator, tiny_config

QUIET = ["--no-progress", "--valid-count", "0", "--validation-interval", "0"]
pytestmark = pytest.mark.usefixtures("single_thread")


@pytest.fixture(scope="module")
def trained(tmp_path_factory, tiny_corpus):
    """A checkpoint of ours after one GAN step of the tiny config (so both optimizers hold moments)."""
    folder = tmp_path_factory.mktemp("trained")
    config_json = save_config_json(folder / "tiny.json", tiny_config(disc_start_step=0))
    assert main(["train", "--config", str(config_json), "--corpus", str(tiny_corpus), *QUIET, "--max-steps", "1",
                 "--out", str(folder / "run")]) == 0
    return folder / "run" / "checkpoints" / "latest.pt"


def _start(init, config, corpus, out, *extra: str) -> dict:
    """--init-from `init` for 0 steps: the run's first checkpoint, as it started."""
    assert main(["train", "--init-from", str(init), "--config", str(config), "--corpus", str(corpus), *QUIET,
                 "--max-steps", "0", "--out", str(out), *extra]) == 0
    return read_checkpoint(out / "checkpoints" / "latest.pt")


@pytest.fixture
def tiny_registered():
    register_discriminator("tiny", lambda config: TinyDiscriminator())
    yield
    del DISCRIMINATORS["tiny"]


def _settings(checkpoint: dict, name: str) -> set:
    return {(g["lr"], g["initial_lr"], tuple(g["betas"]), g["eps"], g["weight_decay"])
            for g in checkpoint[name]["param_groups"]}


def test_our_checkpoint_gives_its_moments_and_the_config_every_optimizer_setting(trained, tiny_corpus, tmp_path):
    """The source file's groups say betas (0.9, 0.999), eps 1e-3 and weight decay 0.5; the config says betas
    (0.5, 0.9) and lr 1e-3 (AdamW's eps 1e-8 and weight decay 0.01): the run has the config's, and its moments."""
    source = read_checkpoint(trained)
    for name in ("optim_g", "optim_d"):
        for group in source[name]["param_groups"]:
            group.update(betas=(0.9, 0.999), eps=1e-3, weight_decay=0.5)
    torch.save(source, tmp_path / "source.pt")
    config = save_config_json(tmp_path / "b.json", tiny_config(disc_start_step=0, adam_b1=0.5, adam_b2=0.9,
                                                               learning_rate=1e-3))
    started = _start(tmp_path / "source.pt", config, tiny_corpus, tmp_path / "run")
    assert (started["config"]["adam_b1"], started["config"]["adam_b2"]) == (0.5, 0.9)
    for name in ("optim_g", "optim_d"):
        assert equal_states(started[name]["state"], source[name]["state"]), name
        assert _settings(started, name) == {(1e-3, 1e-3, (0.5, 0.9), 1e-8, 0.01)}, name
        assert all(g["fused"] is True for g in started[name]["param_groups"]), name


def test_an_official_do_file_gives_its_moments_and_the_config_its_betas(tmp_path, tiny_corpus):
    """A do_* file saved with AdamW's default betas (0.9, 0.999) under the official config (0.8, 0.99)."""
    cfg, g_path, config_json = official_tiny_files(tmp_path)
    do = official_discriminator_file(torch.load(g_path, weights_only=True)["generator"], cfg, 10, 1)
    torch.save(do, g_path.parent / "do_00000010")
    started = _start(g_path, config_json, tiny_corpus, tmp_path / "run")
    for name in ("optim_g", "optim_d"):
        assert equal_states(started[name]["state"], do[name]["state"]), name
        assert _settings(started, name) == {(cfg.learning_rate, cfg.learning_rate, (0.8, 0.99), 1e-8, 0.01)}, name


@pytest.mark.parametrize("names", [["mpd", "msd", "tiny"], ["mpd"]])
def test_the_discriminators_the_checkpoint_holds_load_by_name_and_the_rest_start_fresh(
        trained, tiny_corpus, tmp_path, capsys, tiny_registered, names):
    """A discriminator added to the config (tiny) starts fresh beside the trained MPD and MSD; a subset (MPD only)
    loads that one. Either way the generator's moments load, and the discriminator optimizer (its moments stored by
    position over MSD then MPD) starts fresh; the log says which is which."""
    source = read_checkpoint(trained)
    config = save_config_json(tmp_path / "c.json", tiny_config(disc_start_step=0, discriminators=names))
    capsys.readouterr()
    started = _start(trained, config, tiny_corpus, tmp_path / "run")
    err = capsys.readouterr().err
    loaded = [name for name in ("msd", "mpd") if name in names]
    for name in loaded:
        assert equal_states(started[name], source[name]), name
    assert f"loaded discriminators ({', '.join(loaded)}) from {trained}" in err
    if "tiny" in names:
        assert f"discriminators (tiny) start fresh (random weights): not in {trained}" in err
    assert equal_states(started["optim_g"]["state"], source["optim_g"]["state"]) and "loaded optim_g moments" in err
    assert started["optim_d"]["state"] == {} and "optim_d starts fresh (no moments)" in err


def test_an_official_do_file_with_a_discriminator_added_gives_mpd_msd_and_the_generators_moments(
        tmp_path, tiny_corpus, capsys, tiny_registered):
    """The do_* beside a g_* under [mpd, msd, tiny]: MPD and MSD and the generator optimizer's moments load; the
    tiny discriminator and the discriminator optimizer start fresh, and the log says so."""
    from hifigan.checkpoints.official import official_to_ours

    cfg, g_path, _ = official_tiny_files(tmp_path)
    do = official_discriminator_file(torch.load(g_path, weights_only=True)["generator"], cfg, 10, 1)
    torch.save(do, g_path.parent / "do_00000010")
    config = save_config_json(tmp_path / "c.json", tiny_config("1", discriminators=["mpd", "msd", "tiny"]))
    capsys.readouterr()
    started = _start(g_path, config, tiny_corpus, tmp_path / "run")
    err = capsys.readouterr().err
    assert all(equal_states(started[name], official_to_ours(do[name])) for name in ("mpd", "msd"))
    assert equal_states(started["optim_g"]["state"], do["optim_g"]["state"]) and "loaded optim_g moments" in err
    assert started["optim_d"]["state"] == {} and "optim_d starts fresh (no moments)" in err
    assert "discriminators (tiny) start fresh (random weights)" in err


def test_a_generator_only_checkpoint_of_ours_says_the_discriminators_start_fresh(trained, tiny_corpus, tmp_path,
                                                                                  capsys):
    """Our checkpoint holding only a generator (as `export` and the docs' stand-ins write): the log names every
    discriminator starting fresh and why, where it used to say only what it loaded."""
    from hifigan.checkpoints.format import generator_payload, write_checkpoint
    from hifigan.config import config_from_dict

    source = read_checkpoint(trained)
    generator_only = tmp_path / "g.pt"
    write_checkpoint(generator_only, generator_payload(source["generator"], config_from_dict(source["config"])))
    config = save_config_json(tmp_path / "c.json", tiny_config(disc_start_step=0))
    capsys.readouterr()
    started = _start(generator_only, config, tiny_corpus, tmp_path / "run")
    err = capsys.readouterr().err
    assert f"discriminators (msd, mpd) start fresh (random weights): {generator_only} holds none of them" in err
    assert equal_states(started["generator"], source["generator"])
