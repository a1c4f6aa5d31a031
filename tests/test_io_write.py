"""Writing clips: lossless round trips, browser-playable H.264, de-identified synthetic DICOM, atomic writes."""
from __future__ import annotations

import os
import subprocess
import sys

import av
import numpy as np
import pydicom
import pytest

from sonosynth.clip import Clip
from sonosynth.errors import BadOption, OutputExists
from sonosynth.io import read_clip, write_clip

RNG = np.random.default_rng(42)
GREY = RNG.integers(0, 256, (4, 21, 35), np.uint8)  # odd sides on purpose
RGB = RNG.integers(0, 256, (4, 21, 35, 3), np.uint8)


@pytest.mark.parametrize("ext", [".mkv", ".npz", ".dcm"])
@pytest.mark.parametrize("frames", [GREY, RGB], ids=["grey", "rgb"])
def test_lossless_formats_round_trip_exactly(tmp_path, ext, frames):
    clip = Clip(frames, fps=24.0, spacing=(0.2, 0.3))
    write_clip(clip, tmp_path / f"c{ext}")
    back = read_clip(tmp_path / f"c{ext}")
    assert back.frames.shape == frames.shape
    np.testing.assert_array_equal(back.frames, frames)
    assert back.fps == pytest.approx(24.0, rel=1e-4)
    if ext != ".mkv":
        assert back.spacing == pytest.approx((0.2, 0.3))


def test_gif_greyscale_is_exact_and_timed(tmp_path):
    write_clip(Clip(GREY, fps=20), tmp_path / "c.gif")
    back = read_clip(tmp_path / "c.gif")
    np.testing.assert_array_equal(back.frames, GREY)
    assert back.fps == pytest.approx(20.0)


@pytest.mark.parametrize("fps", [30.0, 29.97, 12.5])
def test_gif_keeps_every_frame_even_frozen_ones_and_its_mean_rate(tmp_path, fps):
    """Pillow's writer merged identical neighbours (8 frames with a frozen middle came back as 5), and one delay
    rounded to 1/100 s made 30 fps 33.3; per-frame delays (3, 4, 3, ...) hold the mean rate."""
    frames = GREY[[0, 1, 1, 1, 1, 2, 3, 3] * 8]  # a frozen stretch; a few seconds, as the rate is a mean of delays
    write_clip(Clip(frames, fps=fps), tmp_path / "c.gif")
    back = read_clip(tmp_path / "c.gif")
    np.testing.assert_array_equal(back.frames, frames)
    assert back.fps == pytest.approx(fps, rel=0.02)


def test_gif_colour_is_quantised_per_frame_with_small_error(tmp_path):
    rgb = _smooth((3, 40, 56, 3))
    write_clip(Clip(rgb, fps=10), tmp_path / "c.gif")
    back = read_clip(tmp_path / "c.gif").frames
    assert back.shape == rgb.shape and np.abs(back.astype(int) - rgb).mean() < 5.0  # 6160 colours: 4.4, as with Pillow's writer


