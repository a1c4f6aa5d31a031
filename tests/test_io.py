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
    frames = np.stack([np.tile(np.linspace(0, 255, 64, dtype=np.uint8), (48, 1))] * 5)
    _pyav_write(tmp_path / "c.avi", frames, "mjpeg", 15, "yuvj420p")
    clip = read_clip(tmp_path / "c.avi")
    assert clip.frames.shape == (5, 48, 64) and clip.fps == pytest.approx(15.0)
    assert np.abs(clip.frames.astype(int) - frames).mean() < 2


def _video(path, n=30, fps=25):
    """A real `n`-frame video: the project's writers for .mp4, .mkv, .gif; PyAV for .avi (MPEG-4), .mpeg (MPEG-PS)."""
    base = np.random.default_rng(3).integers(0, 256, (48, 64), np.uint8)
    frames = np.stack([np.roll(base, 2 * t, axis=1) for t in range(n)])
    if path.suffix in (".mp4", ".mkv", ".gif"):
        write_clip(Clip(frames, fps=fps), path)
        return path
    mpeg = path.suffix == ".mpeg"
    return _pyav_write(path, frames, "mpeg2video" if mpeg else "mpeg4", fps, "yuv420p", "mpeg" if mpeg else "avi")


def _pyav_write(path, frames, codec: str, fps, pix_fmt: str, container: str | None = None):
    """Greyscale `frames` (T,H,W) encoded by PyAV, not by sonosynth's writers: files of other encoders."""
    import av

    with av.open(str(path), "w", format=container) as out:
        s = out.add_stream(codec, rate=fps)
        s.height, s.width = frames.shape[1:]
        s.pix_fmt = pix_fmt
        for f in frames:
            for p in s.encode(av.VideoFrame.from_ndarray(f, format="gray")):
                out.mux(p)
        for p in s.encode():
            out.mux(p)
    return path


def _cut(path, keep):
    """The first `keep` fraction of the file's bytes, as an interrupted download or copy leaves it."""
    cut = path.with_name(f"cut_{path.name}")
    data = path.read_bytes()
    cut.write_bytes(data[: int(len(data) * keep)])
    return cut


def _stream_all(path, size=8) -> list[int]:
    """Chunk lengths the streaming reader hands out, as `translate` consumes them."""
    from sonosynth.io.stream import VideoStream

    return [len(chunk) for chunk in VideoStream(path).chunks(size)]


@pytest.mark.parametrize("ext", [".mp4", ".mkv", ".avi", ".gif", ".mpeg"])
def test_cut_video_is_refused_by_the_whole_and_the_streaming_reader(tmp_path, ext):
    whole = _video(tmp_path / f"v{ext}")
    assert read_clip(whole).n_frames == 30 and sum(_stream_all(whole)) == 30
    cut = _cut(whole, 0.6)
    with pytest.raises(UnreadableInput, match="truncated"):
        read_clip(cut)
    with pytest.raises(UnreadableInput, match="truncated"):
        _stream_all(cut)


def test_stream_checks_the_decoded_frames_before_the_last_chunk(tmp_path, monkeypatch):
    """Without the check at opening (packets), the decoded frames are checked: the last chunk is withheld."""
    import av

    from sonosynth.io.stream import VideoStream

    cut = _cut(_video(tmp_path / "v.mkv"), 0.6)
    with av.open(str(cut)) as c:
        decodable = sum(1 for _ in c.decode(video=0))
    monkeypatch.setattr(VideoStream, "_check_packets", lambda self, container, stream: None)
    handed: list[int] = []
    with pytest.raises(UnreadableInput, match="truncated"):
        for chunk in VideoStream(cut).chunks(4):
            handed.append(len(chunk))
    assert 0 < decodable - sum(handed) <= 4


def test_real_mpeg_program_streams_are_whole_and_a_cut_one_is_refused(shared_data, tmp_path):
    """MPEG-PS states no length: a cut file is told by its last packet running past the end of the file."""
    from sonosynth.io.video import check_file_end

    files = sorted((shared_data / "lung").glob("*.mpeg"))
    assert len(files) == 24
    for path in files:
        check_file_end(path, "mpeg")  # raises on a false alarm
    source = tmp_path / "clip.mpeg"
    source.write_bytes((shared_data / "lung" / "convex_Reg_pat2Image_134138.mpeg").read_bytes())
    with pytest.raises(UnreadableInput, match="truncated"):
        read_clip(_cut(source, 0.3))


