"""`sonosynth study create`: pick cases, blind the media, write the key and the tokens.

The study folder is built beside its destination and renamed into place at the end, so
a failure leaves nothing half-made. Layout:

    STUDY/study.sqlite   key (which case is synthetic), tokens, assignments, answers
    STUDY/media/ID.mp4   the only served files: opaque random names, identical format
"""
from __future__ import annotations

import json
import secrets
import shutil
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from ..errors import BadOption, OutputExists, UnreadableInput
from ..io.atomic import atomic_folder, check_apart, check_replaceable_folder
from ..progress import progress
from . import db, media

NOT_MEDIA = {".csv", ".txt", ".json", ".md", ".yaml", ".yml", ".html", ".raw", ".py"}


@dataclass(frozen=True)
class StudyOptions:
    raters: int = 2
    cases: int | None = None  # default: as many as the smaller class allows, times two
    seed: int = 0
    size: int | None = None
    fps: float | None = None
    frames: int | None = None
    max_frames: int = 90
    crf: int = 18

    def __post_init__(self) -> None:
        """A rate that is not a number would otherwise fail deep in the frame arithmetic, before the spec checks it."""
        if self.fps is not None:
            media.check_fps(self.fps)


def list_inputs(folder: Path) -> list[Path]:
    """Clip files (and numbered-frame folders) in a folder, sorted; hidden files and notes skipped."""
    if not folder.is_dir():
        raise BadOption(f"{folder} is not a folder")
    found = [p for p in sorted(folder.iterdir())
             if not p.name.startswith(".") and (p.is_dir() or p.suffix.lower() not in NOT_MEDIA)]
    if not found:
        raise UnreadableInput(f"{folder} holds no clips")
    return found


def _read(path: Path):
    from ..io import read_clip

    return read_clip(path)


def pick_cases(real: list[Path], synthetic: list[Path], n_cases: int | None, rng: np.random.Generator
               ) -> list[tuple[Path, bool]]:
    """A balanced random choice, shuffled so no order or id follows the class."""
    per_class = min(len(real), len(synthetic)) if n_cases is None else n_cases // 2
    if n_cases is not None and (n_cases < 2 or n_cases % 2):
        raise BadOption(f"--cases must be an even number >= 2 (half real, half synthetic), got {n_cases}")
    if per_class > min(len(real), len(synthetic)):
        raise BadOption(f"--cases {n_cases} needs {per_class} clips of each class; "
                        f"found {len(real)} real and {len(synthetic)} synthetic")
    chosen = [(real[i], False) for i in rng.choice(len(real), per_class, replace=False)]
    chosen += [(synthetic[i], True) for i in rng.choice(len(synthetic), per_class, replace=False)]
    return [chosen[i] for i in rng.permutation(len(chosen))]


def _spec(cases: list[tuple[Path, bool]], opts: StudyOptions) -> media.MediaSpec:
    """The common format; reads each clip once for its shape and rate unless all are given."""
    if opts.size and opts.fps and opts.frames:
        return media.MediaSpec(opts.size, float(opts.fps), opts.frames)
    shapes = []
    for path, _ in progress(cases, desc="measuring clips", unit="clip"):
        c = _read(path)
        shapes.append(_Shape(c.n_frames, c.height, c.width, c.fps))
        del c
    return media.default_spec(shapes, opts.size, opts.fps, opts.frames, opts.max_frames)


@dataclass(frozen=True)
class _Shape:
    """Just what `default_spec` needs of a clip, without keeping its frames."""

    n_frames: int
    height: int
    width: int
    fps: float


def _orders(n_raters: int, n_cases: int, seed: int) -> list[list[int]]:
    """Each rater's own random order, reproducible from the study seed."""
    return [[int(i) for i in np.random.default_rng([seed, r]).permutation(n_cases)] for r in range(n_raters)]


# what a study folder holds (SQLite adds its journal files beside the database while the study is served)
STUDY_FILES = (db.DB_NAME, db.MEDIA_DIR, f"{db.DB_NAME}-wal", f"{db.DB_NAME}-shm", f"{db.DB_NAME}-journal")


def create_study(real_dir: Path, synthetic_dir: Path, out: Path, opts: StudyOptions, overwrite: bool = False) -> Path:
    """Build the study folder at `out`; returns it."""
    out = Path(out)
    if opts.raters < 1 or opts.raters > 500:
        raise BadOption(f"--raters must be between 1 and 500, got {opts.raters}")
    if Path(real_dir).resolve() == Path(synthetic_dir).resolve():
        raise BadOption("--real and --synthetic are the same folder: a reader could not be right or wrong")
    for source, what in ((real_dir, "--real folder"), (synthetic_dir, "--synthetic folder")):
        check_apart(out, "study folder", source, what)  # its media and key would be read as clips of that class
    if out.exists() and not overwrite:
        raise OutputExists(f"{out} exists; pass --overwrite to replace it (its answers would be lost)")
    check_replaceable_folder(out, STUDY_FILES, "study", overwrite)
    rng = np.random.default_rng(opts.seed)
    cases = pick_cases(list_inputs(Path(real_dir)), list_inputs(Path(synthetic_dir)), opts.cases, rng)
    spec = _spec(cases, opts)
    with atomic_folder(out) as work:
        _build(work, cases, spec, opts)
    return out


def _build(work: Path, cases: list[tuple[Path, bool]], spec: media.MediaSpec, opts: StudyOptions) -> None:
    (work / db.MEDIA_DIR).mkdir()
    first_pass = work / "first-pass"  # deleted below; never served
    first_pass.mkdir()
    firsts = []
    for i, (path, _) in enumerate(progress(cases, desc="encoding", unit="clip")):
        frames = media.conform(_read(path), spec)
        firsts.append(first_pass / f"{i}.mp4")
        media.encode(frames, firsts[-1], spec.fps, opts.crf)
    sizes = media.common_sizes([media.packet_sizes(p) for p in firsts])
    media_ids = [secrets.token_urlsafe(16) for _ in cases]
    for first, mid in zip(firsts, media_ids):
        media.finalise(first, work / db.MEDIA_DIR / f"{mid}.mp4", sizes)
    shutil.rmtree(first_pass)
    raters = [(f"rater-{r + 1}", secrets.token_urlsafe(24)) for r in range(opts.raters)]
    meta = {"admin_token": secrets.token_urlsafe(24), "created": str(int(time.time())),
            "seed": str(opts.seed), "spec": json.dumps(asdict(spec)), "options": json.dumps(asdict(opts))}
    conn = db.connect(work / db.DB_NAME)
    try:
        db.initialise(conn, meta, [(m, syn, p.name) for m, (p, syn) in zip(media_ids, cases)],
                      raters, _orders(opts.raters, len(cases), opts.seed))
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()
