"""The manual and `--help` agree on the options: every option a command's --help lists is written on the page that
documents that command, and every `--option` the manual writes after `hifigan COMMAND` is one of that command's."""

from __future__ import annotations

import re

import pytest

from hifigan.cli import build_parser
from tests.support.files import REPO

DOCS = REPO / "docs"
# The page (or pages) that documents each command: where a reader of `hifigan COMMAND --help` looks for the rest.
COMMAND_PAGES = {
    "mel": ["sample-rates.md"], "vocode": ["inference.md", "sample-rates.md"], "check-mel": ["sample-rates.md"],
    "evaluate": ["evaluation.md"], "train": ["training.md", "training-at-scale.md"], "export-official": ["export.md"],
    "demo": ["index.md"], "export": ["export.md"], "bench": ["inference.md"], "listen": ["evaluation.md"],
    "serve": ["serving.md"], "pretrained": ["pretrained.md"], "configs": ["sample-rates.md"],
}
# The grammar's options, one rule for every command that has them: documented once, in docs/commands.md.
GRAMMAR_OPTIONS = ("--help", "--debug", "--quiet", "--no-progress", "--out")
DELIBERATELY_UNKNOWN = {"--bogus"}  # errors.md shows what an unknown option prints


def _commands() -> dict:
    return next(a for a in build_parser()._actions if a.dest == "command").choices


def _long_options(parser) -> list[str]:
    return [o for a in parser._actions for o in a.option_strings if o.startswith("--")]


def _mentions(option: str, text: str) -> bool:
    return re.search(re.escape(option) + r"(?![\w-])", text) is not None


def test_every_command_has_its_page():
    assert sorted(COMMAND_PAGES) == sorted(_commands())
    for command, pages in COMMAND_PAGES.items():
        assert any(f"hifigan {command}" in (DOCS / page).read_text() for page in pages), command


def test_the_grammar_options_are_in_commands_md():
    grammar = (DOCS / "commands.md").read_text()
    assert [o for o in GRAMMAR_OPTIONS if not _mentions(o, grammar)] == []


@pytest.mark.parametrize("command", sorted(COMMAND_PAGES))
def test_every_help_option_is_on_the_commands_page(command):
    """An option counts as documented on the command's page, or, for an old spelling, in commands.md's table of
    them (a code span that starts with the command)."""
    text = "\n".join((DOCS / page).read_text() for page in COMMAND_PAGES[command])
    old_spellings = [s for s in re.findall(r"`([^`]+)`", (DOCS / "commands.md").read_text())
                     if re.match(rf"(hifigan )?{re.escape(command)} ", s)]
    missing = [o for o in _long_options(_commands()[command]) if o not in GRAMMAR_OPTIONS
               and not _mentions(o, text) and not any(_mentions(o, s) for s in old_spellings)]
    assert missing == [], f"hifigan {command} --help lists options that {COMMAND_PAGES[command]} never name"


def written_options(text: str, commands) -> list[tuple[str, str]]:
    """(command, option) for every `--option` written after `hifigan COMMAND` in a code span or a code block's line
    (a continued line joined), up to the end of that shell command."""
    text = text.replace("\\\n", " ")
    blocks = re.findall(r"```\w*\n(.*?)```", text, flags=re.S)
    pieces = [span.replace("\n", " ") for span in re.findall(r"`([^`]+)`", re.sub(r"```.*?```", "", text, flags=re.S))]
    pieces += [line for block in blocks for line in block.splitlines()]
    names = "|".join(sorted(map(re.escape, commands), key=len, reverse=True))
    invocation = re.compile(rf"\bhifigan ({names})(?![\w-])([^;&|#>`]*)")
    return [(m.group(1), option.replace("[no-]", ""))
            for piece in pieces for m in invocation.finditer(piece)
            for option in re.findall(r"(?<![\w-])--(?:\[no-\])?[a-z][a-z0-9-]*", m.group(2))]


def test_written_options_are_found_in_a_command_line():
    found = written_options("run `hifigan vocode -o out/ --stream x.npy`; then\n```bash\nhifigan train --corpus c \\\n"
                            "    --[no-]cuda-graph  # --not-this\n```\n`hifigan mel --bogus --x` | `--y`",
                            ["mel", "vocode", "train"])
    assert found == [("vocode", "--stream"), ("mel", "--bogus"), ("mel", "--x"), ("train", "--corpus"),
                     ("train", "--cuda-graph")]


def test_every_option_the_manual_writes_exists():
    commands = _commands()
    options = {name: set(_long_options(parser)) for name, parser in commands.items()}
    unknown = [f"{page.name}: hifigan {command} {option}"
               for page in [REPO / "README.md", *sorted(DOCS.glob("*.md"))]
               for command, option in written_options(page.read_text(), commands)
               if option not in options[command] and option not in DELIBERATELY_UNKNOWN]
    assert unknown == []
