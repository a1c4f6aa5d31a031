"""Fréchet distance and KID against independent computations."""
from __future__ import annotations

import numpy as np
import pytest
from scipy import linalg

from sonosynth.errors import BadOption
from sonosynth.metrics.frechet import frechet_distance, kid


def _scipy_frechet(x, y):
    mu1, mu2 = x.mean(0), y.mean(0)
    s1, s2 = np.cov(x, rowvar=False), np.cov(y, rowvar=False)
    covmean = linalg.sqrtm(s1 @ s2).real
    return float(((mu1 - mu2) ** 2).sum() + np.trace(s1 + s2 - 2 * covmean))


@pytest.mark.parametrize("d,n,shift", [(8, 200, 0.5), (64, 300, 0.1), (400, 600, 0.02)])
def test_frechet_matches_scipy_sqrtm(d, n, shift):
    rng = np.random.default_rng(d)
    a = rng.normal(size=(d, d)) / np.sqrt(d)
    x = rng.normal(size=(n, d)) @ a
    y = rng.normal(size=(n + 17, d)) @ (a + 0.3 * rng.normal(size=(d, d)) / np.sqrt(d)) + shift
    ours, ref = frechet_distance(x, y), _scipy_frechet(x, y)
    assert ref > 0.1
    assert abs(ours - ref) / ref < 1e-4


def test_frechet_closed_form_1d_and_self():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(5000, 3))
    assert frechet_distance(x, x) == pytest.approx(0.0, abs=1e-8)
    # 1-D Gaussians: (m1-m2)^2 + (s1-s2)^2
    u, v = rng.normal(0, 1, (4000, 1)), rng.normal(2, 3, (4000, 1))
    want = (u.mean() - v.mean()) ** 2 + (u.std(ddof=1) - v.std(ddof=1)) ** 2
    assert frechet_distance(u, v) == pytest.approx(want, rel=1e-6)


def test_kid_near_zero_for_same_distribution_and_positive_otherwise():
    rng = np.random.default_rng(2)
    x, y = rng.normal(size=(300, 16)), rng.normal(size=(300, 16))
    z = rng.normal(0.5, 1, size=(300, 16))
    same, _ = kid(x, y, subsets=20, subset_size=100)
    diff, _ = kid(x, z, subsets=20, subset_size=100)
    assert abs(same) < 0.02 and diff > 0.1


def test_bad_features():
    with pytest.raises(BadOption, match="at least 2"):
        frechet_distance(np.zeros((1, 3)), np.zeros((5, 3)))
    with pytest.raises(BadOption, match="dimensions"):
        frechet_distance(np.zeros((4, 3)), np.zeros((5, 2)))
    with pytest.raises(BadOption, match="NaN"):
        frechet_distance(np.full((4, 3), np.nan), np.zeros((5, 3)))
