"""Translating files: one clip file into another (streamed when it can be), or every clip of a folder.

A dataset arrives as a folder of clips, not one clip: `translate_folder` walks it, translates each
clip into the same place under the output folder with one loaded model, records what happened to
each in a CSV log, and goes on past a clip it cannot read (named in one line) so that one corrupt
file does not cost the rest. An output that already exists is kept, not redone, unless overwrite is
asked for, so running the same command again finishes an interrupted batch.
"""
from __future__ import annotations

import contextlib
import csv
import functools
import io
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable, Iterable

import numpy as np

from ...clip import Clip
from ...errors import BadOption, Interrupted, UserError, one_line
from ...io import WRITE_FORMATS, check_clip_outputs, read_clip, write_clip, write_clips
from ...io.atomic import atomic_path, check_apart, made_folder
from ...io.detect import DICOM_EXT, IMAGE_EXT, META_EXT, VIDEO_EXT, check_readable, sniff
from .pipeline import INFERRED, Translator, translate

FOLDER_LOG = "translate_log.csv"  # written into the output folder; replaced by each run over the folder
LOG_EVERY_S = 5.0  # the log is rewritten at most this often while a batch runs, so a killed batch leaves one
LOG_FIELDS = ("source", "output", "provenance", "status", "frames", "height", "width", "fps", "changed", "rebuilt",
              "inferred", "seconds", "reason")  # the log's columns; its header tells an earlier log from a user's file
CLIP_EXT = VIDEO_EXT | IMAGE_EXT | DICOM_EXT | META_EXT | {".npz"}
LOSSLESS_VIDEO = ".mkv"  # where the input's own format cannot be written: nothing is lost beyond the input
PROVENANCE_FORMATS = (".mkv", ".npz", ".png")  # lossless: a map's three levels must come back as written


@dataclass(frozen=True)
class Translated:
    """What one translation wrote: its size; the share of its pixels whose grey the fill changed (0 for a
    clip without colour: it is written as it came); the share it rebuilt, and of those the share inferred from
    their surroundings alone, which no other frame showed (`pipeline.provenance_map`; 0 when none was rebuilt)."""

    frames: int
    height: int
    width: int
    fps: float
    changed: float
    rebuilt: float
    inferred: float

    @classmethod
    def from_counts(cls, frames: int, height: int, width: int, fps: float, changed: int, rebuilt: int,
                    inferred: int) -> "Translated":
        """From pixel counts: changed and rebuilt over all pixels, inferred over the rebuilt ones."""
        pixels = max(1, frames * height * width)
        return cls(frames, height, width, fps, changed / pixels, rebuilt / pixels, inferred / max(1, rebuilt))


def translate_file(src: Path, out: Path, translator: Callable[[], Translator], overwrite: bool = False,
                   mask: Path | None = None, speckle: bool | None = None, provenance: Path | None = None,
                   crf: int = 23) -> Translated:
    """`src` translated into `out`, and its provenance maps into `provenance` if given (both or neither are
    written). A video written as .mp4/.mkv streams (flat memory for any length), its maps too where they go to
    an .mkv; anything else is read whole. `translator` makes the model once the input has passed its checks;
    `crf` is the H.264 quality of an .mp4 output."""
    from .streaming import translate_video_file

    if provenance is not None and provenance.suffix.lower() not in PROVENANCE_FORMATS:
        raise BadOption(f"--provenance must be a lossless {', '.join(PROVENANCE_FORMATS)} file, not "
                        f"{provenance.suffix or 'one without an extension'}: a map's levels must survive")
    check_clip_outputs(out, provenance, overwrite=overwrite, inputs=(src, mask))  # format and place, before any work
    if (mask is None and not speckle and out.suffix.lower() in (".mp4", ".mkv") and sniff(check_readable(src)) == "video"
            and (provenance is None or provenance.suffix.lower() == ".mkv")):
        s = translate_video_file(src, out, translator, overwrite=overwrite, provenance=provenance, crf=crf)
        return Translated.from_counts(s.frames, s.height, s.width, s.fps, s.changed, s.rebuilt, s.inferred)
    clip = read_clip(src)
    check_clip_outputs(out, provenance, overwrite=overwrite, frames=clip.n_frames)
    holes = None
    if mask is not None:
        m = read_clip(mask)
        if m.frames.shape[:3] != clip.frames.shape[:3]:
            raise BadOption(f"mask {mask} has shape {m.frames.shape[:3]}, clip has {clip.frames.shape[:3]}")
        holes = m.grey() >= 128
    result, maps = translate(clip, holes=holes, translator=translator(), speckle=speckle, provenance=True)
    if provenance is None:
        write_clip(result, out, overwrite=overwrite, crf=crf)
    else:
        write_clips([(result, out), (Clip(maps, fps=result.fps), provenance)], overwrite=overwrite, crf=crf)
    return Translated.from_counts(result.n_frames, result.height, result.width, result.fps,
                                  int(np.count_nonzero(result.grey() != clip.grey())), int(np.count_nonzero(maps)),
                                  int(np.count_nonzero(maps == INFERRED)))