def _smooth(shape):
    t, h, w = shape[:3]
    y, x = np.mgrid[0:h, 0:w]
    base = np.stack([(x * 255 // w + 10 * k) % 256 for k in range(t)])
    return base.astype(np.uint8) if len(shape) == 3 else np.stack([base, y[None].repeat(t, 0) * 255 // h, 255 - base], -1).astype(np.uint8)


def test_mp4_is_browser_h264_and_faithful(tmp_path):
    frames = _smooth((12, 47, 63))  # odd: padded by one row and column
    write_clip(Clip(frames, fps=25), tmp_path / "c.mp4")
    data = (tmp_path / "c.mp4").read_bytes()
    assert 0 < data.find(b"moov") < data.find(b"mdat")  # faststart: playable while downloading
    with av.open(str(tmp_path / "c.mp4")) as c:
        s = c.streams.video[0]
        assert (s.codec_context.name, s.codec_context.pix_fmt, s.width, s.height) == ("h264", "yuv420p", 64, 48)
    back = read_clip(tmp_path / "c.mp4")
    assert back.frames.shape == (12, 48, 64) and back.fps == pytest.approx(25.0)
    err = back.frames[:, :47, :63].astype(float) - frames
    assert 10 * np.log10(255**2 / np.mean(err**2)) > 35  # PSNR at crf 23


def test_mp4_rgb_and_crf(tmp_path):
    frames = _smooth((8, 48, 64, 3))
    write_clip(Clip(frames), tmp_path / "hi.mp4", crf=10)
    write_clip(Clip(frames), tmp_path / "lo.mp4", crf=45)
    assert (tmp_path / "hi.mp4").stat().st_size > (tmp_path / "lo.mp4").stat().st_size
    back = read_clip(tmp_path / "hi.mp4")
    assert back.is_rgb and np.abs(back.frames.astype(int) - frames).mean() < 5  # 4:2:0 halves colour resolution
    with pytest.raises(BadOption, match="crf"):
        write_clip(Clip(frames), tmp_path / "bad.mp4", crf=99)
    assert not (tmp_path / "bad.mp4").exists() and len(list(tmp_path.iterdir())) == 2  # no temp left


WRITE_ON_CPUS = """
import os, sys
import numpy as np
from sonosynth.clip import Clip
from sonosynth.io import write_clip
os.sched_setaffinity(0, set(sorted(os.sched_getaffinity(0))[: int(sys.argv[1])]))
rng = np.random.default_rng(0)
base = rng.gamma(2.0, 35.0, (368, 368)).clip(0, 255).astype(np.uint8)
write_clip(Clip(np.stack([np.roll(base, t, axis=1) for t in range(20)]), fps=30.0), sys.argv[2])
"""


@pytest.mark.skipif(not hasattr(os, "sched_setaffinity") or len(os.sched_getaffinity(0)) < 2, reason="needs 2 CPUs")
def test_mp4_is_the_same_file_whatever_the_cpus_the_writer_may_use(tmp_path):
    """x264 takes its thread count, and with it its output, from the CPUs it may use unless told."""
    files = []
    for cpus in (1, 2):
        files.append(tmp_path / f"on{cpus}.mp4")
        subprocess.run([sys.executable, "-c", WRITE_ON_CPUS, str(cpus), str(files[-1])], check=True)
    assert files[0].read_bytes() == files[1].read_bytes()


def test_png_single_frame_only(tmp_path):
    write_clip(Clip(RGB[:1]), tmp_path / "one.png")
    np.testing.assert_array_equal(read_clip(tmp_path / "one.png").frames, RGB[:1])
    with pytest.raises(BadOption, match="one frame"):
        write_clip(Clip(RGB), tmp_path / "many.png")
    assert not (tmp_path / "many.png").exists()


def test_existing_output_is_kept_unless_overwrite(tmp_path):
    target = tmp_path / "c.npz"
    target.write_bytes(b"user data")
    with pytest.raises(OutputExists):
        write_clip(Clip(GREY), target)
    assert target.read_bytes() == b"user data"
    write_clip(Clip(GREY), target, overwrite=True)
    np.testing.assert_array_equal(read_clip(target).frames, GREY)
    assert [p.name for p in tmp_path.iterdir()] == ["c.npz"]


def test_unknown_output_extension(tmp_path):
    with pytest.raises(BadOption, match="cannot write"):
        write_clip(Clip(GREY), tmp_path / "c.webp")


PHI = {
    "PatientName": "Leakwell^Johanna^Q", "PatientID": "PID-7731-XQ", "PatientBirthDate": "19510423",
    "PatientAddress": "12 Hidden Lane", "InstitutionName": "Saint Privacy Hospital", "InstitutionAddress": "1 Secret Road",
    "ReferringPhysicianName": "Referrer^Bartholomew", "AccessionNumber": "ACC99887766", "StudyDate": "20190311",
    "StudyTime": "101112", "SeriesDate": "20190312", "AcquisitionDate": "20190313", "StudyID": "STUDY4242",
    "OperatorsName": "Operator^Ottilie", "PerformingPhysicianName": "Performer^Pim", "StationName": "STATION-ZQ9",
    "DeviceSerialNumber": "SN-31415926", "OtherPatientIDs": "OTHER-2718", "PatientAge": "071Y",
    "StudyDescription": "Private study text", "InstitutionalDepartmentName": "Dept of Hidden Things",
}


def test_dicom_output_is_synthetic_derived_and_leaks_no_identity(tmp_path, pydicom_file):
    src = pydicom.dcmread(pydicom_file("examples_ybr_color.dcm"))
    for name, value in PHI.items():
        setattr(src, name, value)
    src.save_as(tmp_path / "source.dcm")
    clip = read_clip(tmp_path / "source.dcm")
    out = write_clip(clip.with_frames(clip.frames, derivation="CFD-to-greyscale translation"), tmp_path / "out.dcm")

    data = out.read_bytes()
    for name, value in PHI.items():
        assert value.encode() not in data, f"{name} leaked"
    ds = pydicom.dcmread(out)
    for name in PHI:
        assert not ds.get(name), f"{name} is set"
    assert ds.SOPClassUID == "1.2.840.10008.5.1.4.1.1.3.1"
    for uid in ("StudyInstanceUID", "SeriesInstanceUID", "SOPInstanceUID"):
        assert ds[uid].value != src[uid].value
    assert list(ds.ImageType) == ["DERIVED", "SECONDARY"]
    assert "SYNTHETIC" in ds.DerivationDescription and "sonosynth" in ds.DerivationDescription
    assert "CFD-to-greyscale translation" in ds.DerivationDescription
    assert "SYNTHETIC" in ds.ImageComments and ds.BurnedInAnnotation in ("YES", "NO")
    assert ds.PatientIdentityRemoved == "YES" and ds.DeidentificationMethod
    assert ds.PhotometricInterpretation == "RGB" and int(ds.NumberOfFrames) == 30
    assert float(ds.FrameTime) == pytest.approx(33.333, rel=1e-3) and int(ds.CineRate) == 30
    assert ds.FrameIncrementPointer == 0x00181063
    assert ds.file_meta.TransferSyntaxUID == pydicom.uid.ExplicitVRLittleEndian
    np.testing.assert_array_equal(read_clip(out).frames, clip.frames)


def test_two_dicom_writes_get_distinct_uids(tmp_path):
    a = pydicom.dcmread(write_clip(Clip(GREY), tmp_path / "a.dcm"))
    b = pydicom.dcmread(write_clip(Clip(GREY), tmp_path / "b.dcm"))
    assert a.SOPInstanceUID != b.SOPInstanceUID and a.StudyInstanceUID != b.StudyInstanceUID
    assert a.PhotometricInterpretation == "MONOCHROME2"


US_MULTIFRAME_REQUIRED = (  # Type 1 and 2 attributes of the modules of the US Multi-frame Image IOD
    "PatientName", "PatientID", "PatientBirthDate", "PatientSex", "StudyInstanceUID", "StudyDate", "StudyTime",
    "ReferringPhysicianName", "StudyID", "AccessionNumber", "Modality", "SeriesInstanceUID", "SeriesNumber",
    "Manufacturer", "InstanceNumber", "PatientOrientation", "SamplesPerPixel", "PhotometricInterpretation", "Rows",
    "Columns", "BitsAllocated", "BitsStored", "HighBit", "PixelRepresentation", "PixelData", "NumberOfFrames",
    "FrameIncrementPointer", "FrameTime", "ImageType", "LossyImageCompression", "SOPClassUID", "SOPInstanceUID",
)


def test_dicom_output_has_every_required_attribute(tmp_path):
    ds = pydicom.dcmread(write_clip(Clip(RGB, fps=30), tmp_path / "a.dcm"))
    missing = [name for name in US_MULTIFRAME_REQUIRED if name not in ds]
    assert missing == []
    assert ds.PlanarConfiguration == 0 and ds.file_meta.MediaStorageSOPInstanceUID == ds.SOPInstanceUID


@pytest.mark.parametrize("ext, fps", [(".mp4", 1e-6), (".mkv", 1e-6), (".gif", 1e-6), (".mp4", 2500.0), (".mkv", 1e5),
                                      (".gif", 60.0)])
def test_fps_a_format_cannot_store_is_refused_not_changed(tmp_path, ext, fps):
    """Unchecked, 1e-6 fps was stored as 24, 1e5 read back as 30000, a 4-frame H.264 clip at 2500 fps lost a frame,
    the GIF writer crashed, and a 60 fps GIF was written at 50 fps (browsers show a faster delay as 1/10 s)."""
    with pytest.raises(BadOption, match="cannot store"):
        write_clip(Clip(GREY, fps=fps), tmp_path / f"c{ext}")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("ext, fps", [(".npz", 1e-6), (".dcm", 1e-6), (".mp4", 0.01), (".mkv", 0.01), (".gif", 0.01),
                                      (".mp4", 1000.0), (".mkv", 1000.0)])
def test_extreme_fps_within_a_format_survive(tmp_path, ext, fps):
    write_clip(Clip(GREY, fps=fps), tmp_path / f"c{ext}")
    assert read_clip(tmp_path / f"c{ext}").fps == pytest.approx(fps, rel=1e-6)


def test_outputs_get_the_usual_permissions_even_from_writers_that_make_their_file_anew(tmp_path):
    """Clips were 0644 under umask 022, exported weights 0600: safetensors replaces the temporary it is given."""
    from sonosynth.methods.translate.config import TranslateConfig
    from sonosynth.methods.translate.model import Generator
    from sonosynth.methods.translate.weights import save_weights

    umask = os.umask(0o022)
    try:
        cfg = TranslateConfig.tiny()
        save_weights(Generator(cfg).state_dict(), cfg, tmp_path / "w.safetensors")
        write_clip(Clip(GREY, fps=10), tmp_path / "c.mkv")
    finally:
        os.umask(umask)
    modes = {p.name: p.stat().st_mode & 0o777 for p in tmp_path.iterdir()}
    assert modes == {"w.safetensors": 0o644, "w.json": 0o644, "c.mkv": 0o644}, modes


def test_a_streamed_mp4_is_the_same_file_every_time_even_with_work_between_frames(tmp_path):
    """Sides not multiples of 16, frames handed over one by one between other work (as a translation does):
    x264's SIMD code gave other bytes from run to run; the stream writer's plain C gives the same."""
    import av

    from sonosynth.io.stream import VideoStreamWriter

    frames = _smooth((16, 98, 130, 3))
    frames[:, 10:60, 20:90] = np.random.default_rng(5).integers(0, 256, (16, 50, 70, 3), np.uint8)
    packets = []
    for run in range(4):
        with VideoStreamWriter(tmp_path / f"{run}.mp4", 25.0) as writer:
            for k, frame in enumerate(frames):
                writer.write(frame)
                _ = [np.random.default_rng(run * 100 + k).random(n) @ np.ones(n) for n in (1000 + 97 * run, 3000)]
        with av.open(str(tmp_path / f"{run}.mp4")) as container:
            packets.append([bytes(p) for p in container.demux(video=0) if p.size])
    assert all(p == packets[0] for p in packets)
