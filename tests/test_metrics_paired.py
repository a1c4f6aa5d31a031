"""Paired metrics on real lung frames, against scikit-image and hand computations."""
from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from skimage.metrics import structural_similarity

from sonosynth.errors import BadOption
from sonosynth.metrics import mae, ms_ssim, psnr, ssim
from sonosynth.metrics.paired import ms_ssim_frames, ssim_frames, ssim_map


@pytest.fixture(scope="module")
def frames(shared_data):
    import av

    with av.open(str(shared_data / "lung" / "convex_Reg_pat4Image_140705.mpeg")) as c:
        return np.stack([f.to_ndarray(format="gray") for _, f in zip(range(12), c.decode(video=0))])


def _sk(a, b):
    return structural_similarity(a, b, gaussian_weights=True, sigma=1.5, use_sample_covariance=False, data_range=255)


def test_ssim_matches_skimage_on_real_frames(frames):
    a, b = frames[:6], frames[6:]
    rng = np.random.default_rng(0)
    noisy = np.clip(a.astype(int) + rng.normal(0, 20, a.shape), 0, 255).astype(np.uint8)
    for x, y in ((a, b), (a, noisy)):
        per_frame = ssim_frames(x, y)
        ref = [_sk(p, q) for p, q in zip(x, y)]
        np.testing.assert_allclose(per_frame, ref, atol=1e-3)
        assert abs(ssim(x, y) - np.mean(ref)) < 1e-3
    assert ssim(a, a) == pytest.approx(1.0)
    assert ssim(a, noisy) < ssim(a, b) < 1.0  # noise hurts more than 6 frames of motion


def test_masked_ssim_is_map_mean_over_mask_and_bbox(frames):
    a, b = frames[:2], frames[2:4]
    mask = np.zeros(a.shape[1:], bool)
    mask[100:150, 80:200] = True
    mask[120:130, 80:90] = False  # a hole: bbox and mask differ
    s = ssim_map(a, b)
    assert ssim(a, b, mask) == pytest.approx(np.mean([m[mask].mean() for m in s]))
    box = np.zeros_like(mask)
    box[100:150, 80:200] = True
    assert ssim(a, b, mask, region="bbox") == pytest.approx(np.mean([m[box].mean() for m in s]))
    # a corruption only outside the mask leaves the masked scores untouched
    c = a.copy()
    c[:, ~box] = 255 - c[:, ~box]
    assert mae(a, c, mask) == 0.0 and psnr(a, c, mask) == np.inf
    assert ssim(a, c, mask) < 1.0  # the Gaussian window sees the border of the box...
    assert ssim(a, c, mask) > ssim(a, c)  # ...but far less than the whole frame does


def test_psnr_mae_by_hand():
    a = np.zeros((2, 8, 8), np.uint8)
    b = a.copy()
    b[0] = 10
    b[1, :4] = 20
    assert mae(a, b) == pytest.approx((10 + 10) / 2)
    want = np.mean([10 * np.log10(255**2 / 100), 10 * np.log10(255**2 / 200)])
    assert psnr(a, b) == pytest.approx(want)
    m = np.zeros((2, 8, 8), bool)
    m[:, 4:] = True
    assert np.isnan(ssim_frames(a, b, m)).sum() == 0
    assert mae(a, b, m) == pytest.approx(5.0)  # frame 1 is untouched inside its mask


def test_ms_ssim_behaves(frames):
    a, b = frames[:3], frames[3:6]
    assert ms_ssim(a, a) == pytest.approx(1.0)
    blurred = np.stack([np.asarray(f.reshape(185, 2, 185, 2).mean((1, 3)).repeat(2, 0).repeat(2, 1), np.uint8) for f in a])
    assert 0 < ms_ssim(a, blurred) < 1
    full = np.ones(a.shape, bool)
    np.testing.assert_allclose(ms_ssim_frames(a, b, full), ms_ssim_frames(a, b), atol=1e-9)
    with pytest.raises(BadOption, match="176"):
        ms_ssim(a[:, :100, :100], b[:, :100, :100])


@pytest.mark.parametrize(
    "a,b,mask,msg",
    [
        (np.zeros((4, 4), np.float32), np.zeros((4, 4), np.float32), None, "uint8"),
        (np.zeros((2, 4, 4), np.uint8), np.zeros((2, 4, 5), np.uint8), None, "shape"),
        (np.zeros((2, 4, 4, 3), np.uint8), np.zeros((2, 4, 4, 3), np.uint8), None, "greyscale"),
        (np.zeros((2, 4, 4), np.uint8), np.zeros((2, 4, 4), np.uint8), np.zeros((4, 4), bool), "empty"),
        (np.zeros((2, 4, 4), np.uint8), np.zeros((2, 4, 4), np.uint8), np.ones((4, 4), np.uint8), "bool"),
        (np.zeros((2, 4, 4), np.uint8), np.zeros((2, 4, 4), np.uint8), np.ones((3, 4), bool), "mask shape"),
    ],
)
def test_bad_inputs_raise_user_errors(a, b, mask, msg):
    with pytest.raises(BadOption, match=msg):
        ssim(a, b, mask)


def test_import_is_light():
    code = "import sys, sonosynth.metrics as m; m.ssim; assert 'torch' not in sys.modules, 'torch imported'"
    subprocess.run([sys.executable, "-c", code], check=True)
