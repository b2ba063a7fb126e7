"""A key as the file spells it, for the messages of weights that do not fit: an official file's old-style norm keys
(weight_g / weight_v, weight_orig / weight_u / weight_v) and wrapper prefixes ('module.', '_orig_mod.'), a plain
weight saved after remove_weight_norm; the user greps the file for the key a message names."""

from __future__ import annotations

from collections.abc import Callable

from hifigan.checkpoints.official import StateDict, official_to_ours, ours_to_official, unwrapped
from hifigan.models.norms import WEIGHT_NORM_KEYS

Spelling = Callable[[str], str]  # one of our keys -> the file's spelling of it


def file_spelling(saved: StateDict) -> Spelling:
    """How the state `saved`, as an official or bare file holds it, spells each of our keys (official_to_ours'
    renaming undone): a key it holds as it holds it, one it lacks as it would (its norm keys' style, its prefix)."""
    held = official_to_ours({key: key for key in saved})  # our key -> the file's
    first = next(iter(unwrapped({key: key for key in saved}).items()), ("", ""))
    prefix = first[1][: len(first[1]) - len(first[0])]
    old_style = any(prefix + mine != theirs for mine, theirs in held.items())

    def spelled(key: str) -> str:
        if key in held:
            return held[key]
        return prefix + (next(iter(ours_to_official({key: None}))) if old_style else key)

    return spelled


def misfit_spelling(given: StateDict, normed: StateDict, spelled: Spelling | None) -> Spelling:
    """Our key as the file behind `given` (our keys; `normed`: as models.norms.with_weight_norms took its plain
    weights) spells it: a weight norm's g or v that the file holds as a plain NAME.weight, or would (it was saved
    plain: some plain weight was taken), as that weight; then as `spelled` (file_spelling; None: as we do)."""
    plain_file = any(key not in normed for key in given)

    def name(key: str) -> str:
        leaf = next((leaf for leaf in WEIGHT_NORM_KEYS if key.endswith("." + leaf) or key == leaf), None)
        if leaf is not None and key not in given:
            plain = key[: len(key) - len(leaf)] + "weight"
            if plain in given or plain_file:
                key = plain
        return key if spelled is None else spelled(key)

    return name
