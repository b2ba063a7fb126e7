"""The study's SQLite file: schema, and every read and write the server makes.

WAL journal, synchronous=FULL, and one short IMMEDIATE transaction per rating (and per play): once a rater's
click is answered, the rating is on disk, so a killed server loses nothing rated. A connection per call keeps the
server's threads independent; SQLite serialises the writers. A rating is stored at most once per rater and trial
(UNIQUE), so a retried request cannot duplicate it.
"""

from __future__ import annotations

import contextlib
import random
import secrets
import sqlite3
import time
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE trials (
    id INTEGER PRIMARY KEY, token TEXT NOT NULL UNIQUE, clip TEXT NOT NULL, system TEXT NOT NULL,
    source TEXT NOT NULL, sha256 TEXT NOT NULL, UNIQUE (clip, system));
CREATE TABLE raters (
    id INTEGER PRIMARY KEY, name TEXT NOT NULL, name_key TEXT NOT NULL UNIQUE, key TEXT NOT NULL UNIQUE,
    created REAL NOT NULL);
CREATE TABLE schedule (
    rater_id INTEGER NOT NULL REFERENCES raters(id), position INTEGER NOT NULL,
    trial_id INTEGER NOT NULL REFERENCES trials(id), PRIMARY KEY (rater_id, position), UNIQUE (rater_id, trial_id));
CREATE TABLE plays (
    rater_id INTEGER NOT NULL, trial_id INTEGER NOT NULL, at REAL NOT NULL, PRIMARY KEY (rater_id, trial_id));
CREATE TABLE ratings (
    id INTEGER PRIMARY KEY, rater_id INTEGER NOT NULL REFERENCES raters(id),
    trial_id INTEGER NOT NULL REFERENCES trials(id), score INTEGER NOT NULL CHECK (score BETWEEN 1 AND 5),
    at REAL NOT NULL, UNIQUE (rater_id, trial_id));
"""
DB_NAME = "study.sqlite"
SUBSET_OF = "subset_of"  # the meta key of a --subset study: how many recordings its reference folder held


class Outcome(Enum):
    """What became of a submitted rating."""

    STORED = "stored"
    ALREADY_STORED = "already stored"  # the same score again (a retried request): nothing written
    CONFLICT = "already rated with another score"
    NOT_PLAYED = "play the clip to the end before rating it"
    UNKNOWN_TRIAL = "no such trial for this rater"


@dataclass(frozen=True)
class Rater:
    id: int
    name: str
    key: str  # the secret in the rater's URL


@dataclass(frozen=True)
class Trial:
    token: str  # what the rater's page and the audio URL see (not the system's name)
    position: int  # 0-based place in this rater's order
    total: int
    played: bool


def connect(path: Path) -> sqlite3.Connection:
    """A connection in autocommit mode (transactions are explicit), WAL, durable commits, 30 s busy wait."""
    con = sqlite3.connect(path, timeout=30.0, isolation_level=None)
    con.execute("PRAGMA synchronous=FULL")
    con.execute("PRAGMA foreign_keys=ON")
    return con


@contextlib.contextmanager
def transaction(con: sqlite3.Connection, mode: str = "IMMEDIATE") -> Iterator[sqlite3.Connection]:
    """BEGIN ... COMMIT, or ROLLBACK on any exception."""
    con.execute(f"BEGIN {mode}")
    try:
        yield con
    except BaseException:
        con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")


def clean_name(name: str) -> str:
    """A rater's name as stored and shown: NFC (an accent typed as its own mark is the precomposed letter), with
    leading and trailing whitespace dropped and inner runs of it one space."""
    return " ".join(unicodedata.normalize("NFC", name).split())


def name_key(name: str) -> str:
    """Names match case-, space- and accent-encoding-insensitively ("Ada  Lovelace" is "ada lovelace"; "José"
    with a combining accent is "José" precomposed): Unicode's canonical caseless match, NFC on both sides."""
    return unicodedata.normalize("NFC", clean_name(name).casefold())


def rater_order(seed: str, name: str, trial_ids: list[int]) -> list[int]:
    """The rater's seeded random order of all trials: a shuffle by random.Random(f"{seed}:{name_key(name)}")."""
    order = sorted(trial_ids)
    random.Random(f"{seed}:{name_key(name)}").shuffle(order)
    return order


