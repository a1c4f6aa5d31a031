"""Streaming video in and out, for clips too long to hold in memory (translation of long cines).

`VideoStream` decodes chunk by chunk; `VideoStreamWriter` encodes frame by frame into a
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
from .common import check_fps_range, describe
from .detect import check_readable, sniff

H264_THREADS = 2  # what x264 chose by itself on a 2-core machine, so files written there before stay as they were
STREAM_WRITE_FORMATS = {".mp4": ("mp4", "libx264", "yuv420p"), ".mkv": ("matroska", "ffv1", None)}
#: Frame rates both writers store as given: the rate is a fraction over at most 1001 (below 1/1000 fps it would be 0,
#: which FFmpeg replaces by 24 fps), and both containers count milliseconds (MP4 in its edit list, Matroska in its
#: time stamps): above 1000 fps frames share time stamps, and a short H.264 clip loses its last frame.
VIDEO_FPS_RANGE = (0.001, 1000.0)


class VideoStream:
    """A video file opened for chunked decoding: `fps`, `n_frames` (declared, may be 0), `lossy` and `chunks()`.

    A cut file is refused as `read_video` refuses it, by the same check (`check_complete`): first on
    the packets, at opening, so that most cut files fail in a second, not after the whole clip has
    been translated; then on the decoded frames, before the last chunk is handed out.
    """

    def __init__(self, path: str | os.PathLike):
        from .video import _GREY_FORMATS, _rate, is_lossy_codec, open_video

        self.path = check_readable(path)
        if sniff(self.path) != "video":
            raise UnreadableInput(f"{self.path}: not a video file (streaming reads video only)")
        container, stream = open_video(self.path)
        with container:
            self.fps = _rate(stream, self.path)
            self.n_frames = int(stream.frames or 0)
            self.lossy = is_lossy_codec(stream.codec_context.name)
            self._fmt = "gray" if (stream.codec_context.pix_fmt or "") in _GREY_FORMATS else "rgb24"
            self._check_packets(container, stream)

    def _check_packets(self, container, stream) -> None:
        """The truncation check on the packets alone: no decoding, so seconds even for a long clip."""
        from .video import check_complete

        count, last_time = 0, None
        try:
            for packet in container.demux(stream):
                if packet.size or packet.pts is not None:  # not the demuxer's closing empty packet
                    count += 1
                if packet.pts is not None:
                    last_time = max(float(packet.pts * packet.time_base), last_time or float("-inf"))
        except Exception as e:  # noqa: BLE001 - any demuxer failure is the file's fault
            raise UnreadableInput(f"{self.path}: corrupt video data after {count} packets ({describe(e)})") from None
        check_complete(self.path, container, stream, count, last_time, self.fps, self.n_frames)

    def chunks(self, size: int = 32) -> Iterator[np.ndarray]:
        """uint8 arrays of up to `size` frames, (n,H,W) or (n,H,W,3) as the file stores them; UnreadableInput in
        place of the last chunk when the decoded frames stop short of what the container states."""
        from .video import Decoded, check_complete, open_video, upright

        container, stream = open_video(self.path)
        decoded = Decoded(container, stream)
        buf: list[np.ndarray] = []
        count, last_time = 0, None
        with container:
            try:
                for frame in decoded:
                    if len(buf) == size:  # handed out once another frame decodes: the last chunk waits for the check
                        yield np.stack(buf)
                        buf = []
                    buf.append(upright(frame, self._fmt))
                    count += 1
                    last_time = frame.time if frame.time is not None else last_time
            except UnreadableInput:
                raise
            except Exception as e:  # noqa: BLE001
                raise UnreadableInput(f"{self.path}: corrupt video data after {count} frames ({describe(e)})") from None
            check_complete(self.path, container, stream, count, last_time, self.fps, self.n_frames - decoded.discarded)
        yield np.stack(buf)


@contextlib.contextmanager
def encoder(path: Path, fps: float, first: np.ndarray, crf: int = 23,
            plain_c: bool = False) -> Iterator[Callable[[np.ndarray], None]]:
    """Open an encoder for `path` (.mp4: H.264 yuv420p, +faststart; .mkv: FFV1 gray/bgr0, lossless) sized by the
    first frame, yield a function that appends one frame, flush on success. Odd sides for yuv420p are padded by
    replicating the last row/column. `plain_c`: x264 without its SIMD code, slower but the same bytes every
    run (`VideoStreamWriter`)."""
    import av

    ext = path.suffix.lower()
    if ext not in STREAM_WRITE_FORMATS:
        raise BadOption(f"video output must be {' or '.join(STREAM_WRITE_FORMATS)}, got {ext or 'no extension'}")
    if not 0 <= int(crf) <= 51:
        raise BadOption(f"crf must be between 0 and 51, got {crf}")
    check_fps_range(fps, ext, *VIDEO_FPS_RANGE)
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
        if codec == "libx264":
            stream.options = {"crf": str(int(crf)), "preset": "medium", "threads": str(H264_THREADS)} | (
                {"x264-params": "asm=0"} if plain_c else {})
        else:
            stream.options = {"level": "3"}

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
    """Frame-by-frame, atomic writer of .mp4 or .mkv: the file appears only once every frame is in.

    `into`: a temporary of `io.atomic.atomic_paths` to write instead, for outputs that must land together.
    H.264 runs as plain C code (`encoder`'s `plain_c`): with its SIMD code, frames whose sides are not
    multiples of 16, handed over one at a time between other work (a translation), came out as other bytes
    from run to run (0.36 grey levels apart on average for a 386² lung clip), likely from memory x264 reads
    but has not set. Plain C encoded the same clip identically every run, at about 70 frames/s at 386²."""

    def __init__(self, path: str | os.PathLike, fps: float, overwrite: bool = False, crf: int = 23,
                 into: Path | None = None):
        self.path, self.fps, self.overwrite, self.crf, self.into = Path(path), fps, overwrite, crf, into
        if self.path.suffix.lower() not in STREAM_WRITE_FORMATS:
            raise BadOption(f"streaming output must be {' or '.join(STREAM_WRITE_FORMATS)}, got {self.path.suffix or 'no extension'}")
        self._stack = contextlib.ExitStack()
        self._write: Callable[[np.ndarray], None] | None = None

    def __enter__(self) -> "VideoStreamWriter":
        self.tmp = self.into or self._stack.enter_context(atomic_path(self.path, self.overwrite))
        return self

    def write(self, frame: np.ndarray) -> None:
        """Append one uint8 frame (H,W) or (H,W,3); all frames must share size and kind."""
        if self._write is None:
            self._write = self._stack.enter_context(encoder(self.tmp, self.fps, frame, self.crf, plain_c=True))
        self._write(frame)

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None and self._write is None:
            try:
                raise BadOption(f"no frames to write to {self.path}")
            except BadOption:
                self._stack.__exit__(*sys.exc_info())
                raise
        return self._stack.__exit__(exc_type, exc, tb)
