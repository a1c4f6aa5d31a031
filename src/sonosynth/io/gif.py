"""GIF: its frame rate as read (frames over summed delays) and its writer, through FFmpeg's GIF muxer."""
from __future__ import annotations

import functools
from pathlib import Path

import numpy as np

from ..clip import Clip
from ..errors import UnreadableInput
from .common import check_fps_range, describe

#: A GIF frame lasts at most 65535/100 s (a 16-bit count of 1/100 s) and, in browsers, at least 2/100 s (a
#: shorter delay is shown as 1/10 s).
GIF_SLOWEST_FPS, GIF_FASTEST_FPS = 100 / 65535, 50.0


def gif_rate(path: Path) -> float:
    """A GIF's frames over the sum of their delays. Delays count 1/100 s, so a 30 fps GIF alternates 3 and 4
    hundredths, and FFmpeg's average rate, taken from the first few, reads 33.3 fps."""
    import av

    count, ticks, time_base = 0, 0, None
    try:
        with av.open(str(path)) as container:
            for packet in container.demux(video=0):
                if packet.size:
                    count, ticks, time_base = count + 1, ticks + (packet.duration or 0), packet.time_base
    except Exception as e:  # noqa: BLE001 - any demuxer failure is the file's fault
        raise UnreadableInput(f"{path}: corrupt GIF ({describe(e)})") from None
    return float(count / (ticks * time_base)) if count and ticks and time_base else 1.0


def write_gif(clip: Clip, tmp: Path) -> None:
    """Animated GIF, looping, through FFmpeg's GIF muxer: every frame kept (Pillow's writer merged identical
    neighbours, so a frozen stretch lost frames), each delay rounded from the frame's own time so the mean
    rate holds (3, 4, 3 hundredths for 30 fps). Greyscale is exact, RGB quantised to 256 colours per frame."""
    from fractions import Fraction

    import av

    check_fps_range(clip.fps, ".gif", GIF_SLOWEST_FPS, GIF_FASTEST_FPS)
    grey = clip.frames.ndim == 3
    with av.open(str(tmp), "w", format="gif") as out:
        stream = out.add_stream("gif", rate=Fraction(clip.fps).limit_denominator(1001))
        stream.height, stream.width, stream.pix_fmt = clip.height, clip.width, "gray" if grey else "pal8"
        for i, f in enumerate(clip.frames):
            frame = av.VideoFrame.from_ndarray(f, format="gray") if grey else _paletted(f)
            frame.pts = i
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)


def _paletted(rgb: np.ndarray):
    """An RGB frame as a pal8 VideoFrame with its own 256-colour palette (Pillow's median cut)."""
    import av
    from PIL import Image

    image = Image.fromarray(rgb).convert("P", palette=Image.Palette.ADAPTIVE, colors=256)
    colours = np.zeros((256, 3), np.uint8)
    used = np.asarray(image.getpalette(), np.uint8).reshape(-1, 3)[:256]
    colours[: len(used)] = used
    return av.VideoFrame.from_ndarray((np.asarray(image), _palette_entries(colours)), format="pal8")


def _palette_entries(colours: np.ndarray) -> np.ndarray:
    """(256, 4) palette rows, opaque, in the channel order this PyAV takes for pal8 (`_palette_order`)."""
    rows = np.concatenate([colours, np.full((256, 1), 255, np.uint8)], 1)
    return np.ascontiguousarray(rows[:, _palette_order()])


@functools.cache
def _palette_order() -> tuple[int, ...]:
    """Found once by a round trip: PyAV documents no channel order for it, and a wrong one scrambles every
    colour without an error."""
    import av

    probe = np.array([[[10, 120, 230]]], np.uint8)
    rows = np.concatenate([np.tile(probe[0], (256, 1)), np.full((256, 1), 255, np.uint8)], 1)
    for order in ((3, 0, 1, 2), (2, 1, 0, 3), (0, 1, 2, 3), (3, 2, 1, 0)):  # ARGB, BGRA, RGBA, ABGR
        frame = av.VideoFrame.from_ndarray((np.zeros((1, 1), np.uint8), np.ascontiguousarray(rows[:, order])), format="pal8")
        if np.array_equal(frame.to_ndarray(format="rgb24"), probe):
            return order
    raise RuntimeError("this PyAV's pal8 palette layout is none of ARGB, BGRA, RGBA, ABGR")