def output_name(src: Path, suffix: str | None) -> str:
    """The output's file name: the input's stem with `suffix`, or with the input's own format where it can
    be written (.dcm for DICOM without an extension, .png for other stills, lossless .mkv for other video)."""
    ext = src.suffix.lower()
    if suffix is None:
        if ext in WRITE_FORMATS:
            suffix = ext
        elif ext in IMAGE_EXT:
            suffix = ".png"
        elif ext in DICOM_EXT or ext == "":
            suffix = ".dcm"
        else:
            suffix = LOSSLESS_VIDEO
    return (src.stem if ext in CLIP_EXT else src.name) + suffix


def plan_folder(src_dir: Path, out_dir: Path, suffix: str | None = None,
                maps_dir: Path | None = None) -> tuple[list[tuple[Path, Path, Path | None]], int]:
    """(input, output, provenance map or None) for every clip under `src_dir`, and how many other files were
    passed over. The maps (with `maps_dir`) lie at the outputs' relative paths under `maps_dir`, as .mkv.

    A clip is a file with a clip format's extension, or a DICOM without one (as scanners write them) that is
    not a media folder's DICOMDIR index; hidden files and folders are passed over. Refused before any work: an output folder inside the
    input folder (or the other way round: a second run would take outputs for inputs), no clip at
    all, and two inputs that would be written to one output."""
    if suffix is not None and not suffix.startswith("."):
        suffix = "." + suffix  # "mkv" as well as ".mkv"
    if suffix is not None and suffix.lower() not in WRITE_FORMATS:
        raise BadOption(f"--suffix must be one of {', '.join(WRITE_FORMATS)}, not {suffix!r}")
    src_dir = check_readable(src_dir)
    if not src_dir.is_dir():
        raise BadOption(f"{src_dir} is a file: give a folder of clips (or use `sonosynth translate` for one clip)")
    for folder, what in ((out_dir, "output folder"), (maps_dir, "--provenance folder")):
        check_apart(folder, what, src_dir, "input folder")
    jobs, passed_over, claimed = [], 0, {}
    for path in sorted(_visible_files(src_dir)):
        if not _is_clip(path):
            passed_over += 1
            continue
        rel = path.relative_to(src_dir)
        out = out_dir / rel.parent / output_name(path, suffix)
        where = None if maps_dir is None else (maps_dir / out.relative_to(out_dir)).with_suffix(LOSSLESS_VIDEO)
        for target in filter(None, (out, where)):
            key = os.path.normcase(str(target.resolve()))
            if key in claimed:
                raise BadOption(f"{claimed[key]} and {rel} would both be written to {target}: rename one of them")
            claimed[key] = rel
        jobs.append((path, out, where))
    if not jobs:
        raise BadOption(f"no clips found in {src_dir} (looked for {', '.join(sorted(CLIP_EXT))} and DICOM files)")
    return jobs, passed_over


def _visible_files(folder: Path) -> Iterable[Path]:
    for root, dirs, files in os.walk(folder):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        yield from (Path(root) / f for f in files if not f.startswith("."))


def _is_clip(path: Path) -> bool:
    if path.name.upper() == "DICOMDIR":  # a DICOM media folder's index of its files, not an image
        return False
    if path.suffix.lower() in CLIP_EXT:
        return True
    if path.suffix or not path.is_file():  # not a regular file: a pipe would block the read
        return False
    try:
        with open(path, "rb") as fh:
            return fh.read(132)[128:132] == b"DICM"
    except OSError:
        return False


