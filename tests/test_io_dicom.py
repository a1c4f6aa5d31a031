"""DICOM reading: real ultrasound examples, every photometric interpretation, compressed syntaxes, windowing."""
from __future__ import annotations

import numpy as np
import pydicom
import pytest
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.pixels import apply_color_lut, convert_color_space, get_decoder
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

from sonosynth.errors import UnreadableInput
from sonosynth.io import read_clip


def test_ybr_full_422_cine_is_converted_to_rgb_like_pydicom(pydicom_file):
    path = pydicom_file("examples_ybr_color.dcm")
    clip = read_clip(path)
    assert clip.frames.shape == (30, 240, 320, 3)
    assert clip.fps == pytest.approx(1000 / 33.333, rel=1e-4)
    assert clip.spacing is not None and clip.spacing[0] == pytest.approx(clip.spacing[1])
    ds = pydicom.dcmread(path)
    raw, meta = get_decoder(ds.file_meta.TransferSyntaxUID).as_array(ds, index=7, as_rgb=False)
    assert meta["photometric_interpretation"] == "YBR_FULL_422"
    np.testing.assert_array_equal(clip.frames[7], convert_color_space(raw, "YBR_FULL", "RGB"))
    # An echo is mostly grey: displayed right, channels agree; YBR read as RGB would put Cb/Cr near 128.
    spread = lambda a: np.median(a.max(-1).astype(int) - a.min(-1))  # noqa: E731
    assert spread(clip.frames) < 10 and spread(raw) > 100
    assert clip.source["lossy"] is True and clip.source["PhotometricInterpretation"] == "YBR_FULL_422"


def test_palette_colour_applies_the_lut(pydicom_file):
    path = pydicom_file("examples_palette.dcm")
    clip = read_clip(path)
    ds = pydicom.dcmread(path)
    expect = (apply_color_lut(ds.pixel_array, ds) >> 8).astype(np.uint8)
    assert clip.frames.shape == (1, 350, 800, 3)
    np.testing.assert_array_equal(clip.frames[0], expect)
    assert len(np.unique(clip.frames.reshape(-1, 3), axis=0)) > 50  # a real colour map, not indices


def test_jpeg2000_power_doppler_has_orange_flow(pydicom_file):
    clip = read_clip(pydicom_file("examples_jpeg2k.dcm"))
    assert clip.frames.shape == (1, 480, 640, 3) and clip.is_rgb
    f = clip.frames[0].astype(int)
    orange = (f[..., 0] > 150) & (f[..., 0] - f[..., 2] > 80)
    assert 500 < orange.sum() < 0.2 * f[..., 0].size


def test_rgb_example_is_bit_exact(pydicom_file):
    path = pydicom_file("examples_rgb_color.dcm")
    np.testing.assert_array_equal(read_clip(path).frames[0], pydicom.dcmread(path).pixel_array)


@pytest.mark.parametrize("name", ["SC_rgb_jpeg_gdcm.dcm", "SC_rgb_rle_2frame.dcm"])
def test_lossless_rgb_syntaxes_agree_with_rle(pydicom_file, name):
    ref = read_clip(pydicom_file("SC_rgb_rle.dcm")).frames[0]
    assert ref[0, 0].tolist() == [255, 0, 0]
    np.testing.assert_array_equal(read_clip(pydicom_file(name)).frames[0], ref)


@pytest.mark.parametrize("name", ["SC_rgb_jpeg_dcmtk.dcm", "SC_ybr_full_422_uncompressed.dcm"])
def test_lossy_and_subsampled_colour_stay_close_to_lossless(pydicom_file, name):
    ref = read_clip(pydicom_file("SC_rgb_rle.dcm")).frames[0].astype(int)
    got = read_clip(pydicom_file(name)).frames[0].astype(int)
    assert np.abs(got - ref).mean() < 2.0


@pytest.mark.parametrize("name", ["MR_small_jpeg_ls_lossless.dcm", "MR_small_jp2klossless.dcm", "MR_small_RLE.dcm"])
def test_16bit_compressed_matches_uncompressed_after_windowing(pydicom_file, name):
    ref = read_clip(pydicom_file("MR_small.dcm"))
    assert ref.frames.shape == (1, 64, 64) and ref.frames.dtype == np.uint8
    np.testing.assert_array_equal(read_clip(pydicom_file(name)).frames, ref.frames)


