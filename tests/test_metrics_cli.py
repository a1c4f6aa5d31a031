"""`sonosynth evaluate` end to end on real lung frames, and its refusals."""
from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from sonosynth.metrics import corrupt


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "sonosynth.cli", *map(str, args)], capture_output=True, text=True, env={"OMP_NUM_THREADS": "1", "PATH": "/usr/bin:/bin"})


@pytest.fixture(scope="module")
def sets(shared_data, tmp_path_factory):
    from sonosynth.metrics.clips import read_grey

    root = tmp_path_factory.mktemp("ev")
    (root / "real").mkdir()
    (root / "fake").mkdir()
    for name in ("convex_Reg_pat4Image_140705.mpeg", "convex_Cov_convex_volpecelli_sonographic_v5.mov"):
        a = read_grey(shared_data / "lung" / name)[:16, :200, :200]
        stem = name.split(".")[0]
        np.savez(root / "real" / f"{stem}.npz", frames=a, fps=30.0)
        np.savez(root / "fake" / f"{stem}.npz", frames=corrupt.noise(a, 0.2, 0), fps=30.0)
    mask = np.zeros((200, 200), bool)
    mask[50:120, 60:150] = True
    np.savez(root / "mask.npz", mask=mask)
    return root


def test_evaluate_writes_report_with_protocol_and_warnings(sets):
    out = sets / "report"
    r = _cli("--quiet", "evaluate", "--real", sets / "real", "--fake", sets / "fake", "--pairs", "--mask", sets / "mask.npz",
             "--metrics", "ssim,psnr,mae,flicker,lpips,fid,kid,fvd", "--frames-per-clip", "2", "--windows-per-clip", "1", "-o", out)
    assert r.returncode == 0, r.stderr
    m = json.loads((out / "metrics.json").read_text())
    s = m["paired"]["summary"]
    assert s["ssim_mask"]["n"] == 2
    # the report's paired scores are the library's, clip by clip, and the summary is their mean
    from sonosynth.metrics import paired

    mask = np.load(sets / "mask.npz")["mask"]
    for clip in m["paired"]["per_clip"]:
        real, fake = (np.load(sets / side / f"{clip['clip'].split('.')[0]}.npz")["frames"] for side in ("real", "fake"))
        assert clip["ssim"] == pytest.approx(paired.ssim(real, fake), abs=1e-6)
        assert clip["ssim_mask"] == pytest.approx(paired.ssim(real, fake, mask), abs=1e-6)
        assert clip["psnr"] == pytest.approx(paired.psnr(real, fake), abs=1e-6)
        assert clip["mae_bbox"] == pytest.approx(paired.mae(real, fake, mask, region="bbox"), abs=1e-6)
    for k in ("ssim", "ssim_mask", "psnr", "mae"):
        assert s[k]["mean"] == pytest.approx(np.mean([c[k] for c in m["paired"]["per_clip"]]), abs=1e-6)
    assert 0.2 < s["ssim"]["mean"] < 0.95 and s["mae"]["mean"] > 1  # noise of strength 0.2 on real tissue
    assert m["distribution"]["fid"] > 0 and m["distribution"]["fvd"] > 0
    assert m["protocol"]["fvd"]["n_real"] == 2 and len(m["protocol"]["fvd"]["weights_sha256"]) == 64
    assert "224" in m["protocol"]["fvd"]["input"] and "299" in m["protocol"]["fid"]["input"]
    assert m["perceptual"]["available"] is False
    assert any("FVD from 2 windows" in w for w in m["warnings"])
    page = (out / "index.html").read_text()
    assert "data:image/png;base64," in page and "Not computed" in page and "weights_sha256" in page
    # a second run refuses to overwrite the report
    r = _cli("evaluate", "--real", sets / "real", "--fake", sets / "fake", "--metrics", "ssim", "--pairs", "-o", out)
    assert r.returncode == 2 and "already holds a metrics report" in r.stderr and "Traceback" not in r.stderr
    # nor, even with --overwrite, a folder of the user's own files, such as the inputs themselves
    before = sorted(p.name for p in (sets / "real").iterdir())
    r = _cli("evaluate", "--real", sets / "real", "--fake", sets / "fake", "--metrics", "ssim", "--pairs",
             "-o", sets / "real", "--overwrite")
    assert r.returncode == 2 and "not part of a metrics report" in r.stderr
    assert sorted(p.name for p in (sets / "real").iterdir()) == before


