"""The study's SQLite database: the key (which case is synthetic), tokens, assignments and answers.

It lives at STUDY/study.sqlite, outside the served media folder. WAL mode with
synchronous=FULL: a committed answer survives a killed server (and a power cut).
Each write is one `BEGIN IMMEDIATE` transaction; UNIQUE(rater, case) makes a replayed
answer impossible to store twice.
"""
from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

from ..errors import UnreadableInput

DB_NAME = "study.sqlite"
MEDIA_DIR = "media"
CONFIDENCE_LEVELS = {1: "guess", 2: "fairly sure", 3: "certain"}

SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE cases (
  id INTEGER PRIMARY KEY,
  media_id TEXT NOT NULL UNIQUE,
  synthetic INTEGER NOT NULL CHECK (synthetic IN (0, 1)),
  source TEXT NOT NULL
);
CREATE TABLE raters (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, token TEXT NOT NULL UNIQUE);
CREATE TABLE assignments (
  rater_id INTEGER NOT NULL REFERENCES raters(id),
  position INTEGER NOT NULL,
  case_id INTEGER NOT NULL REFERENCES cases(id),
  first_served_at REAL,
  served_at REAL,
  PRIMARY KEY (rater_id, position),
  UNIQUE (rater_id, case_id)
);
CREATE TABLE answers (
  id INTEGER PRIMARY KEY,
  rater_id INTEGER NOT NULL REFERENCES raters(id),
  case_id INTEGER NOT NULL REFERENCES cases(id),
  says_synthetic INTEGER NOT NULL CHECK (says_synthetic IN (0, 1)),
  confidence INTEGER NOT NULL CHECK (confidence BETWEEN 1 AND 3),
  realism INTEGER NOT NULL CHECK (realism BETWEEN 1 AND 5),
  seconds REAL NOT NULL,
  seconds_since_first_served REAL NOT NULL,
  answered_at REAL NOT NULL,
  UNIQUE (rater_id, case_id)
);
"""


def connect(path: str | Path) -> sqlite3.Connection:
    """A connection with the durability and concurrency settings every caller needs."""
    conn = sqlite3.connect(str(path), timeout=30.0, isolation_level=None, check_same_thread=False)
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("PRAGMA foreign_keys=ON")
    conn.execute("PRAGMA busy_timeout=30000")
    return conn


def open_read_only(path: str | Path) -> sqlite3.Connection:
    """A connection that cannot change the file: analysis and checks must never alter a study's database."""
    uri = Path(path).resolve().as_uri() + "?mode=ro"
    conn = sqlite3.connect(uri, uri=True, timeout=30.0, isolation_level=None, check_same_thread=False)
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA busy_timeout=30000")
    return conn


def open_study(study_dir: str | Path, read_only: bool = False) -> sqlite3.Connection:
    """Check the folder holds a study database (read-only, so a bad file is left as it was), then open it."""
    path = Path(study_dir) / DB_NAME
    if not path.is_file():
        raise UnreadableInput(f"{study_dir} is not a study folder (no {DB_NAME}); make one with `sonosynth study create`")
    try:
        conn = open_read_only(path)
    except sqlite3.DatabaseError as e:
        raise UnreadableInput(f"{path} is not a readable study database: {e}") from e
    try:
        conn.execute("SELECT count(*) FROM answers").fetchone()
    except sqlite3.DatabaseError as e:
        conn.close()
        raise UnreadableInput(f"{path} is not a readable study database: {e}") from e
    if read_only:
        return conn
    conn.close()
    return connect(path)


def initialise(conn: sqlite3.Connection, meta: dict[str, str], cases: list[tuple[str, bool, str]],
               raters: list[tuple[str, str]], orders: list[list[int]]) -> None:
    """Write a new study: cases are (media_id, synthetic, source); orders[r] lists case indices for rater r."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        for statement in SCHEMA.split(";"):
            if statement.strip():
                conn.execute(statement)
        conn.executemany("INSERT INTO meta VALUES (?, ?)", sorted(meta.items()))
        conn.executemany("INSERT INTO cases (id, media_id, synthetic, source) VALUES (?, ?, ?, ?)",
                         [(i + 1, m, int(s), src) for i, (m, s, src) in enumerate(cases)])
        conn.executemany("INSERT INTO raters (id, name, token) VALUES (?, ?, ?)",
                         [(r + 1, name, tok) for r, (name, tok) in enumerate(raters)])
        conn.executemany("INSERT INTO assignments (rater_id, position, case_id) VALUES (?, ?, ?)",
                         [(r + 1, pos, c + 1) for r, order in enumerate(orders) for pos, c in enumerate(order)])
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise


def meta(conn: sqlite3.Connection) -> dict[str, str]:
    return {r["key"]: r["value"] for r in conn.execute("SELECT key, value FROM meta")}


def rater_for_token(conn: sqlite3.Connection, token: str) -> sqlite3.Row | None:
    if not token or len(token) > 128:
        return None
    return conn.execute("SELECT id, name FROM raters WHERE token = ?", (token,)).fetchone()


def raters(conn: sqlite3.Connection) -> list[sqlite3.Row]:
    return conn.execute("SELECT id, name, token FROM raters ORDER BY id").fetchall()


_CURRENT = """
SELECT a.position, a.case_id, c.media_id, a.served_at FROM assignments a JOIN cases c ON c.id = a.case_id
WHERE a.rater_id = ? AND NOT EXISTS (SELECT 1 FROM answers x WHERE x.rater_id = a.rater_id AND x.case_id = a.case_id)
ORDER BY a.position LIMIT 1
"""


def current_case(conn: sqlite3.Connection, rater_id: int) -> sqlite3.Row | None:
    """The rater's next unanswered case (in their own order), or None when they are done."""
    return conn.execute(_CURRENT, (rater_id,)).fetchone()


