"""A video file streamed through the translator into a video file, holes detected chunk by chunk."""
from __future__ import annotations

import contextlib
from collections import deque
from pathlib import Path
from typing import Callable, NamedTuple

import numpy as np

from ...clip import Clip
from .codec_rim import clean_rim
from .pipeline import INFERRED, KEPT, Translator, grey_outside


class Streamed(NamedTuple):
    """What a streamed translation wrote; `changed`: how many pixels differ from the input's grey; `rebuilt`,
    `inferred`: how many were rebuilt, and of those how many from their surroundings alone (`provenance_map`)."""

    frames: int
    fps: float
    height: int
    width: int
    changed: int
    rebuilt: int
    inferred: int


def translate_video_file(src: Path, out: Path, translator: Translator | Callable[[], Translator],
                         overwrite: bool = False, chunk: int = 32, provenance: Path | None = None, crf: int = 23) -> Streamed:
    """Stream a video file through the translator into an .mp4/.mkv: memory stays flat for any length.

    Holes (`rebuild_mask`) are detected chunk by chunk; whether the output is greyscale is decided on the first chunk.
    `translator` may be a function that makes one: it is then called once the input has opened and passed
    the stream's truncation check, so a cut file is refused before the weights load. `provenance`: an .mkv
    for the provenance maps (`pipeline.provenance_map`), streamed beside the output; the two land together.
    `crf`: the H.264 quality of an .mp4 output.
    """
    from ...io.atomic import atomic_paths
    from ...io.stream import VideoStream, VideoStreamWriter
    from ...preprocess.doppler import rebuild_mask
    from ...progress import progress

    reader = VideoStream(src)
    if not isinstance(translator, Translator):
        translator = translator()
    lossy = reader.lossy
    chunks = iter(reader.chunks(chunk))
    state: dict = {}

    def frames_and_holes():
        for frames in chunks:
            clip = Clip(frames, fps=reader.fps)
            holes, rim = rebuild_mask(clip, lossy=lossy, with_rim=True)
            if "greyscale" not in state:
                state["greyscale"] = grey_outside(clip, holes)
            grey = clip.grey()
            state.setdefault("pending", deque()).append((clip.frames, grey, holes, rim))
            yield from zip(grey, holes)

    count, changed, rebuilt_count, inferred, shape = 0, 0, 0, 0, (0, 0)
    stream = translator.stream(frames_and_holes(), lossy=bool(lossy), provenance=True)
    with contextlib.ExitStack() as outputs:  # closed in reverse: every encoder is flushed before the files land
        temporaries = outputs.enter_context(atomic_paths([out] + ([provenance] if provenance else []), overwrite))
        writer = outputs.enter_context(VideoStreamWriter(out, reader.fps, crf=crf, into=temporaries[0]))
        map_writer = None
        if provenance:
            map_writer = outputs.enter_context(VideoStreamWriter(provenance, reader.fps, into=temporaries[1]))
        pending_frames: deque = deque()
        for rebuilt, where in progress(stream, total=reader.n_frames or None, desc="translate", unit="frame"):
            if not pending_frames:
                pending_frames.extend(zip(*state["pending"].popleft()))
            original, grey, hole, rim = pending_frames.popleft()
            kept = clean_rim(original[None], grey[None], rebuilt[None], rim[None])[0]
            if kept.any():
                rebuilt, where = np.where(kept, grey, rebuilt), np.where(kept, KEPT, where).astype(np.uint8)
            changed += int(np.count_nonzero(rebuilt != grey))
            rebuilt_count += int(np.count_nonzero(where))
            inferred += int(np.count_nonzero(where == INFERRED))
            if map_writer is not None:
                map_writer.write(where)
            shape = grey.shape
            if state["greyscale"] or original.ndim == 2:
                writer.write(rebuilt)
            else:
                frame = original.copy()
                frame[hole] = rebuilt[hole][:, None]
                writer.write(frame)
            count += 1
    return Streamed(count, reader.fps, *shape, changed, rebuilt_count, inferred)
