"""Flicker, warping error, DIV, perceptual weights handling and the graded corruptions."""
from __future__ import annotations

import numpy as np
import pytest

from sonosynth.errors import BadOption, MissingWeights
from sonosynth.metrics import corrupt, flicker
from sonosynth.metrics.div import diversity
from sonosynth.metrics.lpips import CHANNELS, _build, load, perceptual


@pytest.fixture(scope="module")
def clip(shared_data):
    from sonosynth.metrics.clips import read_grey

    return read_grey(shared_data / "lung" / "convex_Reg_pat4Image_140705.mpeg")[:12, 80:272, 80:272]


def test_flicker_zero_for_truth_and_grows_with_noise(clip):
    assert flicker.temporal_flicker(clip, clip) == 0.0
    f = [flicker.temporal_flicker(corrupt.noise(clip, lv, 1), clip) for lv in (0.05, 0.2, 0.5)]
    assert f[0] < f[1] < f[2]
    # a constant offset does not flicker
    assert flicker.temporal_flicker(np.clip(clip.astype(int) + 3, 0, 255).astype(np.uint8), clip) < 0.5


def test_warping_error_low_on_real_motion_high_when_shuffled(clip):
    for method in flicker.FLOW_METHODS:
        real = flicker.warping_error(clip, method=method)
        shuffled = flicker.warping_error(corrupt.shuffle(clip, 1.0, 3), method=method)
        assert 0 <= real < shuffled
    # a translation the flow can follow exactly is warped away
    base = clip[0]
    moving = np.stack([np.roll(base, 2 * t, axis=1) for t in range(4)])
    inner = np.zeros(moving.shape, bool)
    inner[:, 20:-20, 20:-20] = True
    assert flicker.warping_error(moving, mask=inner) < 1.5
    with pytest.raises(BadOption, match="flow method"):
        flicker.warping_error(clip[:2], method="lucas")


def test_warping_error_of_frames_too_small_for_opencvs_flow():
    """DIS raises under 12 px a side; the frames are padded for it (preprocess.flow). A 7x7 ramp that
    brightens by 20 levels without moving scores about 20; held still, about 0 (DIS)."""
    ramp = (np.add.outer(np.arange(7), np.arange(7)) * 10 + 40).astype(np.uint8)
    assert flicker.warping_error(np.stack([ramp, ramp]), method="dis") == pytest.approx(0.0, abs=1e-3)
    for method in flicker.FLOW_METHODS:
        assert flicker.warping_error(np.stack([ramp, ramp + 20]), method=method) == pytest.approx(20, abs=3)


def test_corruptions_are_graded(clip):
    for name, fn in corrupt.CORRUPTIONS.items():
        np.testing.assert_array_equal(fn(clip, 0.0, 0), clip, err_msg=name)
        d = [np.abs(fn(clip, lv, 0).astype(int) - clip).mean() for lv in (0.25, 1.0)]
        assert 0 < d[0] <= d[1], name


def test_div_zero_for_identical_samples(clip):
    assert diversity(np.stack([clip, clip]))["div_pixel"] == 0.0
    assert diversity(np.stack([clip, corrupt.noise(clip, 0.1, 0), corrupt.noise(clip, 0.1, 1)]))["div_pixel"] > 1
    with pytest.raises(BadOption, match="at least 2"):
        diversity(clip[None])


def test_perceptual_without_weights_says_so(clip, tmp_path):
    r = perceptual(clip[:2], clip[:2], None)
    assert r["available"] is False and "no perceptual weights" in r["reason"]
    r = perceptual(clip[:2], clip[:2], tmp_path / "absent.safetensors")
    assert r["available"] is False and "not found" in r["reason"]
    junk = tmp_path / "junk.safetensors"
    junk.write_bytes(b"not a safetensors file")
    with pytest.raises(MissingWeights, match="safetensors"):
        load(junk)


def test_perceptual_with_a_weights_file_in_the_documented_layout(clip, tmp_path):
    import torch
    from safetensors.torch import save_file

    torch.manual_seed(0)
    net = _build()
    tensors = {f"features.{k}": v.contiguous() for k, v in net.features.state_dict().items()}
    trunk_only = tmp_path / "vgg.safetensors"
    save_file(tensors, str(trunk_only))
    r = perceptual(clip[:2, :64, :64], clip[:2, :64, :64], trunk_only)
    assert r["available"] and r["vgg_l1"] == 0.0 and "lpips" not in r and len(r["weights_sha256"]) == 64
    for k, c in enumerate(CHANNELS):
        tensors[f"lin{k}.model.1.weight"] = torch.rand(1, c, 1, 1)
    full = tmp_path / "lpips.safetensors"
    save_file(tensors, str(full))
    same = perceptual(clip[:2, :64, :64], clip[:2, :64, :64], full)
    assert same["lpips"] == 0.0
    noisy = perceptual(clip[:2, :64, :64], corrupt.noise(clip[:2, :64, :64], 0.5, 0), full)
    assert noisy["lpips"] > 0 and noisy["vgg_l1"] > 0
    del tensors["features.0.weight"]
    broken = tmp_path / "broken.safetensors"
    save_file(tensors, str(broken))
    with pytest.raises(MissingWeights, match="features.0|0.weight"):
        load(broken)