@pytest.mark.parametrize(
    "extra,msg",
    [
        (["--metrics", "ssim,bogus"], "unknown metric"),
        (["--mask", "MASK"], "add --pairs"),
        (["--device", "tpu"], "--device"),
        (["--metrics", "ssim,psnr"], "clip by clip: add --pairs"),
    ],
)
def test_evaluate_refusals_are_one_line(sets, extra, msg):
    extra = [str(sets / "mask.npz") if e == "MASK" else e for e in extra]
    r = _cli("evaluate", "--real", sets / "real", "--fake", sets / "fake", "-o", sets / "never", *extra)
    assert r.returncode == 2 and msg in r.stderr and len(r.stderr.strip().splitlines()) == 1
    assert not (sets / "never").exists()


def test_evaluate_empty_folder_and_help(sets, tmp_path):
    r = _cli("evaluate", "--real", tmp_path, "--fake", sets / "fake", "-o", tmp_path / "r")
    assert r.returncode == 2 and "no clips" in r.stderr
    r = _cli("evaluate-downstream", "classify", "--help")
    assert r.returncode == 0 and "--synthetic" in r.stdout


# Inputs made here (no shared data): a short clip pair, and the masks and weights files evaluate is given.
# Run in this process (the CLI's own main, exit code and stderr) to skip the interpreter start-up per case.

@pytest.fixture
def cli(capsys):
    from types import SimpleNamespace

    from sonosynth.cli import main

    def run(*args):
        with pytest.raises(SystemExit) as done:
            main([str(a) for a in args])
        captured = capsys.readouterr()
        return SimpleNamespace(returncode=done.value.code, stdout=captured.out, stderr=captured.err)

    return run


def _grey(shape, seed):
    return np.random.default_rng(seed).integers(0, 255, shape, dtype=np.uint8)


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    """A 3-frame 40x48 real/fake pair as .npz clips, alike only in their right half (so a mask changes the scores)."""
    root = tmp_path_factory.mktemp("pair")
    real, fake = _grey((3, 40, 48), 0), _grey((3, 40, 48), 1)
    fake[:, :, 24:] = real[:, :, 24:]
    np.savez(root / "real.npz", frames=real, fps=10.0)
    np.savez(root / "fake.npz", frames=fake, fps=10.0)
    return root


def _evaluate(run, folder, out, *extra):
    """`evaluate --pairs` of folder/real.npz and folder/fake.npz, through `run` (in this process, or `_cli`)."""
    return run("--quiet", "evaluate", "--real", folder / "real.npz", "--fake", folder / "fake.npz", "--pairs", "-o", out, *extra)


def _assert_one_line_refusal(r, out, *words):
    assert r.returncode == 2, r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and "Traceback" not in r.stderr
    assert all(w in r.stderr for w in words), r.stderr
    assert not out.exists()


def _zero_bytes(p):
    p.write_bytes(b"")


def _truncated_npz(p):
    np.savez(p, mask=np.ones((40, 48), bool))
    p.write_bytes(p.read_bytes()[:100])


def _npy_named_npz(p):
    with open(p, "wb") as fh:
        np.save(fh, np.ones((40, 48), bool))


def _object_array_npz(p):
    np.savez(p, mask=np.array([None, 1], dtype=object))


@pytest.mark.parametrize("make", [_zero_bytes, _truncated_npz, _npy_named_npz, _object_array_npz])
def test_evaluate_refuses_a_broken_mask_file_in_one_line(cli, pair, tmp_path, make):
    mask = tmp_path / "mask.npz"
    make(mask)
    _assert_one_line_refusal(_evaluate(cli, pair, tmp_path / "report", "--mask", mask, "--metrics", "ssim"), tmp_path / "report", "mask.npz")