def serve_next(conn: sqlite3.Connection, rater_id: int) -> sqlite3.Row | None:
    """The current case, stamped as served now (the clock for this case's time starts here)."""
    now = time.time()
    conn.execute("BEGIN IMMEDIATE")
    try:
        row = conn.execute(_CURRENT, (rater_id,)).fetchone()
        if row is not None:
            conn.execute("UPDATE assignments SET served_at = ?, first_served_at = coalesce(first_served_at, ?) "
                         "WHERE rater_id = ? AND position = ?", (now, now, rater_id, row["position"]))
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return row


@dataclass(frozen=True)
class Outcome:
    """What happened to a submitted answer; `status` is the HTTP code the app returns."""

    status: int
    message: str


def record_answer(conn: sqlite3.Connection, rater_id: int, media_id: str, says_synthetic: bool,
                  confidence: int, realism: int) -> Outcome:
    """Store the answer if it is for the rater's current, served case; anything else changes nothing."""
    now = time.time()
    conn.execute("BEGIN IMMEDIATE")
    try:
        cur = conn.execute(_CURRENT, (rater_id,)).fetchone()
        if cur is None or cur["media_id"] != media_id:
            conn.execute("ROLLBACK")
            answered = conn.execute("SELECT 1 FROM answers x JOIN cases c ON c.id = x.case_id "
                                    "WHERE x.rater_id = ? AND c.media_id = ?", (rater_id, media_id)).fetchone()
            return Outcome(409, "this case was already answered; answers are final") if answered else \
                Outcome(409, "this is not your current case")
        if cur["served_at"] is None:
            conn.execute("ROLLBACK")
            return Outcome(409, "this case has not been shown yet")
        first = conn.execute("SELECT first_served_at FROM assignments WHERE rater_id = ? AND case_id = ?",
                             (rater_id, cur["case_id"])).fetchone()[0]
        conn.execute("INSERT INTO answers (rater_id, case_id, says_synthetic, confidence, realism, seconds, "
                     "seconds_since_first_served, answered_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                     (rater_id, cur["case_id"], int(says_synthetic), confidence, realism,
                      now - cur["served_at"], now - first, now))
        conn.execute("COMMIT")
        return Outcome(201, "saved")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise


def progress(conn: sqlite3.Connection) -> list[dict]:
    """Per rater: name, answered, total."""
    rows = conn.execute(
        "SELECT r.id, r.name, (SELECT count(*) FROM assignments a WHERE a.rater_id = r.id) AS total, "
        "(SELECT count(*) FROM answers x WHERE x.rater_id = r.id) AS answered FROM raters r ORDER BY r.id")
    return [dict(r) for r in rows]


def rater_progress(conn: sqlite3.Connection, rater_id: int) -> tuple[int, int]:
    total = conn.execute("SELECT count(*) FROM assignments WHERE rater_id = ?", (rater_id,)).fetchone()[0]
    done = conn.execute("SELECT count(*) FROM answers WHERE rater_id = ?", (rater_id,)).fetchone()[0]
    return done, total


def all_answers(conn: sqlite3.Connection) -> list[dict]:
    """Every answer joined with the key, in the order given (for analysis and CSV export)."""
    rows = conn.execute(
        "SELECT x.id AS answer_id, r.name AS rater, c.media_id AS case_id, c.source AS source, "
        "c.synthetic AS synthetic, x.says_synthetic, x.confidence, x.realism, x.seconds, "
        "x.seconds_since_first_served, x.answered_at, a.position FROM answers x "
        "JOIN raters r ON r.id = x.rater_id JOIN cases c ON c.id = x.case_id "
        "JOIN assignments a ON a.rater_id = x.rater_id AND a.case_id = x.case_id ORDER BY x.id")
    return [dict(r) for r in rows]
