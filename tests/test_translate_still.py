"""Still pixels (a black border, a near-black phantom) keep the one value every nearby frame shows."""
from __future__ import annotations

import numpy as np

from sonosynth.clip import Clip
from sonosynth.methods.translate import still
from sonosynth.methods.translate.pipeline import Translator, translate
from sonosynth.methods.translate.still import fill_still_pixels


def test_a_hidden_pixel_takes_the_mean_of_its_views_only_when_they_agree():
    frame = np.full((4, 6), 90, np.uint8)
    hole = np.zeros((4, 6), bool)
    hole[1:3, 1:5] = True
    views = [np.full((4, 6), v, np.uint8) for v in (10, 11, 11)]
    views[2][1, 4] = 40  # pixel (1, 4): its views spread over 30 levels, tissue that moves
    holes = [np.zeros((4, 6), bool) for _ in views]
    holes[0][2, 1] = True  # pixel (2, 1): shown by two frames only
    out = fill_still_pixels(frame, hole, list(zip(views, holes)), spread=1, views=3)
    assert out[1, 1] == 11 and out[2, 2] == 11  # mean of 10, 11, 11
    assert out[1, 4] == 90 and out[2, 1] == 90  # disagreeing or too few views: the fill stays
    assert np.all(out[~hole] == 90) and np.all(frame == 90)  # outside untouched, the input not modified
    assert np.all(fill_still_pixels(frame, hole, list(zip(views, holes)), spread=0, views=3)[1:3, 1:4] == 90)
    assert fill_still_pixels(frame, hole, list(zip(views, holes)), spread=-1) is frame  # off


def test_dark_views_count_as_one_value_only_when_asked(monkeypatch):
    """STILL_DARK (tried, off in the package): views all at or below it are one value, however they spread."""
    frame = np.full((2, 2), 90, np.uint8)
    hole = np.ones((2, 2), bool)
    views = [(np.full((2, 2), v, np.uint8), np.zeros((2, 2), bool)) for v in (0, 3, 3)]
    assert np.all(fill_still_pixels(frame, hole, views, spread=1, views=3) == 90)
    monkeypatch.setattr(still, "STILL_DARK", 4)
    assert np.all(fill_still_pixels(frame, hole, views, spread=1, views=3) == 2)


def _speckle_beside_a_black_border(T: int):
    """Tissue whose speckle changes every frame, a black strip down its right side, and colour that
    pulses over both: the strip is hidden in some frames, shown in others."""
    rng = np.random.default_rng(0)
    truth = rng.integers(60, 220, (T, 40, 48), dtype=np.uint8)
    truth[:, :, 40:] = 0
    holes = np.zeros(truth.shape, bool)
    for t in range(T):
        holes[t, 10:30, 24:48 if t % 2 else 40] = True  # every other frame hides the strip
    return Clip(np.where(holes, 0, truth).astype(np.uint8), fps=20.0), truth, holes


def test_a_black_border_under_the_colour_stays_black(tiny_weights):
    clip, truth, holes = _speckle_beside_a_black_border(9)
    results = {batch: translate(clip, holes=holes, translator=Translator(tiny_weights, batch=batch)).frames
               for batch in (1, 4)}
    np.testing.assert_array_equal(results[1], results[4])  # independent of the batch, as every stream result
    out = results[1]
    strip = holes.copy()
    strip[:, :, :40] = False
    assert strip.sum() > 500
    np.testing.assert_array_equal(out[strip], 0)
    tissue = holes & ~strip
    assert np.abs(out[tissue].astype(int) - truth[tissue]).mean() > 5  # speckle that changes is only estimated


def test_without_still_pixels_the_border_is_only_estimated(tiny_weights, monkeypatch):
    """The test above fails without them: the untrained network does not put exact black there."""
    monkeypatch.setattr(still, "STILL_RANGE", -1)
    clip, _, holes = _speckle_beside_a_black_border(9)
    out = translate(clip, holes=holes, translator=Translator(tiny_weights)).frames
    assert np.any(out[:, :, 40:][holes[:, :, 40:]] != 0)
