"""A study folder: the stimuli (every system's version of every clip, the recordings as a hidden reference), copied
as WAV under random names (blinding.py: one format, one length per clip), and the SQLite file that holds them, the
raters and the ratings.

STUDY/study.sqlite appears last (renamed into place once audio/ is, each flushed to disk first), so a folder holding
it is a complete study. Running `hifigan listen` again with the same folders continues the study; with other
folders it is an error.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import secrets
import shutil
import sqlite3
import tempfile
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from hifigan.errors import HifiganError, bad_inputs
from hifigan.evaluation.listening.store import DB_NAME, SCHEMA, SUBSET_OF, Store, connect, transaction
from hifigan.evaluation.report.names import REFERENCE  # the recordings' system name: rated blind like the others
from hifigan.files.atomic import fsync_file, fsync_folder
from hifigan.files.output_folders import prepare_output_dir
from hifigan.files.write_failures import write_failure
from hifigan.messages.plural import agree, count

# The 5-point absolute category rating scale (ITU-T P.800), as in the paper's MOS test.
SCALE = {5: "Excellent", 4: "Good", 3: "Fair", 2: "Poor", 1: "Bad"}


@dataclass(frozen=True)
class Stimulus:
    clip: str
    system: str
    source: Path
    sha256: str


def collect_stimuli(reference: Path, systems: dict[str, Path], subset: bool = False) -> tuple[list[Stimulus], int]:
    """Every clip of the reference folder (`subset`, --subset: of the stems the systems hold, the other recordings
    only listed) and each system's file of the same stem, checked to be readable audio; and how many recordings the
    reference folder holds.

    A system missing a clip, a file whose stem the reference lacks, a file that is not audio or holds NaN or inf
    samples, or one with another channel count than its clip's reference (a copy's header would tell its system)
    is an error naming it; several are named in one line (hifigan.errors.bad_inputs). Files with other suffixes
    (.txt, .npy) and hidden files are ignored, as `hifigan evaluate` does.
    """
    from hifigan.audio import audio_info, decode_audio  # audio and pairing import torch: only a new study needs them
    from hifigan.evaluation.pairing import audio_files, scan_folder, subset_hint, subset_rule

    if not systems:
        raise HifiganError(None, "no systems to rate: give --system NAME=DIR at least once")
    if REFERENCE in systems:
        raise HifiganError(systems[REFERENCE], f"the system name {REFERENCE!r} is the hidden reference's; rename it")
    folders = {REFERENCE: Path(reference), **systems}
    outputs = {name: audio_files(folder) for name, folder in systems.items()}
    recordings = scan_folder(reference, {stem for found in outputs.values() for stem in found} if subset else None)
    files = {REFERENCE: recordings.checked(), **outputs}
    why = subset_rule(cli=True) if subset else f"every system needs every clip ({subset_hint('rates', cli=True)})"
    clips = sorted(files[REFERENCE])
    problems: list[HifiganError] = []  # every bad input, named in one line (a batch takes one rerun)
    inputs = len(clips) * len(files)
    for name, found in files.items():
        for stem in clips:
            if stem not in found:
                problems.append(HifiganError(folders[name], f"system {name!r} has no clip {stem!r} (the reference "
                                             f"has {files[REFERENCE][stem].name}); {why}"))
        extra = [HifiganError(path, f"no reference clip with stem {stem!r} in {reference}")
                 for stem, path in found.items() if stem not in files[REFERENCE]]
        problems += extra
        inputs += len(extra)  # besides every system's file of every clip
    stimuli = []
    channels: dict[str, int] = {}  # each clip's reference's channel count (the reference comes first)
    for name, found in files.items():
        for stem in clips:
            path = found.get(stem)
            if path is None:
                continue
            try:
                info = audio_info(path)
                if info.frames == 0:
                    raise HifiganError(path, "contains no audio samples")
                if name == REFERENCE:
                    channels[stem] = info.channels
                elif channels.get(stem, info.channels) != info.channels:  # a copy's header would tell its system
                    raise HifiganError(path, f"has {count(info.channels, 'channel')}, the reference's "
                                       f"{files[REFERENCE][stem].name} {channels[stem]}; every version of a clip "
                                       "needs the reference's channel count")
                decode_audio(path)  # whole, as `hifigan evaluate` reads it: it must decode, its samples be finite
                # (a diverged vocoder's NaN or inf would be copied into the study and played to raters)
            except HifiganError as e:
                problems.append(e)
                continue
            stimuli.append(Stimulus(stem, name, path, hashlib.sha256(path.read_bytes()).hexdigest()))
    if problems:
        raise bad_inputs(problems, inputs)
    return stimuli, recordings.held()


def open_study(folder: str | os.PathLike) -> Store:
    """The store of an existing study (one-line error when `folder` holds none)."""
    folder = Path(folder)
    db = folder / DB_NAME
    if not db.is_file():
        what = "no such folder" if not folder.exists() else f"holds no study ({DB_NAME} missing)"
        raise HifiganError(folder, f"{what}; start one with hifigan listen --reference DIR --system NAME=DIR "
                           f"--out {folder}")
    try:
        with contextlib.closing(connect(db)) as con:
            con.execute("SELECT COUNT(*) FROM ratings").fetchone()
    except Exception as e:
        raise HifiganError(db, f"not a hifigan study database ({e})") from None
    return Store(db)


def study_for(folder: str | os.PathLike, reference: Path | None, systems: dict[str, Path], seed: int | None,
              ready: Callable[[], None] = lambda: None, subset: bool | None = None) -> Store:
    """Open the study in `folder`, or create it from the folders; given folders must match an existing study.
    `seed` (None: 0) orders the raters' trials of a new study; an existing study keeps its own, with a warning
    where another is given. `ready` runs once every input has passed its checks and before anything is written
    (serving binds its port there, so that a used port leaves no study behind). `subset`: collect_stimuli's, kept
    in the study (None: the study's own, for a new one False); an existing study refuses the other choice."""
    folder = Path(folder)
    if (folder / DB_NAME).exists():
        store = open_study(folder)
        if seed is not None and str(seed) != store.meta("seed"):
            warnings.warn(f"--seed {seed} is ignored: the study's trial orders were fixed when it was created "
                          f"(seed {store.meta('seed')})", stacklevel=2)
        chosen = store.subset_of() is not None
        if subset is not None and subset != chosen:
            how = "a test set (--subset)" if chosen else "every recording (without --subset)"
            raise HifiganError(folder, f"holds a study of {how}, chosen when it was created; continue it without "
                               "choosing again, or use another --out")
        if reference is not None or systems:
            given = collect_stimuli(reference, systems, chosen)[0] if reference is not None else []
            _check_same(store, given, folder)
        ready()
        return store
    if reference is None:
        raise HifiganError(folder, "no study here yet: give --reference DIR and --system NAME=DIR to create one")
    stimuli, recordings = collect_stimuli(reference, systems, bool(subset))
    ready()
    return create_study(folder, stimuli, 0 if seed is None else seed, recordings if subset else None)


def _check_same(store: Store, stimuli: list[Stimulus], folder: Path) -> None:
    with contextlib.closing(connect(store.path)) as con:
        stored = {(clip, system): sha for clip, system, sha in con.execute("SELECT clip, system, sha256 FROM trials")}
    given = {(s.clip, s.system): s.sha256 for s in stimuli}
    if given != stored:
        raise HifiganError(folder, f"holds a study of other audio ({'; '.join(_differences(stored, given))}); use "
                           "another --out, or leave out --reference/--system to continue it")


def _differences(stored: dict[tuple[str, str], str], given: dict[tuple[str, str], str]) -> list[str]:
    """What the given stimuli lack, add or change against the study's: whole systems by name, others counted."""
    def stimuli(n: int) -> str:
        return count(n, "stimulus", "stimuli")

    def grouped(keys: set[tuple[str, str]], other: dict[tuple[str, str], str], whole: str, part: str) -> list[str]:
        systems = sorted({s for _, s in keys if not any(k[1] == s for k in other)})  # in one side only
        rest = sorted(f"{c}/{s}" for c, s in keys if s not in systems)
        said = [f"system {s!r} {whole} ({stimuli(sum(k[1] == s for k in keys))})" for s in systems]
        return said + ([f"{stimuli(len(rest))} {part}, e.g. {rest[0]}"] if rest else [])

    changed = sorted(f"{c}/{s}" for c, s in stored.keys() & given.keys() if stored[c, s] != given[c, s])
    return (grouped(stored.keys() - given.keys(), given, "is missing", "missing")
            + grouped(given.keys() - stored.keys(), stored, "is not in the study", "not in the study")
            + ([f"{stimuli(len(changed))} {agree(len(changed), 'differs', 'differ')}, e.g. {changed[0]}"] if changed
               else []))


def create_study(folder: Path, stimuli: list[Stimulus], seed: int, subset_of: int | None = None) -> Store:
    """Copy the stimuli as blind WAV copies under random tokens and write the database; both appear only when
    complete. `subset_of`: the clips are a test set (--subset) of a folder of this many recordings."""
    from hifigan.audio import audio_info
    from hifigan.evaluation.listening.blinding import study_subtype

    subtype = study_subtype([audio_info(s.source).subtype for s in stimuli])
    versions = {clip: [s for s in stimuli if s.clip == clip] for clip in dict.fromkeys(s.clip for s in stimuli)}
    prepare_output_dir(folder)
    audio = folder / "audio"
    if audio.exists():
        raise HifiganError(audio, f"exists but {DB_NAME} does not (an interrupted start?); remove it or use "
                           "another --out")
    staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=folder))
    try:
        try:
            _stage(staging, versions, stimuli, subtype, seed, subset_of)
        except (OSError, sqlite3.Error) as e:  # a full disk: name the study, not a staging file the user never saw
            raise write_failure(folder, e) from None
        _move_in(staging, folder)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return Store(folder / DB_NAME)


