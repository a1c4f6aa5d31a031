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
    assert 0 < s["ssim"]["mean"] < 1 and s["ssim_mask"]["n"] == 2 and s["mae"]["mean"] > 1
    assert m["distribution"]["fid"] > 0 and m["distribution"]["fvd"] > 0
    assert m["protocol"]["fvd"]["n_real"] == 2 and len(m["protocol"]["fvd"]["weights_sha256"]) == 64
    assert "224" in m["protocol"]["fvd"]["input"] and "299" in m["protocol"]["fid"]["input"]
    assert m["perceptual"]["available"] is False
    assert any("FVD from 2 windows" in w for w in m["warnings"])
    page = (out / "index.html").read_text()
    assert "data:image/png;base64," in page and "Not computed" in page and "weights_sha256" in page
    # a second run refuses to overwrite the report
    r = _cli("evaluate", "--real", sets / "real", "--fake", sets / "fake", "--metrics", "ssim", "--pairs", "-o", out)
    assert r.returncode == 2 and "exists" in r.stderr and "Traceback" not in r.stderr


@pytest.mark.parametrize(
    "extra,msg",
    [
        (["--metrics", "ssim,bogus"], "unknown metric"),
        (["--mask", "MASK"], "add --pairs"),
        (["--device", "tpu"], "--device"),
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