class Store:
    """The study file as the server uses it; each method opens its own connection (thread-safe)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path).resolve()

    @contextlib.contextmanager
    def _con(self) -> Iterator[sqlite3.Connection]:
        con = connect(self.path)
        try:
            yield con
        finally:
            con.close()

    def meta(self, key: str) -> str:
        with self._con() as con:
            return con.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()[0]

    def subset_of(self) -> int | None:
        """With --subset, how many recordings the reference folder held when the study was created; else None."""
        with self._con() as con:
            row = con.execute("SELECT value FROM meta WHERE key = ?", (SUBSET_OF,)).fetchone()
        return None if row is None else int(row[0])

    def clip_count(self) -> int:
        with self._con() as con:
            return con.execute("SELECT COUNT(DISTINCT clip) FROM trials").fetchone()[0]

    def trial_count(self) -> int:
        with self._con() as con:
            return con.execute("SELECT COUNT(*) FROM trials").fetchone()[0]

    def rater(self, name: str) -> Rater:
        """The rater of this name, created with a seeded order of every trial on first use (one transaction)."""
        name = clean_name(name)
        with self._con() as con, transaction(con):
            row = con.execute("SELECT id, name, key FROM raters WHERE name_key = ?", (name_key(name),)).fetchone()
            if row is None:  # a study begun before names were normalised holds keys of the old rule: match by name
                row = next((r for r in con.execute("SELECT id, name, key FROM raters ORDER BY id")
                            if name_key(r[1]) == name_key(name)), None)
            if row is not None:
                return Rater(*row)
            key = secrets.token_urlsafe(12)
            rater_id = con.execute("INSERT INTO raters (name, name_key, key, created) VALUES (?, ?, ?, ?)",
                                   (name, name_key(name), key, time.time())).lastrowid
            seed = con.execute("SELECT value FROM meta WHERE key = 'seed'").fetchone()[0]
            trials = [r[0] for r in con.execute("SELECT id FROM trials")]
            con.executemany("INSERT INTO schedule (rater_id, position, trial_id) VALUES (?, ?, ?)",
                            [(rater_id, i, t) for i, t in enumerate(rater_order(seed, name, trials))])
            return Rater(rater_id, name, key)

    def rater_by_key(self, key: str) -> Rater | None:
        with self._con() as con:
            row = con.execute("SELECT id, name, key FROM raters WHERE key = ?", (key,)).fetchone()
        return None if row is None else Rater(*row)

    def next_trial(self, rater: Rater) -> Trial | None:
        """The first trial in the rater's order without a rating (None when all are rated)."""
        with self._con() as con:
            total = con.execute("SELECT COUNT(*) FROM schedule WHERE rater_id = ?", (rater.id,)).fetchone()[0]
            row = con.execute(
                "SELECT t.token, s.position, p.at IS NOT NULL FROM schedule s JOIN trials t ON t.id = s.trial_id "
                "LEFT JOIN ratings r ON r.rater_id = s.rater_id AND r.trial_id = s.trial_id "
                "LEFT JOIN plays p ON p.rater_id = s.rater_id AND p.trial_id = s.trial_id "
                "WHERE s.rater_id = ? AND r.id IS NULL ORDER BY s.position LIMIT 1", (rater.id,)).fetchone()
        return None if row is None else Trial(row[0], row[1], total, bool(row[2]))

    def rated_count(self, rater: Rater) -> int:
        with self._con() as con:
            return con.execute("SELECT COUNT(*) FROM ratings WHERE rater_id = ?", (rater.id,)).fetchone()[0]

    def _trial_id(self, con: sqlite3.Connection, rater: Rater, token: str) -> int | None:
        row = con.execute("SELECT t.id FROM trials t JOIN schedule s ON s.trial_id = t.id "
                          "WHERE t.token = ? AND s.rater_id = ?", (token, rater.id)).fetchone()
        return None if row is None else row[0]

    def record_play(self, rater: Rater, token: str) -> bool:
        """Note that the rater heard the trial to its end (False for a trial not in their order)."""
        with self._con() as con, transaction(con):
            trial_id = self._trial_id(con, rater, token)
            if trial_id is None:
                return False
            con.execute("INSERT OR IGNORE INTO plays (rater_id, trial_id, at) VALUES (?, ?, ?)",
                        (rater.id, trial_id, time.time()))
            return True

    def record_rating(self, rater: Rater, token: str, score: int) -> Outcome:
        """Store one rating in its own transaction: at most once per rater and trial, only after a play."""
        with self._con() as con, transaction(con):
            trial_id = self._trial_id(con, rater, token)
            if trial_id is None:
                return Outcome.UNKNOWN_TRIAL
            row = con.execute("SELECT score FROM ratings WHERE rater_id = ? AND trial_id = ?",
                              (rater.id, trial_id)).fetchone()
            if row is not None:
                return Outcome.ALREADY_STORED if row[0] == score else Outcome.CONFLICT
            if con.execute("SELECT 1 FROM plays WHERE rater_id = ? AND trial_id = ?",
                           (rater.id, trial_id)).fetchone() is None:
                return Outcome.NOT_PLAYED
            con.execute("INSERT INTO ratings (rater_id, trial_id, score, at) VALUES (?, ?, ?, ?)",
                        (rater.id, trial_id, score, time.time()))
            return Outcome.STORED

    def audio_file(self, token: str) -> Path | None:
        """The stimulus file of a trial token (inside the study's audio/ folder)."""
        with self._con() as con:
            row = con.execute("SELECT 1 FROM trials WHERE token = ?", (token,)).fetchone()
        return None if row is None else self.path.parent / "audio" / f"{token}.wav"

    def ratings(self) -> list[tuple[str, str, str, int]]:
        """Every rating as (rater name, system, clip, score), in the order they were stored."""
        with self._con() as con:
            return con.execute("SELECT a.name, t.system, t.clip, r.score FROM ratings r JOIN raters a ON "
                               "a.id = r.rater_id JOIN trials t ON t.id = r.trial_id ORDER BY r.id").fetchall()

    def systems(self) -> list[str]:
        """System names in the study's order (the hidden reference first)."""
        with self._con() as con:
            return [r[0] for r in con.execute("SELECT system FROM trials GROUP BY system ORDER BY MIN(id)")]