def _move_in(staging: Path, folder: Path) -> None:
    """Rename the staged audio/, then the database, into the study folder, each durable before the next (a folder
    holding the database holds its copies). A failed rename, or a Ctrl-C before the database is in place, takes
    audio/ back out: the next start would refuse an audio/ without its database."""
    try:
        os.replace(staging / "audio", folder / "audio")
        fsync_folder(folder)
        os.replace(staging / DB_NAME, folder / DB_NAME)
    except BaseException as e:
        if (staging / DB_NAME).exists() and not (staging / "audio").exists():
            with contextlib.suppress(OSError):
                os.replace(folder / "audio", staging / "audio")
        if isinstance(e, OSError):  # name the study, not a staging path the user never saw
            raise write_failure(folder, e) from None
        raise
    fsync_folder(folder)


def _stage(staging: Path, versions: dict[str, list[Stimulus]], stimuli: list[Stimulus], subtype: str, seed: int,
           subset_of: int | None) -> None:
    """Write the blind copies to staging/audio/ and the database to staging/DB_NAME, each flushed to disk."""
    from hifigan.evaluation.listening.blinding import blind_versions

    (staging / "audio").mkdir()
    tokens = {}
    for clip, group in versions.items():
        for s, wav in zip(group, blind_versions(clip, [s.source for s in group], subtype)):
            tokens[s] = secrets.token_hex(8)
            copy = staging / "audio" / f"{tokens[s]}.wav"
            copy.write_bytes(wav)
            fsync_file(copy)
    fsync_folder(staging / "audio")
    rows = [(tokens[s], s.clip, s.system, str(s.source.resolve()), s.sha256) for s in stimuli]
    db = staging / DB_NAME
    with contextlib.closing(connect(db)) as con:
        con.execute("PRAGMA journal_mode=WAL")
        con.executescript(SCHEMA)
        with transaction(con):
            con.executemany("INSERT INTO trials (token, clip, system, source, sha256) VALUES (?, ?, ?, ?, ?)", rows)
            meta = {"format": "hifigan-listen 1", "seed": str(seed), "created": str(time.time()),
                    "admin_key": secrets.token_urlsafe(12), "scale": json.dumps(SCALE),
                    **({} if subset_of is None else {SUBSET_OF: str(subset_of)})}
            con.executemany("INSERT INTO meta (key, value) VALUES (?, ?)", meta.items())
    fsync_file(db)  # closed: the WAL is checkpointed into it


def stimulus_rates(store: Store) -> dict[str, list[int]]:
    """Each system's sample rates (distinct, ascending) as the study's copies hold them, in study order."""
    import soundfile as sf  # the header only; hifigan.audio would import torch for a study being continued

    with contextlib.closing(connect(store.path)) as con:
        rows = con.execute("SELECT token, system FROM trials").fetchall()
    rates: dict[str, set[int]] = {system: set() for system in store.systems()}
    for token, system in rows:
        rates[system].add(sf.info(str(store.audio_file(token))).samplerate)
    return {system: sorted(found) for system, found in rates.items()}


def rates_text(rates: dict[str, list[int]]) -> str:
    """"24000 Hz" when every stimulus has one rate, else each system's; every file is played at its own rate."""
    every = sorted({r for found in rates.values() for r in found})
    if len(every) == 1:
        return f"{every[0]} Hz"
    systems = ", ".join(f"{system} {'/'.join(map(str, found))} Hz" for system, found in rates.items())
    return f"several rates: {systems} (each file is played at its own rate)"
