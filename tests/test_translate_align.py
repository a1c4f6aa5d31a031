"""Copies from other frames follow the tissue (optical flow), and equal the plain copies on a still picture."""
from __future__ import annotations

import cv2
import numpy as np
import torch

from sonosynth.methods.translate.align import FlowCache, aligned_nearest_visible
from sonosynth.methods.translate.temporal import nearest_visible

T, H, W = 12, 64, 96
SHIFT = 2  # px a frame: a probe sweeping sideways


def _tissue(seed: int = 0) -> np.ndarray:
    """Speckle-like texture, wide enough to slide a window over."""
    rng = np.random.default_rng(seed)
    noise = rng.gamma(2.0, 30.0, (H, W + SHIFT * T)).astype(np.float32)
    return np.clip(cv2.GaussianBlur(noise, (0, 0), 1.2) * 1.5, 0, 255).astype(np.uint8)


def _pulsing_holes() -> np.ndarray:
    """A colour box whose flow covers its left half in even frames and its right half in odd ones."""
    holes = np.zeros((T, H, W), bool)
    for t in range(T):
        x0 = 36 if t % 2 == 0 else 48
        holes[t, 20:44, x0:x0 + 12] = True
    return holes


def _plain(grey: np.ndarray, holes: np.ndarray, targets: range, horizon: int):
    frames = torch.from_numpy(grey).float() / 127.5 - 1.0
    hid = torch.from_numpy(holes)
    idx = torch.tensor(list(targets))
    pv, pd = nearest_visible(frames, hid, horizon, -1, idx)
    nv, nd = nearest_visible(frames, hid, horizon, +1, idx)
    return [a.numpy() for a in (pv, pd, nv, nd)]


def _grey_error(prior: np.ndarray, truth: np.ndarray, where: np.ndarray) -> float:
    return float(np.abs((prior + 1.0) * 127.5 - truth)[where].mean())


def test_copies_follow_a_sliding_picture():
    tissue = _tissue()
    truth = np.stack([tissue[:, SHIFT * t:SHIFT * t + W] for t in range(T)])  # the picture slides left
    holes = _pulsing_holes()
    grey = np.where(holes, 0, truth).astype(np.uint8)
    targets = range(2, T - 2)
    aligned = aligned_nearest_visible(grey, holes, targets, 4, None)
    plain = _plain(grey, holes, targets, 4)
    hole = holes[2:T - 2].copy()
    hole[:, :, :40] = False  # away from the left edge of the flow's interpolation
    for k in (0, 2):  # past and future copies
        found = hole & (aligned[k + 1] < 1)
        assert found.sum() > 0.5 * hole.sum()
        assert not np.any(found & (plain[k + 1] == 1))  # a moved frame shows nothing the frame as it lies hides
        moved = _grey_error(aligned[k], truth[2:T - 2], found)
        as_lying = _grey_error(plain[k], truth[2:T - 2], found & (plain[k + 1] < 1))
        assert moved < 3.0 and as_lying > 3 * moved  # measured: about 1 against 11 grey levels


def test_a_still_picture_gets_the_plain_copies():
    truth = np.repeat(_tissue(1)[None, :, :W], T, axis=0)
    holes = _pulsing_holes()
    grey = np.where(holes, 0, truth).astype(np.uint8)
    targets = range(T)
    for gate in (None, 0.25):
        aligned = aligned_nearest_visible(grey, holes, targets, 5, gate)
        frames = torch.from_numpy(grey).float() / 127.5 - 1.0
        for direction, (value, dist) in ((-1, aligned[:2]), (+1, aligned[2:])):
            want_value, want_dist = nearest_visible(frames, torch.from_numpy(holes), 5, direction, None, gate)
            np.testing.assert_allclose(value, want_value.numpy(), atol=1e-6)
            np.testing.assert_array_equal(dist, want_dist.numpy())


def test_flow_cache_measures_each_pair_once_and_forgets_what_the_window_left():
    tissue = _tissue(2)
    grey = np.stack([tissue[:, SHIFT * t:SHIFT * t + W] for t in range(6)])
    holes = _pulsing_holes()[:6]
    cache = FlowCache()
    forward, _ = cache.window(grey, holes, 10, ("crop",))
    assert len(forward) == 5 and len(cache.flows) == 5
    again, _ = cache.window(grey[1:], holes[1:], 11, ("crop",))
    assert all(a is b for a, b in zip(again, forward[1:]))  # the same arrays, not measured again
    assert np.median(forward[0][20:44, 64:90, 0]) < -1.5  # the picture slides SHIFT px left a frame
    cache.forget_before(13)
    assert sorted(cache.flows) == [13, 14]
    cache.window(grey[:2], holes[:2], 13, ("elsewhere",))
    assert list(cache.flows) == [13]  # another crop: the others are dropped


def test_the_gate_in_grey_levels_decides_as_similar_tissue_does():
    """The copy gate of the moved copies is written in numpy for speed; it must pass and refuse the same
    pairs of frames as `temporal.similar_tissue`, which the plain copies (and training) use."""
    from sonosynth.methods.translate.align import _similar
    from sonosynth.methods.translate.temporal import similar_tissue

    rng = np.random.default_rng(5)
    tissue = _tissue(5)[:, :W]
    a = torch.from_numpy(tissue / 127.5 - 1.0).float()
    decisions = []
    for k in range(60):
        other = np.clip(tissue * rng.uniform(0.6, 1.4) + rng.normal(0, 12, tissue.shape), 0, 255).astype(np.float32)
        seen = rng.random(tissue.shape) > 0.3
        b = torch.from_numpy(other / 127.5 - 1.0).float()
        for limit in (0.1, 0.25):
            expected = bool(similar_tissue(a, b, torch.from_numpy(seen), limit))
            assert _similar(tissue, other, seen, limit) == expected
            decisions.append(expected)
    assert 0 < sum(decisions) < len(decisions)  # both answers were asked for
