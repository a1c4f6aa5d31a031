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
    from sonosynth.methods.translate.pipeline import translate  # the same fill as the Python API's, to the bit

    want = translate(src, holes=mask, weights=files / "tiny.safetensors").frames
    np.testing.assert_array_equal(res.frames, want)
    assert (res.frames[mask] != src.grey()[mask]).mean() > 0.5


@pytest.mark.parametrize("source", ["cfd.mkv", "cfd.npz"])  # streamed, and read whole
def test_crf_sets_the_mp4_quality_of_what_is_kept(files, tmp_path, source):
    """Pixels outside the colour are the input's, but an .mp4 re-encodes them: --crf 0 keeps them all but exactly
    (BT.601 rounding), the default 23 loses more of the speckle."""
    src = files / source
    if not src.exists():
        write_clip(read_clip(files / "cfd.npz"), src)
    kept = ~(read_clip(files / "mask.npz").frames > 127)
    errors = {}
    for crf in ("0", "23"):
        out = tmp_path / f"crf{crf}.mp4"
        r = run("translate", str(src), "-o", str(out), "--weights", str(files / "tiny.safetensors"), "--crf", crf)
        assert r.returncode == 0, r.stderr
        errors[crf] = np.abs(read_clip(out).grey().astype(int) - read_clip(src).grey())[kept].mean()
    assert errors["0"] < 1.0 < errors["23"]


def test_a_clip_that_is_mostly_colour_is_translated_with_a_warning(files, tmp_path):
    red = np.zeros((2, 40, 48, 3), np.uint8)
    red[:] = 220, 20, 20  # flow colour everywhere
    write_clip(Clip(red, fps=10.0), tmp_path / "red.npz")
    r = run("translate", str(tmp_path / "red.npz"), "-o", str(tmp_path / "out.npz"), "--weights", str(files / "tiny.safetensors"))
    assert r.returncode == 0 and (tmp_path / "out.npz").exists()
    assert r.stderr.startswith("warning: ") and "% of the picture was colour" in r.stderr
    r = run("translate", str(files / "cfd.npz"), "-o", str(tmp_path / "ok.npz"), "--weights", str(files / "tiny.safetensors"))
    assert r.returncode == 0 and "warning" not in r.stderr


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


def user_weights(files, tmp_path, card=None, poison=False) -> str:
    """A copy of the tiny test weights, with its card replaced and/or one tensor set to NaN."""
    from safetensors.torch import load_file, save_file

    state = load_file(str(files / "tiny.safetensors"))
    if poison:
        name = next(iter(state))
        state[name] = torch.full_like(state[name], float("nan"))
    save_file(state, str(tmp_path / "user.safetensors"))
    (tmp_path / "user.json").write_text(card if card is not None else (files / "tiny.json").read_text())
    return str(tmp_path / "user.safetensors")


@pytest.mark.parametrize("case", ["missing weights", "weights a folder", "weights the current folder", "junk weights", "weights with NaN", "card not a mapping",
                                  "config too wide to build", "config of other networks", "mask of other size",
                                  "output exists", "bad input", "unknown device", "no such CUDA device", "batch 0",
                                  "format not writable", "png for a clip", "unknown precision"])