def _mono(tmp_path, pixels: np.ndarray, photometric="MONOCHROME2", **attrs):
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.3.1"
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = Dataset()
    ds.file_meta = meta
    ds.SOPClassUID, ds.SOPInstanceUID, ds.Modality = meta.MediaStorageSOPClassUID, meta.MediaStorageSOPInstanceUID, "US"
    ds.NumberOfFrames, ds.Rows, ds.Columns = pixels.shape
    bits = pixels.dtype.itemsize * 8
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, photometric
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = bits, bits, bits - 1, 0
    for k, v in attrs.items():
        setattr(ds, k, v)
    ds.PixelData = pixels.tobytes()
    path = tmp_path / "x.dcm"
    ds.save_as(path, enforce_file_format=True)
    return path


def test_16bit_without_window_uses_min_max_over_the_clip(tmp_path):
    px = np.array([[[1000, 3000], [5000, 5000]], [[2000, 2000], [2000, 2000]]], np.uint16)
    clip = read_clip(_mono(tmp_path, px))
    np.testing.assert_array_equal(clip.frames, [[[0, 128], [255, 255]], [[64, 64], [64, 64]]])


def test_16bit_window_and_monochrome1_inversion(tmp_path):
    px = np.array([[[0, 1000], [2000, 4000]]], np.uint16)
    clip = read_clip(_mono(tmp_path, px, "MONOCHROME1", WindowCenter=1000, WindowWidth=2000))
    # window 0..2000 -> 0..255, then MONOCHROME1 (high = dark) is inverted for display
    np.testing.assert_array_equal(clip.frames[0], 255 - np.array([[0, 128], [255, 255]]))


def test_monochrome1_8bit_inverted_and_timing(tmp_path):
    px = np.arange(3 * 4 * 5, dtype=np.uint8).reshape(3, 4, 5)
    clip = read_clip(_mono(tmp_path, px, "MONOCHROME1", CineRate=12))
    np.testing.assert_array_equal(clip.frames, 255 - px)
    assert clip.fps == 12.0


def test_ultrasound_region_spacing_in_mm(tmp_path):
    region = Dataset()
    region.PhysicalUnitsXDirection = region.PhysicalUnitsYDirection = 3  # cm
    region.PhysicalDeltaX, region.PhysicalDeltaY = 0.02, 0.025
    path = _mono(tmp_path, np.zeros((1, 4, 4), np.uint8), SequenceOfUltrasoundRegions=[region], FrameTime=40)
    clip = read_clip(path)
    assert clip.spacing == pytest.approx((0.25, 0.2)) and clip.fps == pytest.approx(25.0)


def test_real_doppler_dicoms(shared_data):
    for name, shape in (("color-pl.dcm", (1, 120, 256, 3)), ("US1_UNCR.dcm", (1, 480, 640, 3))):
        path = shared_data / "doppler" / name
        clip = read_clip(path)
        assert clip.frames.shape == shape
        np.testing.assert_array_equal(clip.frames[0], pydicom.dcmread(path).pixel_array)


def test_source_keeps_no_patient_attributes(pydicom_file):
    clip = read_clip(pydicom_file("examples_ybr_color.dcm"))
    assert clip.source["Modality"] == "US"
    assert not {"PatientName", "PatientID", "StudyDate", "InstitutionName", "PatientBirthDate"} & set(clip.source)


def test_header_lies_are_user_errors(tmp_path):
    with pytest.raises(UnreadableInput, match="declares"):
        read_clip(_mono(tmp_path, np.zeros((1, 4, 4), np.uint8), NumberOfFrames=5))


