"""docs/sample-rates.md's table of the presets is `hifigan configs`' rows (cli/configs.preset_row) as Markdown, the
recipe's file beside its project: the page restates no preset's rate, hop, band or mel in its own words, and a preset
edited without its row fails here, the table to paste in the message."""

from __future__ import annotations

from hifigan.cli.configs import COLUMNS, preset_row
from hifigan.config import load_preset
from hifigan.config.files import preset_names
from tests.support.files import REPO

PAGE = REPO / "docs" / "sample-rates.md"
NUMBERS = ("rate", "hop", "mels")  # right-aligned columns


def preset_table() -> list[str]:
    """The lines of the Markdown table: header, alignment, one row per preset in `hifigan configs`' order."""
    align = "|".join("---:" if c in NUMBERS else "---" for c in COLUMNS)
    lines = ["| " + " | ".join(COLUMNS) + " |", f"|{align}|"]
    for name in preset_names():
        row, recipe = preset_row(name), load_preset(name).recipe
        cells = [str(row[c]).replace("|", "\\|") for c in COLUMNS[1:-1]]  # `|X|` would end a cell
        lines.append(f"| `{name}` | {' | '.join(cells)} | {recipe['project']} `{recipe['file']}` |")
    return lines


def written_table(text: str) -> list[str]:
    """The table on the page: the lines from its header (`hifigan configs`' column names) to the first that is not a
    row."""
    lines = text.splitlines()
    start = lines.index(preset_table()[0])
    end = next((i for i in range(start, len(lines)) if not lines[i].startswith("|")), len(lines))
    return lines[start:end]


def test_the_presets_table_is_hifigan_configs():
    expected = preset_table()
    assert written_table(PAGE.read_text()) == expected, "docs/sample-rates.md's presets table should be:\n" + "\n".join(
        expected)


def test_a_drifted_row_is_found():
    """A row whose mel is written in other words than ModelMel's label (as the page's hand-written table had it:
    'natural log, centred frames, no epsilon' for speechbrain-16k), a missing row and an extra one all differ."""
    table = preset_table()
    text = PAGE.read_text()
    row = next(line for line in table if line.startswith("| `speechbrain-16k` |"))
    drifted = row.replace("official, centred frames, \\|X\\| without epsilon",
                          "natural log, centred frames, no epsilon")
    assert drifted != row
    for changed in (text.replace(row, drifted), text.replace(row + "\n", ""), text.replace(row, row + "\n" + row)):
        assert written_table(changed) != table