def test_one_frame_gif_without_a_delay_is_a_still(tmp_path):
    """FFmpeg's rate guess for a GIF is its 1/100 s clock (100 fps); a still reads at a nominal 1 fps."""
    frame = Image.fromarray(np.arange(48, dtype=np.uint8).reshape(6, 8))
    frame.save(tmp_path / "still.gif")
    frame.save(tmp_path / "timed.gif", duration=40)
    assert read_clip(tmp_path / "still.gif").fps == 1.0
    assert read_clip(tmp_path / "timed.gif").fps == pytest.approx(25.0)


@pytest.mark.parametrize("grey_first", [True, False], ids=["grey-first", "colour-first"])
def test_folder_of_grey_and_colour_frames_reads_as_colour_in_either_order(tmp_path, grey_first):
    grey = np.arange(48, dtype=np.uint8).reshape(6, 8)
    colour = np.zeros((6, 8, 3), np.uint8)
    colour[..., 0] = 200
    frames = [grey, colour] if grey_first else [colour, grey]
    for i, f in enumerate(frames, start=1):
        Image.fromarray(f).save(tmp_path / f"frame{i}.png")
    clip = read_clip(tmp_path)
    assert clip.frames.shape == (2, 6, 8, 3)
    np.testing.assert_array_equal(clip.frames[0 if grey_first else 1], np.repeat(grey[..., None], 3, axis=-1))
    np.testing.assert_array_equal(clip.frames[1 if grey_first else 0], colour)


def test_folder_whose_colour_frames_are_grey_reads_as_grey(tmp_path):
    grey = np.arange(48, dtype=np.uint8).reshape(6, 8)
    Image.fromarray(grey).save(tmp_path / "frame1.png")
    Image.fromarray(np.repeat(grey[..., None] + 1, 3, axis=-1)).save(tmp_path / "frame2.png")  # RGB, R = G = B
    clip = read_clip(tmp_path)
    np.testing.assert_array_equal(clip.frames, np.stack([grey, grey + 1]))


@pytest.mark.parametrize("fps", [np.nan, np.inf, -5.0, 0.0, "abc", [10.0, 20.0]], ids=str)
def test_npz_with_an_absurd_fps_is_refused_not_replaced(tmp_path, fps):
    np.savez(tmp_path / "c.npz", frames=np.zeros((2, 4, 4), np.uint8), fps=np.asarray(fps))
    with pytest.raises(UnreadableInput, match="'fps' must be"):
        read_clip(tmp_path / "c.npz")


def test_npz_with_a_slow_but_real_fps_keeps_it(tmp_path):
    np.savez(tmp_path / "c.npz", frames=np.zeros((2, 4, 4), np.uint8), fps=np.float64(1e-6))
    assert read_clip(tmp_path / "c.npz").fps == 1e-6


def test_a_still_reads_as_its_exif_orientation_shows_it(tmp_path):
    """Orientation 6 (stored sideways, shown turned a quarter clockwise), as phones write it; PNG keeps it exact."""
    stored = np.arange(6 * 8, dtype=np.uint8).reshape(6, 8) * 5
    exif = Image.Exif()
    exif[0x0112] = 6
    Image.fromarray(stored).save(tmp_path / "turned.png", exif=exif)
    np.testing.assert_array_equal(read_clip(tmp_path / "turned.png").frames[0], np.rot90(stored, -1))


def test_a_multi_page_tiff_is_a_clip_of_its_pages(tmp_path):
    """Each page a frame (it read as its first page alone); 16-bit pages share one window, so a dim page stays dim."""
    pages = [Image.fromarray(np.full((6, 8), 40 * k, np.uint8)) for k in range(3)]
    pages[0].save(tmp_path / "stack.tif", save_all=True, append_images=pages[1:])
    clip = read_clip(tmp_path / "stack.tif")
    assert clip.frames.shape == (3, 6, 8) and [int(f.mean()) for f in clip.frames] == [0, 40, 80]
    wide = [Image.fromarray(np.full((6, 8), v, np.uint16)) for v in (1000, 3000, 5000)]
    wide[0].save(tmp_path / "wide.tif", save_all=True, append_images=wide[1:])
    assert [int(f.mean()) for f in read_clip(tmp_path / "wide.tif").frames] == [0, 128, 255]
