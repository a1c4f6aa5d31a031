"""`sonosynth translate` and `sonosynth train export` as a user runs them: real files, real process."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from sonosynth.clip import Clip
from sonosynth.io import read_clip, write_clip
from sonosynth.methods.translate.config import TranslateConfig
from sonosynth.methods.translate.model import Generator
from sonosynth.methods.translate.weights import save_weights
from sonosynth.synth.overlay import paint_cfd

EXE = str(Path(sys.executable).parent / "sonosynth")


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([EXE, "--quiet", *args], capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("cli")
    cfg = TranslateConfig.tiny()
    torch.manual_seed(0)
    save_weights(Generator(cfg).state_dict(), cfg, d / "tiny.safetensors")
    rng = np.random.default_rng(2)
    base = rng.gamma(2.0, 35.0, (48, 56)).clip(0, 255)
    base[14:34, 10:40] *= 0.2
    grey = np.stack([np.roll(base, t % 4, axis=1) for t in range(12)]).astype(np.uint8)
    cfd, mask, _ = paint_cfd(grey, seed=1, fps=20.0)
    write_clip(Clip(cfd, fps=20.0), d / "cfd.npz")
    write_clip(Clip(mask.astype(np.uint8) * 255, fps=20.0), d / "mask.npz")
    return d


def test_translate_npz_with_given_mask_changes_only_masked_pixels(files, tmp_path):
    out = tmp_path / "grey.npz"
    r = run("translate", str(files / "cfd.npz"), "-o", str(out), "--weights", str(files / "tiny.safetensors"),
            "--mask", str(files / "mask.npz"))
    assert r.returncode == 0, r.stderr
    src, res, mask = read_clip(files / "cfd.npz"), read_clip(out), read_clip(files / "mask.npz").frames > 127
    assert res.frames.shape == src.frames.shape[:3] and res.fps == 20.0
    np.testing.assert_array_equal(res.frames[~mask], src.grey()[~mask])


def test_a_still_gets_speckle_unless_asked_not_to(files, tmp_path):
    from sonosynth.methods.translate.pipeline import translate

    cfd = read_clip(files / "cfd.npz").frames[:1]
    mask = read_clip(files / "mask.npz").frames[:1] > 127
    still = tmp_path / "still.npz"
    write_clip(Clip(cfd, fps=20.0), still)
    outs = {}
    for flag in ("--speckle", "--no-speckle"):
        outs[flag] = tmp_path / f"out{flag}.npz"
        r = run("translate", str(still), "-o", str(outs[flag]), "--weights", str(files / "tiny.safetensors"), flag)
        assert r.returncode == 0, r.stderr
    clip = Clip(cfd, fps=20.0)
    for flag, speckle in (("--speckle", True), ("--no-speckle", False)):
        want = translate(clip, weights=files / "tiny.safetensors", speckle=speckle).frames
        np.testing.assert_array_equal(read_clip(outs[flag]).frames, want)
    assert not np.array_equal(read_clip(outs["--speckle"]).frames[mask], read_clip(outs["--no-speckle"]).frames[mask])


def test_translate_to_dicom_is_marked_synthetic(files, tmp_path):
    pydicom = pytest.importorskip("pydicom")
    out = tmp_path / "grey.dcm"
    r = run("translate", str(files / "cfd.npz"), "-o", str(out), "--weights", str(files / "tiny.safetensors"))
    assert r.returncode == 0, r.stderr
    ds = pydicom.dcmread(out)
    assert "DERIVED" in ds.ImageType and "synthetic" in str(ds.get("DerivationDescription", "")).lower()
    assert int(ds.NumberOfFrames) == 12


@pytest.mark.parametrize("case", ["missing weights", "junk weights", "mask of other size", "output exists", "bad input",
                                  "unknown device", "no such CUDA device", "batch 0"])
def test_translate_refusals_are_one_line_exit_2_and_write_nothing(files, tmp_path, case):
    out = tmp_path / "out.npz"
    args = ["translate", str(files / "cfd.npz"), "-o", str(out), "--weights", str(files / "tiny.safetensors")]
    if case == "missing weights":
        args[-1] = str(tmp_path / "nope.safetensors")
    elif case == "junk weights":
        (tmp_path / "junk.safetensors").write_bytes(b"\x00" * 64)
        (tmp_path / "junk.json").write_text((files / "tiny.json").read_text())
        args[-1] = str(tmp_path / "junk.safetensors")
    elif case == "mask of other size":
        write_clip(Clip(np.zeros((3, 8, 8), np.uint8)), tmp_path / "m.npz")
        args += ["--mask", str(tmp_path / "m.npz")]
    elif case == "output exists":
        out.write_bytes(b"mine")
    elif case == "unknown device":
        args += ["--device", "tpu"]
    elif case == "no such CUDA device":
        args += ["--device", "cuda:99"]
    elif case == "batch 0":
        args += ["--batch", "0"]
    else:
        (tmp_path / "bad.mp4").write_bytes(b"not a video at all")
        args[1] = str(tmp_path / "bad.mp4")
    r = run(*args)
    assert r.returncode == 2, r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and "Traceback" not in r.stderr
    if case == "output exists":
        assert out.read_bytes() == b"mine"
    else:
        assert not out.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out.npz")]  # no temporary left behind