def _masked_ssim(out) -> float:
    return json.loads((out / "metrics.json").read_text())["paired"]["summary"]["ssim_mask"]["mean"]


def test_evaluate_reads_the_masks_sonosynth_writes_and_translate_reads(cli, pair, tmp_path):
    from sonosynth.io import read_clip
    from sonosynth.metrics.paired import ssim

    painted, truth, detected = tmp_path / "painted.npz", tmp_path / "truth.npz", tmp_path / "detected.npz"
    assert cli("overlay", pair / "real.npz", "-o", painted, "--seed", "3", "--truth-mask", truth).returncode == 0
    assert cli("mask", painted, "-o", detected).returncode == 0
    real, fake = (read_clip(pair / f"{side}.npz").frames for side in ("real", "fake"))
    for mask in (truth, detected):
        out = tmp_path / f"report_{mask.stem}"
        r = _evaluate(cli, pair, out, "--mask", mask, "--metrics", "ssim")
        assert r.returncode == 0, r.stderr
        want = ssim(real, fake, read_clip(mask).frames >= 128)  # as `translate --mask` reads it
        assert _masked_ssim(out) == pytest.approx(want)


def test_evaluate_still_reads_npz_mask_arrays_and_label_pngs(cli, pair, tmp_path):
    from PIL import Image

    from sonosynth.io import read_clip
    from sonosynth.metrics.paired import ssim

    region = np.zeros((40, 48), bool)
    region[10:30, 5:20] = True
    np.savez(tmp_path / "legacy.npz", mask=region)
    Image.fromarray(region.astype(np.uint8)).save(tmp_path / "labels.png")  # 0/1: any non-zero pixel counts
    real, fake = (read_clip(pair / f"{side}.npz").frames for side in ("real", "fake"))
    for name in ("legacy.npz", "labels.png"):
        out = tmp_path / f"report_{name}"
        r = _evaluate(cli, pair, out, "--mask", tmp_path / name, "--metrics", "ssim")
        assert r.returncode == 0, r.stderr
        assert _masked_ssim(out) == pytest.approx(ssim(real, fake, region))


def _truncated_safetensors(p):
    import torch
    from safetensors.torch import save_file

    save_file({"w": torch.zeros(64)}, str(p))
    p.write_bytes(p.read_bytes()[:40])


@pytest.mark.parametrize("option", ["--domain-weights", "--perceptual-weights"])
@pytest.mark.parametrize("make", [None, _zero_bytes, _truncated_safetensors])
def test_evaluate_refuses_a_named_weights_file_that_is_missing_or_broken(cli, pair, tmp_path, option, make):
    weights = tmp_path / "w.safetensors"
    if make:
        make(weights)
    r = _evaluate(cli, pair, tmp_path / "report", option, weights, "--metrics", "ssim,lpips,domain")
    _assert_one_line_refusal(r, tmp_path / "report", "w.safetensors")


def test_evaluate_notes_lpips_without_weights_on_stderr(cli, pair, tmp_path):
    r = _evaluate(cli, pair, tmp_path / "report", "--metrics", "ssim,lpips")
    assert r.returncode == 0 and "LPIPS not computed: no perceptual weights file given" in r.stderr


def test_evaluate_one_still_pair_keeps_paired_scores_and_notes_the_distribution_metrics(cli, tmp_path):
    np.savez(tmp_path / "real.npz", frames=_grey((1, 40, 48), 0))
    np.savez(tmp_path / "fake.npz", frames=_grey((1, 40, 48), 1))
    out = tmp_path / "report"
    r = _evaluate(cli, tmp_path, out)
    assert r.returncode == 0, r.stderr
    m = json.loads((out / "metrics.json").read_text())
    assert {"ssim", "psnr", "mae"} <= set(m["paired"]["summary"]) and m["distribution"] == {}
    note = "FID/KID not computed: it needs at least 2 frames on each side, got 1 real and 1 fake"
    assert note in r.stderr and any(w.startswith(note) for w in m["warnings"])
    assert "FVD not computed: it needs at least 2 16-frame windows on each side" in r.stderr


