"""Every lung clip in ../shared/data/lung reads with the frame count, size and fps of clips.csv.

clips.csv took its counts from the container's estimate (duration x fps). For the 19 mp4/mov
files the container indexes every frame and the counts match exactly. MPEG program streams
carry no frame count or duration; FFmpeg estimates the duration from time stamps near the end
of the file and, in 14 of the 24 .mpeg clips, ends it 1-2 frames early. Those trailing pictures
are real (two decoders, PyAV and OpenCV, both return them; they carry their own time stamps),
so read_clip keeps them, and the test checks them against the demuxer's count of coded pictures.
"""
from __future__ import annotations

import csv

import av
import pytest

from sonosynth.io import read_clip


def _rows(shared_data):
    with open(shared_data / "lung" / "clips.csv", newline="") as fh:
        return list(csv.DictReader(fh))


def _container_facts(path):
    """(frames the container declares, video packets that carry a coded picture)."""
    with av.open(str(path)) as c:
        s = c.streams.video[0]
        return int(s.frames or 0), sum(1 for p in c.demux(s) if p.size)


@pytest.mark.slow
def test_every_lung_clip(shared_data):
    rows = _rows(shared_data)
    assert len(rows) == 43
    exact = 0
    for row in rows:
        path = shared_data / "lung" / row["file"]
        clip = read_clip(path)
        assert (clip.height, clip.width) == (int(row["height"]), int(row["width"])), row["file"]
        assert clip.fps == pytest.approx(float(row["fps"]), abs=0.06), row["file"]
        declared, pictures = _container_facts(path)
        listed = int(row["frames"])
        if declared:
            assert clip.n_frames == declared == listed, row["file"]
            exact += 1
        else:
            assert clip.n_frames == pictures, row["file"]
            assert listed <= clip.n_frames <= listed + 2, row["file"]
    assert exact == 19  # the mp4 and mov files