def translate_folder(src_dir: Path, out_dir: Path, translator: Callable[[], Translator], suffix: str | None = None,
                     overwrite: bool = False, speckle: bool | None = None, maps_dir: Path | None = None, crf: int = 23,
                     echo: Callable[[str, bool], None] = lambda line, failed: print(line)) -> list[dict]:
    """Every clip under `src_dir` translated into the same place under `out_dir` (and its provenance map
    under `maps_dir`, if given: `plan_folder`); returns the log's rows
    (status translated, kept or failed) after writing them to `out_dir/FOLDER_LOG`. A clip that cannot be
    read or written as asked is logged as failed with its reason and the rest go on; a write the machine
    refuses (a full disk) stops the batch. `translator` is called at most once; `echo(line, failed)` hears of
    each clip as it is done."""
    jobs, passed_over = plan_folder(src_dir, out_dir, suffix, maps_dir)
    check_log_is_ours(out_dir / FOLDER_LOG)
    model = functools.cache(translator)  # loaded once, then reused
    if overwrite or any(not out.is_file() for _, out, _ in jobs):
        model()  # a bad --weights, --device, --batch or --precision: one line before any folder or clip
    translate_one = functools.partial(translate_file, translator=model, speckle=speckle, crf=crf)
    rows: list[dict] = []
    logged, logged_at = 0, -LOG_EVERY_S  # rows in the log on disk, and when it was written
    with contextlib.ExitStack() as folders:  # folders made for outputs are removed again if left empty
        for folder in filter(None, (out_dir, maps_dir)):
            folders.enter_context(made_folder(folder))
        try:
            for k, (src, out, where) in enumerate(jobs, start=1):
                rows.append(_one(src, out, where, src_dir, out_dir, translate_one, overwrite,
                                 lambda folder: folders.enter_context(made_folder(folder))))
                if time.monotonic() - logged_at >= LOG_EVERY_S:  # a batch killed outright (SIGKILL, out of memory) keeps a log
                    _write_log(out_dir / FOLDER_LOG, rows)
                    logged, logged_at = len(rows), time.monotonic()
                row = rows[-1]
                echo(f"[{k}/{len(jobs)}] {row['status']}: {row['source']}" + (f": {row['reason']}" if row["reason"] else ""),
                     row["status"] == "failed")
        except KeyboardInterrupt:  # Ctrl-C, or SIGTERM through the CLI: the clip under way leaves nothing behind
            listed = f" (listed in {out_dir / FOLDER_LOG})" if rows else ""
            raise Interrupted(f"stopped after {len(rows)} of {len(jobs)} clips{listed}; "
                              "the same command again does the rest and keeps what is done") from None
        finally:
            if len(rows) > logged:
                _write_log(out_dir / FOLDER_LOG, rows)
    if passed_over:
        echo(f"passed over {passed_over} file(s) that are not clips", False)
    return rows


def _one(src: Path, out: Path, where: Path | None, src_dir: Path, out_dir: Path, translate_one: Callable[..., Translated],
         overwrite: bool, make_folder: Callable[[Path], object]) -> dict:
    row = dict.fromkeys(LOG_FIELDS, "") | {"source": str(src.relative_to(src_dir)), "output": str(out.relative_to(out_dir)),
                                           "provenance": "" if where is None else str(where)}
    if out.is_file() and not overwrite:
        if where is None or where.is_file():
            row.update(status="kept", reason="the output exists (--overwrite redoes it)")
        else:
            row.update(status="failed", reason=f"{out} exists but its provenance map {where} does not (--overwrite redoes both)")
        return row
    started = time.perf_counter()
    try:
        for folder in filter(None, (out, where)):
            make_folder(folder.parent)
        done = translate_one(src, out, overwrite=overwrite, provenance=where)
    except UserError as e:
        row.update(status="failed", reason=one_line(e))
        return row
    row.update({**asdict(done), "status": "translated", "changed": f"{done.changed:.5f}", "rebuilt": f"{done.rebuilt:.5f}",
                "inferred": f"{done.inferred:.4f}", "seconds": f"{time.perf_counter() - started:.2f}"})
    return row


def check_log_is_ours(path: Path) -> None:
    """The log replaces an earlier run's log, never a file of the user's that happens to bear its name."""
    if not path.exists():
        return
    try:
        with path.open(newline="") as fh:
            header = next(csv.reader(fh), [])
    except (OSError, UnicodeDecodeError, csv.Error):
        header = []
    if tuple(header) != LOG_FIELDS:
        raise BadOption(f"{path} exists and is not a log of this command: move it, or choose another output folder")


def _write_log(path: Path, rows: list[dict]) -> None:
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=LOG_FIELDS)
    writer.writeheader()
    writer.writerows(rows)
    with atomic_path(path, overwrite=True) as tmp:
        tmp.write_text(text.getvalue())
