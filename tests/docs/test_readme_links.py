"""README.md's links into the manual lead somewhere. `make docs` (mkdocs --strict) checks the links between the
pages of docs/, but the README is not one of them, so a renamed heading or page would break its links silently."""

from __future__ import annotations

import re
from pathlib import Path

from markdown.extensions.toc import slugify

from tests.support.files import REPO

LINK = re.compile(r"\]\(([^)\s#]+)(?:#([^)\s]+))?\)")


def heading_anchors(page: Path) -> set[str]:
    """The anchors mkdocs gives a page's headings (Python-Markdown's toc: code marks dropped, then slugified)."""
    text = re.sub(r"^```.*?^```", "", page.read_text(), flags=re.S | re.M)
    return {slugify(re.sub(r"[`*]", "", title).strip(), "-") for title in re.findall(r"^#{1,6} (.+)$", text, re.M)}


def broken_links(page: Path) -> list[str]:
    """Each relative link of a page whose file does not exist, or whose #anchor is no heading of that file."""
    broken = []
    for target, anchor in LINK.findall(page.read_text()):
        if re.match(r"[a-z]+:", target):
            continue  # http(s), mailto: not the manual's
        path = (page.parent / target).resolve()
        if not path.exists():
            broken.append(f"{target}: no such file")
        elif anchor and anchor not in heading_anchors(path):
            broken.append(f"{target}#{anchor}: no such heading")
    return broken


def test_the_anchors_are_mkdocs_own():
    assert {"listening-side-by-side-html", "the-demo-make-demo", "install"} <= (
        heading_anchors(REPO / "docs" / "evaluation.md") | heading_anchors(REPO / "docs" / "index.md"))


def test_a_broken_link_is_found(tmp_path):
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "a.md").write_text("# A page\n\n```bash\n# not a heading\n```\n## Its `--part`\n")
    page = tmp_path / "README.md"
    page.write_text("[ok](docs/a.md) [ok](docs/a.md#its-part) [ok](docs/a.md#a-page) [web](https://x.org/#y)\n"
                    "[bad](docs/a.md#not-a-heading) [gone](docs/b.md)")
    assert broken_links(page) == ["docs/a.md#not-a-heading: no such heading", "docs/b.md: no such file"]


def test_readme_links_lead_to_existing_pages_and_headings():
    assert broken_links(REPO / "README.md") == []
