"""Reading clips: video, stills, numbered-frame folders, MetaImage, npz; format chosen by content."""
from __future__ import annotations

import csv

import numpy as np
import pytest
from PIL import Image

from sonosynth.clip import Clip
from sonosynth.errors import UnreadableInput
from sonosynth.io import read_clip, write_clip
from sonosynth.io.common import maybe_grey, window_to_uint8


def _lung_rows(shared_data):
    with open(shared_data / "lung" / "clips.csv", newline="") as fh:
        return {r["file"]: r for r in csv.DictReader(fh)}


@pytest.mark.parametrize("name", ["convex_Vir_whitelung_h1n1.mp4", "linear_Reg_Image_18122_crop.mp4",
                                  "convex_Reg_recommendations_alines_mov1.mov", "convex_Reg_pat1Image_133327.mpeg"])
def test_lung_clips_read_with_listed_frames_size_and_fps(shared_data, name):
    row = _lung_rows(shared_data)[name]
    clip = read_clip(shared_data / "lung" / name)
    assert clip.frames.shape == (int(row["frames"]), int(row["height"]), int(row["width"]))  # greyscale
    assert clip.fps == pytest.approx(float(row["fps"]), abs=0.06)
    assert clip.source["lossy"] is True


def test_tinted_greyscale_stays_rgb(shared_data):
    """A blue-tinted B-mode map is what the user sees: channels differ by up to ~25, kept as RGB."""
    clip = read_clip(shared_data / "lung" / "convex_Cov_convex_volpecelli_sonographic_v4.mov")
    assert clip.frames.shape == (405, 414, 414, 3)
    f = clip.frames[100].astype(int)
    assert (f[..., 2] - f[..., 0]).mean() > 5  # blue over red


def test_still_images(shared_data):
    nerve = read_clip(shared_data / "nerve" / "images" / "0000.png")
    assert nerve.frames.shape == (1, 512, 512) and nerve.fps == 1.0
    np.testing.assert_array_equal(nerve.frames[0], np.asarray(Image.open(shared_data / "nerve" / "images" / "0000.png")))
    jpg = read_clip(shared_data / "doppler" / "cfd_apical_img7.jpg")
    assert jpg.frames.shape == (1, 600, 800, 3) and jpg.source["lossy"] is True
    assert read_clip(shared_data / "doppler" / "201711081140010077VAS.png").frames.shape == (1, 850, 1200, 3)


def test_metaimage_sequences_with_timestamps(shared_data):
    bone = read_clip(shared_data / "plus" / "BoneUltrasound_L14.igs.mha")
    assert bone.frames.shape == (21, 616, 820)
    assert 11.0 < bone.fps < 12.5  # from the per-frame timestamps in the header
    prostate = read_clip(shared_data / "plus" / "Prostate10_video.igs.mhd")
    assert prostate.frames.shape == (10, 480, 640)
    assert prostate.spacing == pytest.approx((0.3, 0.3)) and prostate.fps == pytest.approx(2.0)


def test_numbered_frame_folder_in_numeric_order(tmp_path):
    for i in (10, 2, 1):  # 10 after 2: numeric, not lexical
        Image.fromarray(np.full((6, 8), i * 20, np.uint8)).save(tmp_path / f"frame{i}.png")
    (tmp_path / "notes.txt").write_text("ignored")
    clip = read_clip(tmp_path)
    assert clip.frames.shape == (3, 6, 8)
    assert clip.frames[:, 0, 0].tolist() == [20, 40, 200]


def test_folder_of_mismatched_frames_is_refused(tmp_path):
    Image.fromarray(np.zeros((6, 8), np.uint8)).save(tmp_path / "1.png")
    Image.fromarray(np.zeros((6, 9), np.uint8)).save(tmp_path / "2.png")
    with pytest.raises(UnreadableInput, match="differs"):
        read_clip(tmp_path)


def test_content_decides_not_extension(tmp_path):
    frames = np.random.default_rng(0).integers(0, 256, (3, 8, 10), np.uint8)
    write_clip(Clip(frames, fps=7), tmp_path / "a.npz")
    (tmp_path / "a.npz").rename(tmp_path / "misnamed.png")
    clip = read_clip(tmp_path / "misnamed.png")
    np.testing.assert_array_equal(clip.frames, frames)
    assert clip.fps == 7.0 and clip.source["format"] == "npz"


def test_greyscale_detection_tolerance():
    rgb = np.zeros((2, 4, 4, 3), np.uint8)
    rgb[..., 0], rgb[..., 1], rgb[..., 2] = 100, 103, 98
    assert maybe_grey(rgb, lossy=True).shape == (2, 4, 4)
    assert maybe_grey(rgb, lossy=True)[0, 0, 0] == 100
    assert maybe_grey(rgb, lossy=False).shape == (2, 4, 4, 3)  # lossless: only exact equality collapses
    rgb[1, 2, 2] = (200, 30, 30)  # one red pixel in one frame: colour
    assert maybe_grey(rgb, lossy=True).ndim == 4


def test_window_to_uint8_uses_given_window():
    out = window_to_uint8(np.array([0, 500, 1000, 2000], np.uint16), center=500, width=1000)
    assert out.tolist() == [0, 128, 255, 255]


def test_absurd_size_refused_before_allocating(tmp_path, monkeypatch):
    write_clip(Clip(np.zeros((4, 64, 64), np.uint8)), tmp_path / "a.npz")
    monkeypatch.setenv("SONOSYNTH_MAX_BYTES", "1000")
    with pytest.raises(UnreadableInput, match="limit"):
        read_clip(tmp_path / "a.npz")


def test_avi_mjpeg_greyscale_within_codec_tolerance(tmp_path):
    import av

    frames = np.stack([np.tile(np.linspace(0, 255, 64, dtype=np.uint8), (48, 1))] * 5)
    with av.open(str(tmp_path / "c.avi"), "w") as out:
        s = out.add_stream("mjpeg", rate=15)
        s.width, s.height, s.pix_fmt = 64, 48, "yuvj420p"
        for f in frames:
            for p in s.encode(av.VideoFrame.from_ndarray(f, format="gray")):
                out.mux(p)
        for p in s.encode():
            out.mux(p)
    clip = read_clip(tmp_path / "c.avi")
    assert clip.frames.shape == (5, 48, 64) and clip.fps == pytest.approx(15.0)
    assert np.abs(clip.frames.astype(int) - frames).mean() < 2