def test_translate_refusals_are_one_line_exit_2_and_write_nothing(files, tmp_path, case):
    import json

    out = tmp_path / "out.npz"
    args = ["translate", str(files / "cfd.npz"), "-o", str(out), "--weights", str(files / "tiny.safetensors")]
    card = json.loads((files / "tiny.json").read_text())
    expect = None
    if case == "missing weights":
        args[-1], expect = str(tmp_path / "nope.safetensors"), "does not exist"
    elif case in ("weights a folder", "weights the current folder"):  # "." was an internal error
        args[-1], expect = str(tmp_path) if case == "weights a folder" else ".", "is a folder"
    elif case == "junk weights":
        (tmp_path / "junk.safetensors").write_bytes(b"\x00" * 64)
        (tmp_path / "junk.json").write_text((files / "tiny.json").read_text())
        args[-1], expect = str(tmp_path / "junk.safetensors"), "cannot read weights"
    elif case == "weights with NaN":  # what a diverged run exports: it turned every rebuilt pixel black
        args[-1], expect = user_weights(files, tmp_path, poison=True), "NaN"
    elif case == "card not a mapping":
        args[-1], expect = user_weights(files, tmp_path, json.dumps({**card, "card": "x"})), "expected a mapping"
    elif case == "config too wide to build":
        card["config"]["width"] = 10**12
        args[-1], expect = user_weights(files, tmp_path, json.dumps(card)), "cannot be built"
    elif case == "config of other networks":
        card["config"]["width"] = 8
        args[-1], expect = user_weights(files, tmp_path, json.dumps(card)), "size mismatch"
    elif case in ("format not writable", "png for a clip"):  # refused before the weights are even looked at
        out = tmp_path / ("out.avi" if case == "format not writable" else "out.png")
        args[3], args[-1] = str(out), str(tmp_path / "nope.safetensors")
        expect = "cannot write .avi" if case == "format not writable" else "holds one frame"
    elif case == "mask of other size":
        write_clip(Clip(np.zeros((3, 8, 8), np.uint8)), tmp_path / "m.npz")
        args += ["--mask", str(tmp_path / "m.npz")]
        expect = "clip has (12, 48, 56)"
    elif case == "output exists":
        out.write_bytes(b"mine")
        expect = "pass --overwrite"
    elif case == "unknown device":
        args += ["--device", "tpu"]
        expect = "--device must be"
    elif case == "no such CUDA device":
        args += ["--device", "cuda:99"]
        expect = "CUDA device"
    elif case == "batch 0":
        args += ["--batch", "0"]
        expect = "--batch must be a whole number of at least 1"
    elif case == "unknown precision":
        args += ["--precision", "fp16"]
        expect = "--precision must be one of float32, bfloat16"
    else:
        (tmp_path / "bad.mp4").write_bytes(b"not a video at all")
        args[1], expect = str(tmp_path / "bad.mp4"), "not a readable video"
    r = run(*args)
    assert r.returncode == 2, r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and "Traceback" not in r.stderr and expect in r.stderr
    if case == "output exists":
        assert out.read_bytes() == b"mine"
    else:
        assert not out.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out.")]  # no temporary left behind


@pytest.mark.parametrize("shape", [(3, 40, 700), (2, 11, 40), (3, 7, 7)])
def test_thin_and_tiny_clips_translate(files, tmp_path, shape):
    """A thin colour band in a wide frame gives a network crop scaled to 14 x 256 px, on which OpenCV's
    optical flow crashed the process (segmentation fault); a frame under 12 px made it raise."""
    rng = np.random.default_rng(0)
    rgb = np.repeat(rng.integers(20, 120, shape, dtype=np.uint8)[..., None], 3, axis=-1)
    T, H, W = shape
    rows = slice(H // 2 - 1, H // 2 + 2)
    rgb[:, rows, W // 20: W - W // 20] = (200, 30, 30)
    rgb[1:, rows, W // 20: W // 2] = (30, 40, 220)  # the colour pulses, so some pixels are seen in other frames
    coloured = rgb.max(axis=-1) != rgb.min(axis=-1)
    write_clip(Clip(rgb, fps=10.0), tmp_path / "band.npz")
    write_clip(Clip(coloured.astype(np.uint8) * 255, fps=10.0), tmp_path / "mask.npz")
    r = run("translate", str(tmp_path / "band.npz"), "-o", str(tmp_path / "grey.npz"),
            "--weights", str(files / "tiny.safetensors"), "--mask", str(tmp_path / "mask.npz"))
    assert r.returncode == 0, r.stderr
    out = read_clip(tmp_path / "grey.npz").frames
    assert out.shape == shape
    np.testing.assert_array_equal(out[~coloured], rgb[..., 0][~coloured])
    assert not np.array_equal(out[coloured], rgb[..., 0][coloured])  # the colour was rebuilt, not greyed


def test_a_translation_stopped_by_sigterm_exits_130_and_leaves_no_temporary(files, tmp_path):
    """SIGTERM used to end the process where it stood, leaving the hidden partial output behind."""
    import signal
    import time

    cfd = read_clip(files / "cfd.npz").frames
    src, out = tmp_path / "long.mkv", tmp_path / "out" / "grey.mp4"
    write_clip(Clip(np.concatenate([cfd] * 50), fps=20.0), src)  # 600 frames, streamed
    out.parent.mkdir()
    proc = subprocess.Popen([EXE, "--quiet", "translate", str(src), "-o", str(out), "--weights", str(files / "tiny.safetensors")],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 60
    while not any(out.parent.iterdir()) and time.time() < deadline and proc.poll() is None:
        time.sleep(0.05)
    assert proc.poll() is None and any(p.name.endswith(".part.mp4") for p in out.parent.iterdir())
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130 and err.strip() == "sonosynth: interrupted", err
    assert list(out.parent.iterdir()) == []
