"""docs/design.md's package layout names every module under src/hifigan, and no module that is gone."""

from __future__ import annotations

import re

from tests.support.files import REPO

PACKAGE = REPO / "src" / "hifigan"


def _layout() -> str:
    """The text block of design.md's package layout (from `src/hifigan/` to the block's end)."""
    text = (REPO / "docs" / "design.md").read_text()
    start = text.index("```text\nsrc/hifigan/")
    return text[start: text.index("\ntests/", start)]


def test_the_package_layout_names_every_module():
    layout = _layout()
    modules = sorted(p.relative_to(PACKAGE) for p in PACKAGE.rglob("*.py") if p.name != "__init__.py")
    unnamed = [str(m) for m in modules if not re.search(rf"(?<![\w.]){re.escape(m.name)}", layout)]
    assert unnamed == [], f"design.md's layout does not name: {', '.join(unnamed)}"


def test_the_package_layout_names_no_module_that_is_gone():
    present = {p.name for p in PACKAGE.rglob("*.py")}
    gone = sorted(set(re.findall(r"(?<![\w.])(\w+\.py)\b", _layout())) - present)
    assert gone == [], f"design.md's layout names modules that are not in src/hifigan: {', '.join(gone)}"
