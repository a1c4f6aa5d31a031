"""`sonosynth info` and `sonosynth convert` on real data: frames and size agree with each file's own header."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pydicom
import pytest
from PIL import Image

from sonosynth.cli import main
from sonosynth.io import read_clip

PYDICOM_EXAMPLES = {  # name: (frames, height, width, colour)
    "examples_ybr_color.dcm": (30, 240, 320, "colour"),
    "examples_jpeg2k.dcm": (1, 480, 640, "colour"),
    "examples_palette.dcm": (1, 350, 800, "colour"),
    "examples_rgb_color.dcm": (1, 240, 320, "colour"),
}


def _info(capsys, path: Path, *extra: str) -> dict:
    with pytest.raises(SystemExit) as exc:
        main(["--quiet", "info", "--json", *extra, str(path)])
    out = capsys.readouterr()
    assert exc.value.code == 0, out.err
    return json.loads(out.out)


def expected_from_header(path: Path) -> tuple[int, int, int] | None:
    """(frames, height, width) from an independent reader of the file's own header."""
    suffix = path.suffix.lower()
    if suffix == ".dcm":
        ds = pydicom.dcmread(path, stop_before_pixels=True)
        return int(ds.get("NumberOfFrames", 1) or 1), int(ds.Rows), int(ds.Columns)
    if suffix in (".png", ".jpg"):
        with Image.open(path) as im:
            return 1, im.height, im.width
    if suffix in (".mha", ".mhd"):
        import SimpleITK as sitk

        reader = sitk.ImageFileReader()
        reader.SetFileName(str(path))
        reader.ReadImageInformation()
        w, h, t = reader.GetSize()
        return t, h, w
    return None


@pytest.mark.parametrize("name", sorted(PYDICOM_EXAMPLES))
def test_info_on_pydicom_ultrasound_examples(capsys, pydicom_file, name):
    info = _info(capsys, pydicom_file(name), "--no-doppler")
    frames, h, w, colour = PYDICOM_EXAMPLES[name]
    assert (info["frames"], info["height"], info["width"], info["colour"]) == (frames, h, w, colour)
    assert (info["frames"], info["height"], info["width"]) == expected_from_header(pydicom_file(name))
    assert info["format"] == "dicom" and info["Modality"] == "US"


def test_info_on_real_data_sample(capsys, shared_data):
    path = shared_data / "nerve" / "images" / "0007.png"  # the every-file test takes every 10th nerve image
    info = _info(capsys, path, "--no-doppler")
    assert (info["frames"], info["height"], info["width"]) == expected_from_header(path) == (1, 512, 512)
    info = _info(capsys, shared_data / "lung" / "linear_Vir_prospective_file1.mp4", "--no-doppler")
    assert (info["frames"], info["height"], info["width"], info["fps"], info["colour"]) == (151, 278, 278, 25.0, "greyscale")


def test_info_doppler_fraction(capsys, shared_data):
    pytest.importorskip("sonosynth.preprocess.doppler")
    power = _info(capsys, shared_data / "doppler" / "US1_UNCR.dcm")["doppler_fraction"]
    grey = _info(capsys, shared_data / "doppler" / "201501061011050145VAS.png")["doppler_fraction"]
    assert power is not None and 0.01 < power < 0.5  # a lymph node with power-Doppler flow
    assert grey is not None and grey < 0.005  # carotid B-mode screenshot: no flow colour


def test_info_text_in_a_real_process(pydicom_file):
    exe = Path(sys.executable).parent / "sonosynth"
    r = subprocess.run([str(exe), "info", "--no-doppler", str(pydicom_file("examples_ybr_color.dcm"))],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert "frames     30" in r.stdout and "240x320 (HxW)" in r.stdout and "fps        30" in r.stdout


def test_convert_lossless_keeps_every_pixel(capsys, tmp_path, shared_data):
    src = shared_data / "lung" / "linear_Reg_Image_18122_crop.mp4"
    out = tmp_path / "clip.mkv"
    with pytest.raises(SystemExit) as exc:
        main(["--quiet", "convert", str(src), str(out)])
    assert exc.value.code == 0, capsys.readouterr().err
    a, b = read_clip(src), read_clip(out)
    np.testing.assert_array_equal(a.frames, b.frames)
    assert b.fps == pytest.approx(a.fps, rel=1e-3)


def test_convert_says_the_size_it_wrote_and_info_reads_it_back(capsys, tmp_path):
    """An odd-sized clip gains a row and a column in an .mp4; the message said the input's size."""
    from sonosynth.clip import Clip
    from sonosynth.io import write_clip

    write_clip(Clip(np.zeros((2, 239, 321), np.uint8), fps=10), tmp_path / "odd.npz")
    with pytest.raises(SystemExit) as exc:
        main(["--quiet", "convert", str(tmp_path / "odd.npz"), str(tmp_path / "odd.mp4")])
    assert exc.value.code == 0 and "2 frames, 240x322 (HxW; 239x321 padded" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        main(["info", str(tmp_path / "odd.mp4")])
    assert "240x322 (HxW)" in capsys.readouterr().out


def test_info_on_every_shared_data_file(capsys, shared_data):
    """Every clip beside the project (nerve images: every 10th) gives the frames and size its header declares."""
    paths = [p for p in sorted(shared_data.rglob("*")) if p.suffix.lower() in (".dcm", ".png", ".jpg", ".mha", ".mhd")]
    paths = [p for p in paths if "nerve" not in p.parts or int(p.stem) % 10 == 0]
    for path in paths:
        info = _info(capsys, path, "--no-doppler")
        assert (info["frames"], info["height"], info["width"]) == expected_from_header(path), path
