"""The README's main command, end to end, with the shipped weights on pydicom's real examples."""
from __future__ import annotations

import json

import numpy as np
import pytest

from sonosynth.cli import main
from sonosynth.io import read_clip


def test_demo_translates_the_painted_cardiac_cine_and_the_power_doppler_still(tmp_path, capsys):
    out = tmp_path / "demo"
    with pytest.raises(SystemExit) as e:
        main(["--quiet", "demo", "-o", str(out)])
    assert e.value.code == 0
    printed = capsys.readouterr().out
    assert "masked PSNR" in printed
    scores = json.loads((out / "scores.json").read_text())
    assert scores["mask_iou"] > 0.9
    # The shipped model on this cine read 35.1 dB / box SSIM 0.971 / flicker 0.90, Telea 32.6 dB / 0.958:
    # a broken or constant fill falls far below these bounds.
    ours, telea = scores["sonosynth"], scores["telea"]
    assert ours["psnr"] > 33 and ours["psnr"] > telea["psnr"] + 1 and ours["box_ssim"] > 0.95
    assert 0.8 <= ours["flicker"] <= 1.25 and ours["ssim"] > 0.99
    assert 28 < telea["psnr"] < 36
    side = read_clip(out / "cardiac_side_by_side.mp4")
    assert side.n_frames == 30 and side.width == 4 * 320
    still = read_clip(out / "power_doppler_before_after.png")
    assert still.n_frames == 1 and still.is_rgb
    assert 0.01 < scores["power_doppler"]["rebuilt_fraction"] < 0.2
    # a second run refuses to overwrite the user's files unless asked
    with pytest.raises(SystemExit) as e:
        main(["--quiet", "demo", "-o", str(out)])
    assert e.value.code == 2
    translated = read_clip(out / "cardiac_translated.mp4").frames
    assert translated.shape == (30, 240, 320) and np.ptp(translated) > 50
    # the provenance map, and the painted pixels' scores split by it (the detected holes hold them all: IoU > 0.9)
    where = read_clip(out / "cardiac_provenance.mkv").grey()
    assert where.shape == (30, 240, 320) and set(np.unique(where)) == {0, 128, 255}
    by = scores["sonosynth_by_provenance"]
    assert by["seen elsewhere"]["share"] + by["inferred"]["share"] == pytest.approx(1.0, abs=0.02)
    for level, value in (("seen elsewhere", 128), ("inferred", 255)):
        assert 0 < by[level]["pixels"] <= np.count_nonzero(where == value) and 28 < by[level]["psnr"] < 45
    assert "inferred from their surroundings alone" in printed
