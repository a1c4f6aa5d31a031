"""Streaming video in and out, for clips too long to hold in memory (translation of long cines).

`open_video_stream` decodes chunk by chunk; `VideoStreamWriter` encodes frame by frame into a
temporary file that is renamed into place only when the whole clip is written.
"""
from __future__ import annotations

import contextlib
import os
import sys
from fractions import Fraction
from pathlib import Path
from typing import Callable, Iterator

import numpy as np

from ..errors import BadOption, UnreadableInput
from .atomic import atomic_path
from .detect import check_readable, sniff

H264_THREADS = 2  # what x264 chose by itself on a 2-core machine, so files written there before stay as they were
STREAM_WRITE_FORMATS = {".mp4": ("mp4", "libx264", "yuv420p"), ".mkv": ("matroska", "ffv1", None)}


class VideoStream:
    """A video file opened for chunked decoding: `fps`, `n_frames` (declared, may be 0), `lossy` and `chunks()`."""

    def __init__(self, path: str | os.PathLike):
        import av

        from .video import _GREY_FORMATS, _rate, is_lossy_codec

        self.path = check_readable(path)
        if sniff(self.path) != "video":
            raise UnreadableInput(f"{self.path}: not a video file (streaming reads video only)")
        try:
            self.container = av.open(str(self.path))
            self.stream = self.container.streams.video[0]
        except Exception as e:  # noqa: BLE001 - any decoder failure is the file's fault
            raise UnreadableInput(f"{self.path}: not a readable video ({type(e).__name__}: {e})") from None
        self.stream.thread_type = "AUTO"
        self.fps = _rate(self.stream)
        self.n_frames = int(self.stream.frames or 0)
        self.lossy = is_lossy_codec(self.stream.codec_context.name)
        self._fmt = "gray" if (self.stream.codec_context.pix_fmt or "") in _GREY_FORMATS else "rgb24"

    def chunks(self, size: int = 32) -> Iterator[np.ndarray]:
        """uint8 arrays of up to `size` frames, (n,H,W) or (n,H,W,3) as the file stores them."""
        buf: list[np.ndarray] = []
        count = 0
        try:
            for frame in self.container.decode(self.stream):
                buf.append(frame.to_ndarray(format=self._fmt))
                count += 1
                if len(buf) == size:
                    yield np.stack(buf)
                    buf = []
        except UnreadableInput:
            raise
        except Exception as e:  # noqa: BLE001
            raise UnreadableInput(f"{self.path}: corrupt video data after {count} frames ({type(e).__name__}: {e})") from None
        finally:
            self.container.close()
        if buf:
            yield np.stack(buf)
        if count == 0:
            raise UnreadableInput(f"{self.path}: no decodable video frames (truncated or corrupt)")


@contextlib.contextmanager
def encoder(path: Path, fps: float, first: np.ndarray, crf: int = 23) -> Iterator[Callable[[np.ndarray], None]]:
    """Open an encoder for `path` (.mp4: H.264 yuv420p, +faststart; .mkv: FFV1 gray/bgr0, lossless) sized by the
    first frame, yield a function that appends one frame, flush on success. Odd sides for yuv420p are padded by
    replicating the last row/column."""
    import av

    ext = path.suffix.lower()
    if ext not in STREAM_WRITE_FORMATS:
        raise BadOption(f"video output must be {' or '.join(STREAM_WRITE_FORMATS)}, got {ext or 'no extension'}")
    if not 0 <= int(crf) <= 51:
        raise BadOption(f"crf must be between 0 and 51, got {crf}")
    fmt, codec, pix_fmt = STREAM_WRITE_FORMATS[ext]
    rgb = first.ndim == 3
    pix_fmt = pix_fmt or ("bgr0" if rgb else "gray")
    h, w = first.shape[:2]
    pad = (h % 2, w % 2) if pix_fmt == "yuv420p" else (0, 0)
    with av.open(str(path), mode="w", format=fmt, options={"movflags": "+faststart"} if fmt == "mp4" else {}) as out:
        stream = out.add_stream(codec, rate=Fraction(fps).limit_denominator(1001))
        stream.height, stream.width, stream.pix_fmt = h + pad[0], w + pad[1], pix_fmt
        # x264's output depends on its thread count, which it otherwise takes from the CPUs the process may use:
        # with a fixed count the same clip gives the same file however many CPUs there are (tested on 1 and 2)
        stream.options = ({"crf": str(int(crf)), "preset": "medium", "threads": str(H264_THREADS)} if codec == "libx264"
                          else {"level": "3"})

        def write(frame: np.ndarray) -> None:
            if frame.shape != first.shape:
                raise BadOption(f"all frames must be {first.shape}, got {frame.shape}")
            if any(pad):
                frame = np.pad(frame, [(0, pad[0]), (0, pad[1])] + ([(0, 0)] if rgb else []), mode="edge")
            vf = av.VideoFrame.from_ndarray(np.ascontiguousarray(frame), format="rgb24" if rgb else "gray")
            for packet in stream.encode(vf):
                out.mux(packet)

        yield write
        for packet in stream.encode():
            out.mux(packet)


class VideoStreamWriter:
    """Frame-by-frame, atomic writer of .mp4 or .mkv: the file appears only once every frame is in."""

    def __init__(self, path: str | os.PathLike, fps: float, overwrite: bool = False, crf: int = 23):
        self.path, self.fps, self.overwrite, self.crf = Path(path), fps, overwrite, crf
        if self.path.suffix.lower() not in STREAM_WRITE_FORMATS:
            raise BadOption(f"streaming output must be {' or '.join(STREAM_WRITE_FORMATS)}, got {self.path.suffix or 'no extension'}")
        self._stack = contextlib.ExitStack()
        self._write: Callable[[np.ndarray], None] | None = None

    def __enter__(self) -> "VideoStreamWriter":
        self.tmp = self._stack.enter_context(atomic_path(self.path, self.overwrite))
        return self

    def write(self, frame: np.ndarray) -> None:
        """Append one uint8 frame (H,W) or (H,W,3); all frames must share size and kind."""
        if self._write is None:
            self._write = self._stack.enter_context(encoder(self.tmp, self.fps, frame, self.crf))
        self._write(frame)

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None and self._write is None:
            try:
                raise BadOption(f"no frames to write to {self.path}")
            except BadOption:
                self._stack.__exit__(*sys.exc_info())
                raise
        return self._stack.__exit__(exc_type, exc, tb)