@pytest.mark.parametrize("size", [(7, 7), (11, 40)])  # (11, 40) crashed OpenCV's DIS flow: a process of its own
def test_evaluate_scores_the_warping_error_of_frames_too_small_for_opencvs_flow(tmp_path, size):
    np.savez(tmp_path / "real.npz", frames=_grey((5, *size), 0))
    np.savez(tmp_path / "fake.npz", frames=_grey((5, *size), 1))
    out = tmp_path / "report"
    r = _evaluate(_cli, tmp_path, out, "--metrics", "ssim,flicker,warp")
    assert r.returncode == 0, r.stderr
    summary = json.loads((out / "metrics.json").read_text())["paired"]["summary"]
    from sonosynth.metrics import flicker

    real, fake = (np.load(tmp_path / f"{side}.npz")["frames"] for side in ("real", "fake"))
    assert summary["warp_error"]["mean"] == pytest.approx(flicker.warping_error(fake, real), rel=1e-6)
    assert summary["warp_error"]["mean"] > 0 and summary["flicker"]["mean"] == pytest.approx(
        flicker.temporal_flicker(fake, real), rel=1e-6)


@pytest.mark.parametrize("names", [",", " , ,", ""])
def test_evaluate_refuses_metrics_naming_none(cli, pair, tmp_path, names):
    _assert_one_line_refusal(_evaluate(cli, pair, tmp_path / "report", "--metrics", names), tmp_path / "report", "no metrics")


def test_evaluate_prints_valid_json_when_a_pair_is_identical(tmp_path):
    """PSNR of identical clips is infinite; the summary line on stdout must still be JSON a script can read."""
    frames = _grey((3, 40, 48), 0)
    np.savez(tmp_path / "real.npz", frames=frames)
    np.savez(tmp_path / "fake.npz", frames=frames)
    r = _evaluate(_cli, tmp_path, tmp_path / "report", "--metrics", "ssim,psnr")
    assert r.returncode == 0, r.stderr
    line = json.loads(r.stdout.strip().splitlines()[-1], parse_constant=lambda c: pytest.fail(f"bare {c} on stdout"))
    assert line["ssim"] == 1.0


def test_a_real_clip_without_its_fake_is_named_in_a_warning(cli, pair, tmp_path):
    for side in ("real", "fake"):
        (tmp_path / side).mkdir()
        (tmp_path / side / "a.npz").write_bytes((pair / f"{side}.npz").read_bytes())
    (tmp_path / "real" / "b.npz").write_bytes((pair / "real.npz").read_bytes())
    out = tmp_path / "report"
    r = cli("--quiet", "evaluate", "--real", tmp_path / "real", "--fake", tmp_path / "fake", "--pairs", "--metrics", "ssim",
            "-o", out)
    assert r.returncode == 0, r.stderr
    m = json.loads((out / "metrics.json").read_text())
    note = "1 real clip(s) have no fake of the same name and are left out of every score: b.npz"
    assert note in r.stderr and note in m["warnings"] and m["paired"]["summary"]["ssim"]["n"] == 1



def test_pairs_matched_by_order_because_names_differ_are_named_in_a_warning(cli, pair, tmp_path):
    """Equal counts with other names pair by sorted order: silently, that scored one clip against another's fake."""
    for side, name in (("real", "a.npz"), ("fake", "translated_a.npz")):
        (tmp_path / side).mkdir()
        (tmp_path / side / name).write_bytes((pair / f"{side}.npz").read_bytes())
    out = tmp_path / "report"
    r = cli("--quiet", "evaluate", "--real", tmp_path / "real", "--fake", tmp_path / "fake", "--pairs", "--metrics", "ssim",
            "-o", out)
    assert r.returncode == 0, r.stderr
    note = "1 pair(s) matched by sorted order, not by name (the names differ): a.npz with translated_a.npz"
    assert note in r.stderr and any(w.startswith(note) for w in json.loads((out / "metrics.json").read_text())["warnings"])