def test_every_bundled_pydicom_file_reads_or_fails_cleanly(pydicom_file, capfd):
    """~80 odd files (big endian, implicit VR, 1/12/16/32-bit, lossy JPEG-LS, RT dose, SR without pixels)."""
    from sonosynth.errors import UserError

    folder = pydicom_file("CT_small.dcm").parent
    read = 0
    for path in sorted(folder.glob("*.dcm")):
        try:
            clip = read_clip(path)
        except UserError:
            continue
        assert clip.frames.dtype == np.uint8 and clip.frames.max() > clip.frames.min(), path.name
        read += 1
    assert read >= 55
    assert capfd.readouterr().err == ""  # pydicom's warnings and log lines are kept off the terminal


def _spoil(path):
    """Placeholders written as valid numbers become text in the file's bytes (pydicom refuses to write such values)."""
    path.write_bytes(path.read_bytes().replace(b"7.25E3", b"abc   ").replace(b"+7250", b"x    "))
    return path


@pytest.mark.parametrize("attrs, fps", [
    ({"FrameTime": 40, "PixelSpacing": ["0.1"]}, 25.0),  # one value where two belong
    ({"FrameTime": 40, "PixelSpacing": ["7.25E3", "0.1"]}, 25.0),
    ({"FrameTimeVector": ["0", "7.25E3", "40"]}, 30.0),
    ({"FrameTime": "7.25E3", "CineRate": 12}, 12.0),
    ({"CineRate": "+7250", "RecommendedDisplayFrameRate": 15}, 15.0),
    ({"RecommendedDisplayFrameRate": "+7250"}, 30.0),
], ids=["spacing-one-value", "spacing-text", "frame-time-vector-text", "frame-time-text", "cine-rate-text",
        "display-rate-text"])
def test_unreadable_optional_attributes_fall_back_as_if_missing(tmp_path, attrs, fps):
    px = np.arange(3 * 4 * 5, dtype=np.uint8).reshape(3, 4, 5)
    clip = read_clip(_spoil(_mono(tmp_path, px, **attrs)))
    np.testing.assert_array_equal(clip.frames, px)
    assert clip.fps == pytest.approx(fps) and clip.spacing is None


def test_unreadable_window_falls_back_to_min_max(tmp_path):
    px = np.array([[[1000, 3000], [5000, 5000]]], np.uint16)
    clip = read_clip(_spoil(_mono(tmp_path, px, WindowCenter="7.25E3", WindowWidth=2000)))
    np.testing.assert_array_equal(clip.frames, [[[0, 128], [255, 255]]])


@pytest.mark.parametrize("name", ["JPEG-lossy.dcm", "JPEG2000-embedded-sequence-delimiter.dcm", "SC_rgb_rle_2frame.dcm"])
def test_decoder_failures_read_as_one_line_with_each_decoders_reason(pydicom_file, tmp_path, name):
    path = pydicom_file(name)
    if name == "SC_rgb_rle_2frame.dcm":  # damaged: 200 bytes in the middle of its pixel data flipped
        data = bytearray(path.read_bytes())
        mid = len(data) // 2
        data[mid:mid + 200] = bytes(b ^ 0x5A for b in data[mid:mid + 200])
        path = tmp_path / name
        path.write_bytes(data)
    with pytest.raises(UnreadableInput) as err:
        read_clip(path)
    message = str(err.value)
    assert "\n" not in message and "  " not in message
    assert "cannot decode pixel data" in message and "pylibjpeg: " in message


@pytest.mark.parametrize("name, keep", [("examples_ybr_color.dcm", 0.5), ("SC_rgb_rle_2frame.dcm", 0.9),
                                        ("JPEGLSNearLossless_16.dcm", 0.5)])
def test_cut_compressed_dicom_says_truncated(pydicom_file, tmp_path, name, keep):
    """Cut inside the encapsulated pixel data (the first two) or inside a header element (the last)."""
    data = pydicom_file(name).read_bytes()
    (tmp_path / name).write_bytes(data[: int(len(data) * keep)])
    with pytest.raises(UnreadableInput, match="truncated: the file ends inside"):
        read_clip(tmp_path / name)


def test_dicom_without_pixel_data_is_not_called_truncated():
    from pathlib import Path

    with pytest.raises(UnreadableInput, match="no pixel data"):
        read_clip(Path(__file__).resolve().parent / "bad_inputs" / "dicom_no_pixel_data.dcm")
