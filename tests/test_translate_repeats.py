"""Repeated frames (a frame grabber's copies) get one picture under their pulsing colour."""
from __future__ import annotations

import cv2
import numpy as np

from sonosynth.clip import Clip
from sonosynth.methods.translate import pipeline
from sonosynth.methods.translate.pipeline import Translator, translate
from sonosynth.methods.translate.repeats import SOURCE_MARGIN, carry_repeats, repeats


def _speckle(seed: int, shape=(60, 64)) -> np.ndarray:
    return np.random.default_rng(seed).integers(20, 230, shape, dtype=np.uint8)


def _hole(y0: int, x0: int, shape=(60, 64)) -> np.ndarray:
    hole = np.zeros(shape, bool)
    hole[y0:y0 + 12, x0:x0 + 14] = True
    return hole


def test_repeats_tells_a_copy_from_a_new_picture_whatever_the_colour_and_its_ringing():
    picture, hole_a, hole_b = _speckle(0), _hole(20, 20), _hole(24, 26)
    copy = picture.copy()
    copy[hole_b] = 0  # what the colour covers is not compared
    ring = np.zeros_like(hole_b)
    ring[18:42, 16:46] = True  # a codec's ringing within 8 px of the colour
    copy[ring & ~hole_b] = np.clip(copy[ring & ~hole_b].astype(int) + 9, 0, 255)
    assert repeats((picture, hole_a), (copy, hole_b))
    moved = np.roll(picture, 1, axis=1)
    assert not repeats((picture, hole_a), (moved, hole_b))
    faint = picture.copy()
    faint[::4, ::4] += 1  # a change of a sixteenth of a level on average: below 0.1
    assert repeats((picture, hole_a), (faint, hole_a)) and not repeats((picture, hole_a), (faint, hole_a), max_change=0.05)
    assert not repeats((picture, np.zeros_like(hole_a)), (picture, np.zeros_like(hole_a)))  # no colour: nothing to carry


def test_carry_repeats_takes_the_nearest_copy_that_shows_a_pixel_clear_of_its_colour():
    frame = np.full((8, 8), 50, np.uint8)
    hole = np.zeros((8, 8), bool)
    hole[1:6, 1:6] = True
    near, far = np.full((8, 8), 7, np.uint8), np.full((8, 8), 8, np.uint8)
    near_hole = hole.copy()
    near_hole[1:3, 1:6] = False  # the nearest copy shows rows 1-2; row 2 lies next to its colour
    out = carry_repeats(frame, hole, [(near, near_hole), (far, np.zeros_like(hole))])  # the farther one shows all
    assert np.all(out[1, 1:6] == 7) and np.all(out[2:6, 1:6] == 8)
    assert np.all(out[~hole] == 50) and np.all(frame == 50)  # outside untouched, input not modified
    assert np.all(carry_repeats(frame, hole, [(near, near_hole)])[2:6, 1:6] == 50)  # shown by no copy: the fill stays
    assert carry_repeats(frame, hole, []) is frame


def _widened(holes: np.ndarray) -> np.ndarray:
    """The holes grown by SOURCE_MARGIN: what a copy does not lend."""
    kernel = np.ones((2 * SOURCE_MARGIN + 1,) * 2, np.uint8)
    return np.stack([cv2.dilate(h.view(np.uint8), kernel).astype(bool) for h in holes])


def _copies_under_moving_colour(T: int):
    truth = np.stack([_speckle(k // 3) for k in range(T)])  # frames 3k, 3k+1, 3k+2 are one picture
    holes = np.stack([_hole(18 + (t % 3) * 3, 16 + (t % 4) * 4) for t in range(T)])
    return Clip(np.where(holes, 0, truth).astype(np.uint8), fps=20.0), truth, holes


def test_a_pixel_one_copy_hides_and_another_shows_is_the_truth(tiny_weights):
    """Frames stored three times (a grabber at three times the scanner's rate) under colour that moves
    every frame: where a copy shows what another hides, the output is exact."""
    clip, truth, holes = _copies_under_moving_colour(12)
    results = {batch: translate(clip, holes=holes, translator=Translator(tiny_weights, batch=batch)).frames
               for batch in (1, 5)}
    out = results[1]
    np.testing.assert_array_equal(out, results[5])  # as every stream result: independent of the batch
    np.testing.assert_array_equal(out[~holes], truth[~holes])
    for run in range(0, 12, 3):
        shown_by_a_copy = holes[run:run + 3] & ~_widened(holes[run:run + 3]).all(axis=0)
        assert shown_by_a_copy.sum() > 100
        np.testing.assert_array_equal(out[run:run + 3][shown_by_a_copy], truth[run:run + 3][shown_by_a_copy])
    hidden_in_all = holes[:3].all(axis=0)
    assert not np.array_equal(out[0][hidden_in_all], truth[0][hidden_in_all])  # there only the fill is known


def test_without_carrying_what_copies_show_is_only_estimated(tiny_weights, monkeypatch):
    """The test above fails without the carrying: the untrained network does not copy exactly."""
    monkeypatch.setattr(pipeline, "CARRY_REPEATS", False)
    clip, truth, holes = _copies_under_moving_colour(6)
    out = translate(clip, holes=holes, translator=Translator(tiny_weights)).frames
    shown_by_a_copy = holes[:3] & ~_widened(holes[:3]).all(axis=0)
    assert not np.array_equal(out[:3][shown_by_a_copy], truth[:3][shown_by_a_copy])
