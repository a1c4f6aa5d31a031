"""`sonosynth overlay` and `sonosynth mask` end to end on pydicom's real cardiac cine."""
import subprocess
import sys

import numpy as np
import pytest

from sonosynth.io import read_clip
from sonosynth.preprocess.doppler import doppler_mask


def _run(*args):
    return subprocess.run([sys.executable, "-m", "sonosynth.cli", *map(str, args)], capture_output=True, text=True)


def test_overlay_then_mask_npz_equals_doppler_mask(tmp_path, pydicom_file):
    src = pydicom_file("examples_ybr_color.dcm")
    painted, truth, out = tmp_path / "p.mkv", tmp_path / "t.npz", tmp_path / "m.npz"
    r = _run("-q", "overlay", src, "-o", painted, "--seed", 5, "--truth-mask", truth)
    assert r.returncode == 0, r.stderr
    r = _run("-q", "mask", painted, "-o", out, "--preview", tmp_path / "prev.png")
    assert r.returncode == 0, r.stderr
    got = np.load(out)["frames"]
    expected = doppler_mask(read_clip(painted)).astype(np.uint8) * 255
    assert got.shape == expected.shape == (30, 240, 320)
    assert np.array_equal(got, expected)
    t = np.load(truth)["frames"] > 0
    iou = ((got > 0) & t).sum() / ((got > 0) | t).sum()
    assert iou > 0.8
    assert (tmp_path / "prev.png").stat().st_size > 0
    r = _run("-q", "mask", painted, "-o", out)  # exists, no --overwrite
    assert r.returncode == 2 and "exists" in r.stderr and "Traceback" not in r.stderr


@pytest.mark.parametrize("content", [b"", b"not a clip at all"])
def test_bad_input_exit_2_no_output(tmp_path, content):
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(content)
    out = tmp_path / "m.npz"
    r = _run("mask", bad, "-o", out)
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "Traceback" not in r.stderr
    assert not out.exists()
    r = _run("overlay", bad, "-o", tmp_path / "o.mkv", "--seed", 1)
    assert r.returncode == 2 and not (tmp_path / "o.mkv").exists()


def test_a_painted_dicom_says_how_it_was_painted(tmp_path, pydicom_file):
    """The overlay's own description reaches the DICOM's DerivationDescription (it read "format conversion")."""
    import pydicom

    out = tmp_path / "p.dcm"
    r = _run("-q", "overlay", pydicom_file("examples_ybr_color.dcm"), "-o", out, "--seed", 3)
    assert r.returncode == 0, r.stderr
    description = pydicom.dcmread(out).DerivationDescription
    assert "SYNTHETIC" in description and "colour-Doppler overlay" in description and "seed 3" in description


def test_overlay_draws_the_box_shape_asked_for_and_refuses_an_unknown_one(tmp_path, pydicom_file):
    """`--box-shape annulus` paints a fan's box with arcs top and bottom, whose outline the mask finds whole;
    an unknown shape is one line and exit 2, with nothing written."""
    src = pydicom_file("examples_ybr_color.dcm")
    painted, truth = tmp_path / "p.mkv", tmp_path / "t.npz"
    r = _run("-q", "overlay", src, "-o", painted, "--seed", 5, "--box-shape", "annulus", "--truth-mask", truth)
    assert r.returncode == 0, r.stderr
    t = np.load(truth)["frames"] > 0
    found = doppler_mask(read_clip(painted))
    assert (t & ~found).sum() <= 0.01 * t.sum()
    r = _run("overlay", src, "-o", tmp_path / "o.mkv", "--seed", 5, "--box-shape", "oval")
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "oval" in r.stderr
    assert not (tmp_path / "o.mkv").exists()


@pytest.mark.parametrize("command", ["overlay", "mask"])
def test_the_same_file_for_two_outputs_is_refused_before_anything_is_written(tmp_path, pydicom_file, command):
    src, out = pydicom_file("examples_ybr_color.dcm"), tmp_path / "same.npz"
    second = ["--seed", 1, "--truth-mask", out] if command == "overlay" else ["--preview", tmp_path / "." / "same.npz"]
    r = _run("-q", command, src, "-o", out, *second)
    assert r.returncode == 2 and "same file" in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert not out.exists()


@pytest.mark.parametrize("command", ["overlay", "mask"])
def test_a_png_output_for_a_clip_is_refused_before_anything_is_written(tmp_path, pydicom_file, command):
    """A .png holds one frame; the first output used to land before the second was refused."""
    src, out, second = pydicom_file("examples_ybr_color.dcm"), tmp_path / "first.npz", tmp_path / "second.png"
    extra = ["--seed", 1, "--truth-mask", second] if command == "overlay" else []
    r = _run("-q", command, src, "-o", second if command == "mask" else out, *extra)
    assert r.returncode == 2 and "holds one frame" in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert not out.exists() and not second.exists() and list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("argv", [
    ["mask", "{src}", "-o", "{src}"],
    ["mask", "{src}", "-o", "{dir}/m.npz", "--preview", "{link}"],
    ["overlay", "{src}", "-o", "{dir}/o.mkv", "--seed", 1, "--truth-mask", "{src}"],
    ["overlay", "{link}", "-o", "{src}", "--seed", 1],
    ["convert", "{src}", "{dir}/./in.mkv"],
])
def test_no_command_writes_over_its_own_input_even_with_overwrite(tmp_path, argv):
    """--overwrite replaces earlier outputs, never the clip handed in (by its own name, another spelling or a link)."""
    src, link = tmp_path / "in.mkv", tmp_path / "link.mkv"
    frames = np.random.default_rng(0).integers(0, 255, (3, 32, 48, 3), dtype=np.uint8)
    from sonosynth.clip import Clip
    from sonosynth.io import write_clip

    write_clip(Clip(frames, fps=10.0), src)
    link.symlink_to(src)
    before = src.read_bytes()
    r = _run("-q", *[str(a).format(src=src, dir=tmp_path, link=link) for a in argv], "--overwrite")
    assert r.returncode == 2 and "is the input" in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert src.read_bytes() == before and sorted(p.name for p in tmp_path.iterdir()) == ["in.mkv", "link.mkv"]
