"""Every problem of `hifigan evaluate`'s inputs, found in one run and named in one line (hifigan.errors.bad_inputs)
before anything is scored or written: the folders (missing, no audio directly in them, a stem shared by several
files), the config (none fits the recordings' rate), and each file (a header, the rate, the channels, a partner,
the samples, the lengths). A user fixing a corpus then meets every problem at once, not one per run."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from hifigan.config import HifiganConfig
from hifigan.errors import HifiganError, bad_inputs, in_path_order
from hifigan.evaluation.pairing import Pair
from hifigan.messages.option_names import setting
from hifigan.messages.plural import count


@dataclass
class Inputs:
    """Inputs that passed every check: the config the metrics use, its name (as given, or the preset chosen),
    each system's pairs (stem, recording, generated file), and with --subset how many recordings the folder holds
    (None: every one is paired)."""

    config: HifiganConfig
    config_name: str
    pairs: dict[str, list[Pair]]
    subset_of: int | None = None


def check_inputs(reference: Path, systems: dict[str, Path], config: str | HifiganConfig | None, *,
                 resample: bool = False, mix_to_mono: bool = False, max_shift: int = 0,
                 metrics: Iterable[str] | None = None, max_length_difference: int | None = None,
                 subset: bool = False, model: str | None = None, cli: bool) -> Inputs:
    """Scan the recordings' folder and each system's, choose the config (hifigan.evaluation.rate_config), pair by
    stem and read every paired file as the evaluation will; every problem found is named in one line, in path order.
    `subset`: only the recordings of the stems the systems hold are paired and read (the others are only listed),
    and every system must hold the same stems. `model`: the model `config` is of, in words (metric_config). `cli`
    (`hifigan evaluate`): a hint names the option (`--resample`), not the argument (`resample=True`;
    hifigan.messages.option_names).
    """
    from hifigan.evaluation.pairing import match_stems, scan_folder
    from hifigan.evaluation.rate_config import metric_config

    outputs = {path: scan_folder(path) for path in dict.fromkeys(map(Path, systems.values()))}
    stems = {stem for folder in outputs.values() for stem in folder.files} if subset else None
    recordings = scan_folder(reference, stems)
    folders = {**outputs, Path(reference): recordings}  # a system that is the recordings' folder counts once
    matched = {name: match_stems(recordings, outputs[Path(folder)], subset=subset, cli=cli)
               for name, folder in systems.items()}
    chosen = metric_config(config, recordings, resample=resample, mix_to_mono=mix_to_mono, model=model, cli=cli)
    found = [*(e for folder in folders.values() for e in folder.problems), *chosen.problems,
             *(e for _, unpaired, _ in matched.values() for e in unpaired)]
    # each file once (the recordings too, which every system shares); a folder without audio is named as a whole
    files = sum(folder.count() or 1 for folder in folders.values())
    pairs = {name: paired for name, (paired, _, _) in matched.items()}
    check_pairs([pair for system in pairs.values() for pair in system], chosen.config, chosen.rate,
                resample=resample, mix_to_mono=mix_to_mono, max_shift=max_shift, metrics=metrics, found=found,
                max_length_difference=max_length_difference,
                unread=[e for e in chosen.problems if e.path is not None], files=files, cli=cli)
    assert chosen.config is not None and chosen.name is not None  # else its problem was raised with the others
    return Inputs(chosen.config, chosen.name, pairs, recordings.held() if subset else None)


def check_pairs(pairs: Sequence[Pair], config: HifiganConfig | None, rate: int | None, *, resample: bool = False,
                mix_to_mono: bool = False, max_shift: int = 0, found: Sequence[HifiganError] = (),
                unread: Sequence[HifiganError] = (), files: int = 0, metrics: Iterable[str] | None = None,
                max_length_difference: int | None = None, cli: bool) -> None:
    """Read every file of every pair at `rate` as the evaluation will (format, truncation, NaN; lengths within
    `max_length_difference` (None: one hop), long enough for the metrics asked for (`metrics`, None: all) once a
    delay of up to `max_shift` is cut) before anything is scored or written; every bad file, and every problem
    `found` before, of `files` files, is named in one line. The files `unread` names (a recording's header or
    rate) are not read again. `cli`: a hint names the option, not the argument (hifigan.messages.option_names).

    Without a config (none fits the recordings, a problem in `found`) the lengths are not checked: the tolerance is
    its hop and the shortest length its frame. Without a rate (no recording's header reads) the generated files are
    still read for all that does not compare them with the recordings."""
    from hifigan.audio import load_audio
    from hifigan.evaluation.metrics import min_samples
    from hifigan.evaluation.pairing import check_max_shift, length_tolerance, match_lengths

    tolerance = 0
    if config is not None:  # an option out of range is named, not blamed on every file
        check_max_shift(max_shift, config.hop_size, cli)
        tolerance = length_tolerance(config.hop_size, max_length_difference, cli)
    problems: list[HifiganError] = list(found)
    needs = min_samples(config, metrics) if config is not None else 0
    # a recording shared by several systems is read once; -1: bad (named already, or now)
    loaded: dict[Path, int] = {Path(e.path): -1 for e in unread if e.path is not None}
    for _, ref_path, gen_path in pairs:
        lengths = []
        for path in (ref_path, gen_path):
            if path not in loaded:
                try:
                    loaded[path] = len(load_audio(path, rate, resample=resample, mix_to_mono=mix_to_mono,
                                                    cli=cli))
                except HifiganError as e:
                    problems.append(e)
                    loaded[path] = -1
            lengths.append(loaded[path])
        if min(lengths) >= 0 and config is not None:
            try:
                source = f"{gen_path} (vs {ref_path})"
                match_lengths(np.empty(lengths[0]), np.empty(lengths[1]), tolerance, source, cli)
            except HifiganError as e:
                problems.append(e)
                continue
            if min(lengths) - max_shift < needs:
                cut = f" less {setting('max_shift', max_shift, cli)}" if max_shift else ""
                problems.append(HifiganError(source, f"too short: {count(min(lengths), 'sample')}{cut}, the "
                                                     f"metrics need at least {needs}"))
    if problems:  # in path order, whichever check found them
        raise bad_inputs(in_path_order(problems), max(len(loaded), files))
