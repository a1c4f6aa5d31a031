"""Whole video files that players show without complaint must read whole, only as much as the video holds, and
the way players show it: an audio track outlasting the picture and an MP4 trimmed without re-encoding (an edit
list hiding the frames before the cut) are not truncations, and a clip recorded sideways (a display rotation
in its track header) reads upright. Both readers, the whole-clip one and the stream, must agree."""
from __future__ import annotations

import struct
from pathlib import Path

import av
import numpy as np
import pytest

from sonosynth.errors import UnreadableInput
from sonosynth.io import read_clip
from sonosynth.io.stream import VideoStream

FPS, FRAMES = 10, 8


def _noise(k: int) -> np.ndarray:
    return np.random.default_rng(k).integers(0, 256, (48, 64, 3), np.uint8)


def _video_stream(out, **options):
    v = out.add_stream("libx264", rate=FPS)
    v.width, v.height, v.pix_fmt, v.options = 64, 48, "yuv420p", options
    return v


def _with_long_audio(path: Path, container_format: str, audio_s: float = 2.0, options: dict | None = None) -> Path:
    """FRAMES frames of video (0.8 s) and `audio_s` of silent AAC: the container's duration is the audio's."""
    with av.open(str(path), "w", format=container_format, options=options or {}) as out:
        v, a = _video_stream(out), out.add_stream("aac", rate=44100)
        a.layout = "mono"
        for k in range(FRAMES):
            for p in v.encode(av.VideoFrame.from_ndarray(_noise(k), format="rgb24")):
                out.mux(p)
        for p in v.encode():
            out.mux(p)
        for k in range(int(audio_s * 44100) // 1024):
            f = av.AudioFrame.from_ndarray(np.zeros((1, 1024), np.float32), format="fltp", layout="mono")
            f.sample_rate, f.pts = 44100, k * 1024
            for p in a.encode(f):
                out.mux(p)
        for p in a.encode():
            out.mux(p)
    return path


def _trimmed(path: Path, lead: int = 3) -> Path:
    """An MP4 whose first `lead` frames lie before time 0, as a cut without re-encoding leaves them: the muxer
    writes an edit list, and players (and FFmpeg's decoder) show only the frames from 0 on."""
    with av.open(str(path), "w", format="mp4") as out:
        v = _video_stream(out, bf="0")
        for k in range(FRAMES):
            frame = av.VideoFrame.from_ndarray(_noise(k), format="rgb24")
            frame.pts = k - lead
            for p in v.encode(frame):
                out.mux(p)
        for p in v.encode():
            out.mux(p)
    return path


def _source_indices(frames: np.ndarray) -> list[int]:
    """For each decoded frame, which encoded noise frame it is nearest to: the frames' identity and order."""
    return [int(np.argmin([np.abs(f.astype(float) - _noise(k)).mean() for k in range(FRAMES)])) for f in frames]


def _both_readers(path: Path) -> tuple[np.ndarray, np.ndarray]:
    return read_clip(path).frames, np.concatenate(list(VideoStream(path).chunks(size=3)))


@pytest.mark.parametrize("container_format,ext", [("mp4", ".mp4"), ("matroska", ".mkv")])
def test_audio_outlasting_the_video_is_no_truncation(tmp_path, container_format, ext):
    whole, streamed = _both_readers(_with_long_audio(tmp_path / f"clip{ext}", container_format))
    assert np.array_equal(whole, streamed) and _source_indices(whole) == list(range(FRAMES))


def test_a_cut_clip_with_audio_is_still_refused(tmp_path):
    """The video stream's own length still betrays a cut: the check moved from the container to the stream."""
    src = _with_long_audio(tmp_path / "whole.mp4", "mp4", audio_s=0.5, options={"movflags": "+faststart"})
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(src.read_bytes()[: src.stat().st_size * 2 // 3])
    with pytest.raises(UnreadableInput, match="truncated"):
        read_clip(cut)
    with pytest.raises(UnreadableInput, match="truncated"):
        list(VideoStream(cut).chunks())


def test_an_mp4_trimmed_without_re_encoding_reads_the_frames_it_shows(tmp_path):
    whole, streamed = _both_readers(_trimmed(tmp_path / "trimmed.mp4", lead=3))
    assert np.array_equal(whole, streamed) and _source_indices(whole) == list(range(3, FRAMES))  # from the cut on


def _turned(path: Path, quarter_turns_ccw: int) -> tuple[Path, np.ndarray]:
    """An MP4 of a picture with one bright corner, its track header's display matrix then set to turn it as
    a phone's recording states it: the pixels stored are the same, only how players show them changes."""
    picture = np.zeros((48, 64, 3), np.uint8)
    picture[:] = 30, 60, 90  # colour: the readers keep three channels
    picture[:16, :24] = 220, 120, 40
    with av.open(str(path), "w", format="mp4") as out:
        v = _video_stream(out)
        for _ in range(3):
            for p in v.encode(av.VideoFrame.from_ndarray(picture, format="rgb24")):
                out.mux(p)
        for p in v.encode():
            out.mux(p)
    one, identity = 0x10000, struct.pack(">9i", 0x10000, 0, 0, 0, 0x10000, 0, 0, 0, 0x40000000)
    cos, sin = [(1, 0), (0, 1), (-1, 0), (0, -1)][quarter_turns_ccw % 4]
    matrix = struct.pack(">9i", cos * one, -sin * one, 0, sin * one, cos * one, 0, 0, 0, 0x40000000)
    data = path.read_bytes()
    at = data.index(identity, data.index(b"tkhd"))
    path.write_bytes(data[:at] + matrix + data[at + len(identity):])
    return path, np.rot90(picture, quarter_turns_ccw)


@pytest.mark.parametrize("quarters", [1, 2, 3])
def test_a_clip_recorded_sideways_reads_upright(tmp_path, quarters):
    path, shown = _turned(tmp_path / "turned.mp4", quarters)
    whole, streamed = _both_readers(path)
    assert whole.shape[1:3] == shown.shape[:2] and np.array_equal(whole, streamed)
    assert np.abs(whole[0].astype(int) - shown).mean() < 4  # the bright corner where a player shows it
