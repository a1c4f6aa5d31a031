"""A video file streamed through the translator into a video file, holes detected chunk by chunk."""
from __future__ import annotations

from collections import deque
from pathlib import Path
from typing import Callable, NamedTuple

import numpy as np

from ...clip import Clip
from .codec_rim import keep_clean_rim
from .pipeline import Translator, grey_outside


class Streamed(NamedTuple):
    """What a streamed translation wrote; `changed`: how many pixels differ from the input's grey."""

    frames: int
    fps: float
    height: int
    width: int
    changed: int


def translate_video_file(src: Path, out: Path, translator: Translator | Callable[[], Translator],
                         overwrite: bool = False, chunk: int = 32) -> Streamed:
    """Stream a video file through the translator into an .mp4/.mkv: memory stays flat for any length.

    Holes (`rebuild_mask`) are detected chunk by chunk; whether the output is greyscale is decided on the first chunk.
    `translator` may be a function that makes one: it is then called once the input has opened and passed
    the stream's truncation check, so a cut file is refused before the weights load.
    """
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

    count, changed, shape = 0, 0, (0, 0)
    with VideoStreamWriter(out, reader.fps, overwrite=overwrite) as writer:
        pending_frames: deque = deque()
        for rebuilt in progress(translator.stream(frames_and_holes(), lossy=bool(lossy)), total=reader.n_frames or None,
                                desc="translate", unit="frame"):
            if not pending_frames:
                pending_frames.extend(zip(*state["pending"].popleft()))
            original, grey, hole, rim = pending_frames.popleft()
            rebuilt = keep_clean_rim(original[None], grey[None], rebuilt[None], rim[None])[0]
            changed += int(np.count_nonzero(rebuilt != grey))
            shape = grey.shape
            if state["greyscale"] or original.ndim == 2:
                writer.write(rebuilt)
            else:
                frame = original.copy()
                frame[hole] = rebuilt[hole][:, None]
                writer.write(frame)
            count += 1
    return Streamed(count, reader.fps, *shape, changed)
