"""File names in matplotlib figures (validation's and the demo's mel figures, evaluate's PNG): drawn as written, with
`parse_math=False` beside them (a clip `a$_$b` is no mathtext: matplotlib raised ValueError mid-run)."""

from __future__ import annotations


def drawable(text: str) -> str:
    """`text` with each character that does not print (a tab) or that the figures' font has no glyph for (CJK in
    DejaVu Sans, say) written as its escape (`\\t`, `\\u9332`): matplotlib would draw an empty box and warn of
    each missing glyph on stderr."""
    from matplotlib.font_manager import FontProperties, findfont, get_font

    font = get_font(findfont(FontProperties()))
    return "".join(c if c.isprintable() and font.get_char_index(ord(c)) else c.encode("unicode_escape").decode()
                   for c in text)
