"""`--system NAME=DIR` of `hifigan evaluate` and `hifigan listen`: how a name is read, and each name that cannot be
used (not a part of a file name everywhere, differing from another only in case, the recordings' own, a NAME=
without its folder) refused in one line that says why, before anything is read or written."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from hifigan.audio import save_audio
from hifigan.cli import main
from hifigan.config import load_config
from hifigan.errors import HifiganError
from hifigan.evaluation.report.names import parse_system, parse_systems
from hifigan.evaluation.results import FileResult, Report, aggregate
from tests.support.listen_server import run_busy
from tests.support.signals import SR, speechlike


def test_names_are_read_as_given(tmp_path):
    assert parse_system("v1=out/v1") == ("v1", Path("out/v1"))
    assert parse_system(str(tmp_path / "gen")) == ("gen", tmp_path / "gen")
    assert parse_system("a=b=c") == ("a", Path("b=c"))  # the first '=' ends the name
    assert parse_system("v1.5+fp16=out") == ("v1.5+fp16", Path("out"))
    assert parse_system(f"{'x' * 64}=dir")[0] == "x" * 64
    assert parse_systems(["x=a", "y=a"]) == {"x": Path("a"), "y": Path("a")}  # one folder under two names


@pytest.mark.parametrize("text, problem", [
    ("my sys=dir", "system 'my sys=dir': 'my sys' is not a system name: a name is 1-64 ASCII letters, digits, "
                   "'_', '.', '+' or '-', starting with a letter or digit (NAME=DIR)"),
    ("système=dir", "'système' is not a system name: a name is 1-64 ASCII letters"),
    ("-v1=dir", "'-v1' is not a system name"),
    (f"{'x' * 65}=dir", f"'{'x' * 65}' is not a system name"),
    ("=dir", "system '=dir': no name before '=': a name is"),
    ("v1=", "system 'v1=': no folder after '=' (NAME=DIR)"),
    ("out/my run", "system 'out/my run': named after its folder, 'my run' is not a system name (1-64 ASCII"),
    ("runs/a=b", "system 'runs/a=b': named after its folder, 'a=b' is not a system name"),
    ("my sys=/data/gen", "'my sys' is not a system name"),  # not a folder 'my sys=' holding data/gen, named gen
])
def test_a_name_that_cannot_be_used_says_why(text, problem):
    with pytest.raises(HifiganError) as info:
        parse_system(text)
    assert problem in str(info.value) and info.value.path is None


@pytest.mark.parametrize("texts, problem", [
    (["x=a", "x=b"], "b: two systems named 'x' (a and b); name them NAME=DIR"),
    (["V1=a", "v1=b"], "b: systems named 'V1' (a) and 'v1' differ only in case, and their report files would be one "
                       "file on macOS or Windows; name them apart"),
    (["reference=a"], "a: the system name 'reference' is reserved for the recordings; give another (NAME=DIR)"),
    (["x=a", "runs/reference"], "the system name 'reference' is reserved"),  # a bare folder's name too
])
def test_names_must_differ_in_more_than_case_and_not_be_the_recordings(texts, problem):
    with pytest.raises(HifiganError) as info:
        parse_systems(texts)
    assert problem in str(info.value)


@pytest.fixture
def folders(tmp_path):
    """ref/ and gen/ with one 0.2 s clip each (the same)."""
    for name in ("ref", "gen"):
        (tmp_path / name).mkdir()
        save_audio(tmp_path / name / "a.wav", speechlike(0.2), SR)
    return tmp_path


@pytest.mark.parametrize("command", ["evaluate", "listen"])
@pytest.mark.parametrize("system, problem", [
    ("my sys={gen}", "'my sys' is not a system name"),
    ("n=", "no folder after '='"),
    ("reference={gen}", "reserved for the recordings"),
    ("GEN={gen}", "differ only in case"),
])
def test_the_commands_refuse_it_in_one_line_writing_nothing(folders, capsys, monkeypatch, command, system, problem):
    """Exit 2, one line, nothing written (`listen` with its port taken: it never serves). With nothing after 'n=',
    `evaluate` scored the audio of the working folder (here, one that holds it)."""
    monkeypatch.chdir(folders / "gen")
    out = folders / "out"
    args = [command, "--reference", folders / "ref", "--system", folders / "gen", "--system",
            system.format(gen=folders / "gen"), "--out", f"{out}/"]
    capsys.readouterr()
    code = run_busy(list(map(str, args))) if command == "listen" else main([*map(str, args), "--metrics", "snr"])
    err = capsys.readouterr().err
    assert code == 2 and len(err.strip().splitlines()) == 1 and problem in err and "Traceback" not in err, err
    assert not out.exists()


def test_a_page_gives_a_system_named_reference_its_own_metrics(folders):
    """The commands refuse the name; a Python caller's page still shows the recording first, without metrics, and
    the system named 'reference' with its own (its card once showed none: it was taken for the recording's)."""
    from hifigan.evaluation.report.page import write_page

    def report(value: float) -> Report:
        return Report([FileResult("a", str(folders / "ref" / "a.wav"), str(folders / "gen" / "a.wav"), 0.2, 0,
                                  {"snr": value})], aggregate([{"snr": value}]))

    page = write_page(folders / "page.html", {"reference": report(12.5), "other": report(7.25)}, load_config("v1"),
                      cli=False).read_text()
    cards = re.findall(r'<div class="card[^"]*" data-system="([^"]*)">(.*?)</table>', page, re.S)
    assert [(label, re.findall(r">\s*(12\.500|7\.250)\s*<", card)) for label, card in cards] == [
        ("reference", []), ("reference", ["12.500"]), ("other", ["7.250"])]
