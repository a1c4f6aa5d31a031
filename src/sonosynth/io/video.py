"""Video through PyAV: every container/codec FFmpeg reads; H.264 .mp4 and lossless FFV1 .mkv writers (GIF: `gif`)."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ..clip import Clip
from ..errors import UnreadableInput
from .common import check_size, describe, max_bytes, maybe_grey
from .gif import gif_rate

#: Codecs whose decoded pixels are exactly what was encoded.
LOSSLESS_CODECS = {"ffv1", "gif", "png", "apng", "rawvideo", "huffyuv", "ffvhuff", "utvideo", "qtrle", "rle", "bmp", "magicyuv"}


def is_lossy_codec(name: str) -> bool:
    """True for codecs that change pixels (H.264, MPEG, ...): readers record it as provenance."""
    return name not in LOSSLESS_CODECS


_GREY_FORMATS = {"gray", "gray8", "ya8", "monow", "monob"}

def _rate(stream, path: Path) -> float:
    """The stream's average frame rate, else FFmpeg's guess. A GIF's rate is its frames over their summed delays
    (`gif.gif_rate`), and a GIF with no stated rate is a still (nominal 1 fps, as for other stills): FFmpeg's guess
    for it is only the GIF clock, 100 ticks a second."""
    if stream.codec_context.name == "gif":
        return gif_rate(path) if stream.average_rate else 1.0
    for r in (stream.average_rate, stream.guessed_rate, stream.base_rate):
        if r and float(r) > 0 and np.isfinite(float(r)):
            return float(r)
    return 30.0


#: Decoder options: FFmpeg conceals damaged H.264/MPEG data (a frame of smeared blocks, no error) unless told to
#: stop at the first error; a clip that decodes only by concealment is refused, not translated into garbage.
DECODER_OPTIONS = {"err_detect": "explode"}


def open_video(path: Path):
    """(container, first video stream) with decoder threads on; UnreadableInput when FFmpeg cannot open the file,
    it holds no video, no codec can be told for it (an MP4 cut inside its index) or its last bytes show it
    was cut (checked before any decoding)."""
    import av

    try:
        container = av.open(str(path))
    except Exception as e:  # noqa: BLE001 - any demuxer failure is the file's fault
        raise UnreadableInput(f"{path}: not a readable video ({describe(e)})") from None
    try:
        if not container.streams.video:
            raise UnreadableInput(f"{path}: has no video stream")
        if container.streams.video[0].codec_context is None:
            raise UnreadableInput(f"{path}: not a readable video (its video codec cannot be told: cut or damaged)")
        check_file_end(path, container.format.name)
    except UnreadableInput:
        container.close()
        raise
    stream = container.streams.video[0]
    stream.thread_type = "AUTO"
    stream.codec_context.options = DECODER_OPTIONS
    return container, stream


def upright(frame, fmt: str) -> np.ndarray:
    """A decoded frame as an array the way players show it: turned by the display rotation the file states
    (phones and tablets record sideways and say so; FFmpeg's player turns the picture by it), in quarter turns."""
    arr = frame.to_ndarray(format=fmt)
    quarters = round(getattr(frame, "rotation", 0) / 90) % 4
    return np.ascontiguousarray(np.rot90(arr, quarters)) if quarters else arr


class Decoded:
    """The frames of `stream`, in order, and `discarded`: how many of its packets the container marks to be
    dropped. An MP4 cut without re-encoding keeps the frames from the keyframe before the cut and an edit
    list that hides them: they decode to no frame, so the frame count the container states is that many
    more than a whole file shows."""

    def __init__(self, container, stream):
        self.container, self.stream, self.discarded = container, stream, 0

    def __iter__(self):
        for packet in self.container.demux(self.stream):
            self.discarded += bool(packet.size and packet.is_discard)
            yield from packet.decode()  # the closing empty packet flushes the decoder


def read_video(path: Path) -> Clip:
    from ..progress import progress

    container, stream = open_video(path)
    with container:
        ctx = stream.codec_context
        fps = _rate(stream, path)
        declared = int(stream.frames or 0)
        estimate = declared or int(round(float(stream.duration * stream.time_base) * fps)) if stream.duration else declared
        check_size(path, max(estimate, 1), max(ctx.height, 1), max(ctx.width, 1), 3)
        grey_stream = (ctx.pix_fmt or "") in _GREY_FORMATS
        fmt = "gray" if grey_stream else "rgb24"
        frames: list[np.ndarray] = []
        last_time = None
        budget = max_bytes()
        try:
            decoded = Decoded(container, stream)
            for frame in progress(decoded, total=declared or None, desc="decoding", unit="frame"):
                arr = upright(frame, fmt)
                if frames and arr.shape != frames[0].shape:
                    raise UnreadableInput(f"{path}: frame size changes mid-stream ({frames[0].shape} to {arr.shape})")
                frames.append(arr)
                last_time = frame.time if frame.time is not None else last_time
                budget -= arr.nbytes
                if budget < 0:
                    raise UnreadableInput(f"{path}: decoded frames exceed the {max_bytes() / 1024**3:.1f} GiB limit (set SONOSYNTH_MAX_BYTES to raise it)")
        except UnreadableInput:
            raise
        except MemoryError:
            raise
        except Exception as e:
            raise UnreadableInput(f"{path}: corrupt video data after {len(frames)} frames ({describe(e)})") from None
        codec = ctx.name
        check_complete(path, container, stream, len(frames), last_time, fps, declared - decoded.discarded)
    lossy = is_lossy_codec(codec)
    data = maybe_grey(frames, lossy)
    return Clip(data, fps=fps, source={"path": str(path), "format": "video", "codec": codec, "lossy": lossy})


def check_complete(path: Path, container, stream, count: int, last_time: float | None, fps: float, declared: int) -> None:
    """UnreadableInput unless `count` frames of the video `stream`, the last shown at `last_time` s, are all the
    container states for it (`declared` frames, 0 when it states none).

    The one truncation check of the whole-clip reader and the stream: FFmpeg decodes what is there
    of a cut file without complaint, so a short clip is caught only against the container's word.
    """
    if not count:
        raise UnreadableInput(f"{path}: no decodable video frames (truncated or corrupt)")
    short = _missing_seconds(container, stream, last_time, fps)
    if short:
        raise UnreadableInput(f"{path}: truncated: the video stops {short:.2f} s before its stated end")
    if declared and count < declared:
        raise UnreadableInput(f"{path}: truncated: the container declares {declared} frames but the file holds only {count}")


def _missing_seconds(container, stream, last_time: float | None, fps: float) -> float:
    """Seconds of the video stream's stated duration that no decoded frame reached (0 when complete or unknown).

    Catches truncated files whose container keeps no frame count (Matroska, MPEG); a margin of
    two frames plus 2 % allows for rounding in how muxers state the duration.
    """
    end = _stated_video_end(container, stream)
    if last_time is None or end is None:
        return 0.0
    missing = end - (last_time + 1.0 / fps)
    return missing if missing > 2.0 / fps + 0.02 * end else 0.0


def _stated_video_end(container, stream) -> float | None:
    """When the video stream ends, in seconds, by the file's own word: the stream's duration (MP4), else its
    DURATION tag (Matroska), else the container's duration when the video is its only stream. The container's
    duration spans every stream, and an audio or subtitle track may outlast the video (None: no verdict)."""
    start = float((stream.start_time or 0) * stream.time_base) if stream.time_base else 0.0
    if stream.duration and stream.time_base:
        return start + float(stream.duration * stream.time_base)
    tag = stream.metadata.get("DURATION")
    if tag:
        try:
            hours, minutes, seconds = tag.split(":")
            return start + int(hours) * 3600 + int(minutes) * 60 + float(seconds)
        except ValueError:
            pass
    if container.duration and len(container.streams) == 1:
        return (container.start_time or 0) / 1e6 + container.duration / 1e6
    return None


def check_file_end(path: Path, container_format: str) -> None:
    """Cut files that FFmpeg decodes without complaint and whose container states no length, told by their
    last bytes: a GIF must end with its trailer, an MPEG program stream with a whole packet."""
    if container_format == "gif" and not _gif_complete(path):
        raise UnreadableInput(f"{path}: truncated GIF (the file stops before its trailer)")
    if container_format == "mpeg" and _mpeg_ps_cut(path):
        raise UnreadableInput(f"{path}: truncated: the file stops inside its last MPEG packet")


def _gif_complete(path: Path) -> bool:
    """A GIF ends with the trailer byte 0x3B; FFmpeg happily decodes a partial first frame without it."""
    with open(path, "rb") as fh:
        fh.seek(-1, 2)
        return fh.read(1) == b";"


_PS_PACK = b"\x00\x00\x01\xba"
_PS_END = 0xB9


def _mpeg_ps_cut(path: Path, tail: int = 1 << 17) -> bool:
    """True when an MPEG program stream's last packet runs past the end of the file.

    MPEG-PS keeps no frame count or duration (FFmpeg estimates it from the last time stamps it
    finds), so a cut file looks complete to the demuxer. Every pack and packet states its length,
    though: walking from the last pack header, a whole file ends exactly on a packet boundary (or
    with the end code). Anything unexpected gives no verdict (False), and a cut that happens to
    fall on a packet boundary is not seen.
    """
    with open(path, "rb") as fh:
        size = fh.seek(0, 2)
        fh.seek(max(0, size - tail))
        data = fh.read()
    pos = data.rfind(_PS_PACK)
    if pos < 0:
        return False
    while len(data) - pos >= 4:
        if data[pos:pos + 3] != b"\x00\x00\x01" or data[pos + 3] < _PS_END:
            return False  # not a system start code: a layout we do not know
        code = data[pos + 3]
        if code == _PS_END:
            pos += 4
        elif code == _PS_PACK[3]:
            mpeg2 = len(data) - pos > 4 and data[pos + 4] >> 6 == 1
            if mpeg2 and len(data) - pos < 14:
                return True
            pos += 14 + (data[pos + 13] & 7) if mpeg2 else 12
        elif len(data) - pos < 6:
            return True
        else:
            pos += 6 + int.from_bytes(data[pos + 4:pos + 6], "big")
    return pos > len(data)  # a few stray bytes after the last packet: no verdict


def _encode(clip: Clip, tmp: Path, frames: np.ndarray, crf: int = 23) -> None:
    """Encode all frames through the streaming writer (one encoder set-up for both paths)."""
    from ..progress import progress
    from .stream import encoder

    with encoder(tmp, clip.fps, frames[0], crf=crf) as write:
        for f in progress(frames, desc="encoding", unit="frame"):
            write(f)


def _yuv420p(rgb: np.ndarray) -> np.ndarray:
    """One RGB frame (height a multiple of 4, even width) as planar yuv420p (BT.601, limited range) in one
    array, the layout PyAV takes."""
    f = rgb.astype(np.float32)
    r, g, b = f[..., 0], f[..., 1], f[..., 2]
    y = 16 + (65.481 * r + 128.553 * g + 24.966 * b) / 255
    u = 128 + (-37.797 * r - 74.203 * g + 112.0 * b) / 255
    v = 128 + (112.0 * r - 93.786 * g - 18.214 * b) / 255
    h, w = y.shape
    half = lambda c: c.reshape(h // 2, 2, w // 2, 2).mean(axis=(1, 3)).reshape(h // 4, w)  # noqa: E731
    return np.clip(np.rint(np.concatenate([y, half(u), half(v)])), 0, 255).astype(np.uint8)


def h264_luminance(frames: np.ndarray, crf: int = 23) -> np.ndarray:
    """RGB frames (T,H,W,3 uint8) through H.264 yuv420p in memory: the luminance (T,H,W float32, 0-255) an
    .mp4 of them decodes to.

    Bit-reproducible, so that a resumed training run replays exactly: x264's plain C code (its SIMD code
    gave other bytes now and then for the same frames), one thread, a raw stream, and the colour
    conversions done here, not by FFmpeg's scaler (whose output also varied from call to call)."""
    import io

    import av

    h, w = frames.shape[1:3]
    padded = np.pad(frames, ((0, 0), (0, -h % 4), (0, w % 2), (0, 0)), mode="edge")  # planar 4:2:0 in one array
    buf = io.BytesIO()
    with av.open(buf, mode="w", format="h264") as out:
        stream = out.add_stream("libx264", rate=30)
        stream.height, stream.width, stream.pix_fmt = padded.shape[1], padded.shape[2], "yuv420p"
        stream.options = {"crf": str(int(crf)), "preset": "medium", "threads": "1", "x264-params": "asm=0"}
        for i, f in enumerate(padded):
            frame = av.VideoFrame.from_ndarray(_yuv420p(f), format="yuv420p")
            frame.pts = i
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    with av.open(io.BytesIO(buf.getvalue()), mode="r", format="h264") as inp:
        luma = np.stack([frame.to_ndarray(format="yuv420p")[: padded.shape[1]] for frame in inp.decode(video=0)])
    return np.clip((luma[:, :h, :w].astype(np.float32) - 16.0) * (255.0 / 219.0), 0, 255)


def write_mp4(clip: Clip, tmp: Path, crf: int = 23) -> None:
    """H.264 yuv420p, moov atom first: plays in every browser. Odd sides are padded by one row/column."""
    _encode(clip, tmp, clip.frames, crf=crf)


def write_mkv(clip: Clip, tmp: Path) -> None:
    """FFV1 in Matroska: lossless, so greyscale (gray) and RGB (bgr0) frames come back bit-exact."""
    _encode(clip, tmp, clip.frames)
