"""Painted CFD: deterministic, exact masks, pulsing with the stated period, scanner colours."""
import time

import numpy as np
import pytest

from sonosynth.errors import BadOption
from sonosynth.synth.flow import beat
from sonosynth.synth.masks import training_masks
from sonosynth.synth.overlay import POWER_LUT, VELOCITY_LUT, paint_cfd


def _phantom(t=90, h=96, w=128):
    """Speckled tissue with two dark vessels, static, like a held probe."""
    rng = np.random.default_rng(0)
    img = rng.normal(120, 25, size=(h, w))
    yy, xx = np.mgrid[:h, :w]
    img[(yy - 45) ** 2 / 100 + (xx - 50) ** 2 / 400 < 1] = 15
    img[(yy - 60) ** 2 / 60 + (xx - 90) ** 2 / 60 < 1] = 20
    return np.repeat(np.clip(img, 0, 255).astype(np.uint8)[None], t, axis=0)


def test_deterministic_and_mask_is_exactly_the_changed_pixels():
    g = _phantom(20)
    a, b = paint_cfd(g, 7), paint_cfd(g, 7)
    assert all(np.array_equal(x, y) for x, y in zip(a, b))
    assert not np.array_equal(a[0], paint_cfd(g, 8)[0])
    rgb, mask, truth = a
    assert rgb.shape == g.shape + (3,) and mask.dtype == bool and np.array_equal(truth, g)
    assert mask.any()
    assert np.array_equal(mask, (rgb != truth[..., None]).any(-1))
    assert (rgb[~mask] == np.repeat(g[..., None], 3, -1)[~mask]).all()


def test_pulses_with_the_given_period():
    g = _phantom(90)
    rgb, mask, _ = paint_cfd(g, 3, fps=30.0, period=1.0, outline=False)
    area = mask.reshape(90, -1).sum(1).astype(float)
    assert area.max() > 1.3 * area.min()  # diastole shrinks the colour
    a = area - area.mean()
    corr = [np.dot(a[:-k], a[k:]) / (len(a) - k) for k in range(10, 50)]
    assert abs(10 + int(np.argmax(corr)) - 30) <= 2  # one beat = 1.0 s = 30 frames


def test_colour_maps_like_scanners():
    towards_slow, towards_fast = VELOCITY_LUT[150], VELOCITY_LUT[255]
    away_slow, away_fast = VELOCITY_LUT[105], VELOCITY_LUT[0]
    assert towards_slow[0] > 3 * towards_slow[2]  # red
    assert towards_fast[0] > 200 and towards_fast[1] > 200 and towards_fast[2] < 50  # yellow
    assert away_slow[2] > 3 * away_slow[0]  # blue
    assert away_fast[1] > 200 and away_fast[2] > 200 and away_fast[0] < 50  # cyan
    assert (POWER_LUT[:, 0] > POWER_LUT[:, 2]).all()  # orange
    assert ((VELOCITY_LUT.max(1) - VELOCITY_LUT.min(1)) >= 60).all()  # never grey


def test_no_aliasing_gives_one_hue_per_vessel_and_power_style():
    g = _phantom(30)
    rgb, mask, _ = paint_cfd(g, 1, aliasing=False, outline=False)
    px = rgb[mask].astype(int)
    assert ((px[:, 0] > px[:, 2]) | (px[:, 2] > px[:, 0])).all()
    rgbp, maskp, _ = paint_cfd(g, 1, style="power", outline=False)
    assert (mask & maskp).sum() > 0.8 * (mask | maskp).sum()  # same seed: same vessels and beat
    pp = rgbp[maskp].astype(int)
    assert (pp[:, 0] > pp[:, 2]).all()


def test_annular_box_has_straight_sides_and_arcs_bowed_away_from_the_probe():
    """box_shape "annulus": the trapezoid's sides, with its top and bottom bowed down (arcs about the point
    where the sides meet above the box), as a fan's colour box is drawn by most scanners."""
    from sonosynth.synth.flow import ARC_POINTS, choose_box

    image = np.zeros((200, 240), bool)
    image[20:180, 20:220] = True
    b = choose_box(image, None, np.random.default_rng(3), "annulus")
    box = b.mask
    ys, xs = np.nonzero(box)
    middle, left, right = (xs.min() + xs.max()) // 2, xs.min() + 3, xs.max() - 3
    lowest = {x: np.flatnonzero(box[:, x]).max() for x in (left, middle, right)}
    assert lowest[middle] >= max(lowest[left], lowest[right]) + 2
    top_ends = [int(np.ceil(b.polygon[0, 0])) + 1, int(b.polygon[ARC_POINTS - 1, 0]) - 1]  # the top arc's ends
    assert np.flatnonzero(box[:, middle]).min() >= max(np.flatnonzero(box[:, x]).min() for x in top_ends) + 2
    assert paint_cfd(_phantom(t=4), seed=1, box_shape="annulus")[1].any()


def test_bad_arguments():
    with pytest.raises(BadOption):
        paint_cfd(np.zeros((2, 32, 32), np.float32), 0)
    with pytest.raises(BadOption):
        paint_cfd(_phantom(2), 0, style="sepia")


def test_beat_is_periodic():
    w = beat(120, 30.0, 0.8, 0.3)
    assert np.allclose(w[:-24], w[24:], atol=1e-5) and w.max() == pytest.approx(1.0, abs=0.05)


def test_training_masks_fast_varied_never_empty():
    rng = np.random.default_rng(0)
    g = _phantom(8, 112, 112)
    times, fracs = [], []
    for i in range(60):
        t0 = time.perf_counter()
        m = training_masks(8, 112, 112, rng, g if i % 2 else None)
        times.append(time.perf_counter() - t0)
        assert m.shape == (8, 112, 112) and m.dtype == bool and m.any()
        fracs.append(m.mean())
    assert np.median(times) < 0.02
    assert np.std(fracs) > 0.01
    a = training_masks(8, 112, 112, np.random.default_rng(4))
    assert np.array_equal(a, training_masks(8, 112, 112, np.random.default_rng(4)))
