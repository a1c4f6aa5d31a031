"""Speckle for stills: the rebuilt pixels get the fine texture of the tissue around them."""
from __future__ import annotations

import cv2
import numpy as np

from sonosynth.clip import Clip
from sonosynth.io import read_clip
from sonosynth.methods.translate.pipeline import translate
from sonosynth.synth.overlay import paint_cfd


def fine_texture(img: np.ndarray, where: np.ndarray) -> float:
    """Std of the image minus its Gaussian blur (σ 1.5) over `where`: the speckle's strength."""
    f = img.astype(np.float32)
    return float((f - cv2.GaussianBlur(f, (0, 0), 1.5))[where].std())


def masked_psnr(out: np.ndarray, truth: np.ndarray, where: np.ndarray) -> float:
    return float(10 * np.log10(255.0**2 / np.mean((out[where].astype(float) - truth[where]) ** 2)))


def test_a_still_gets_the_speckle_of_its_tissue_and_keeps_everything_else(pydicom_file):
    frame = read_clip(pydicom_file("examples_ybr_color.dcm")).grey()[5:6]  # one real cardiac frame
    cfd, holes, truth = paint_cfd(frame, seed=1, fps=30.0)
    clip = Clip(cfd, fps=30.0)
    smooth = translate(clip, holes=holes, speckle=False).frames
    textured = translate(clip, holes=holes).frames  # a still: speckle by default
    h, want = holes[0], fine_texture(truth[0], holes[0])
    assert fine_texture(smooth[0], h) < 0.6 * want              # the network alone fills a still smoothly
    assert 0.7 * want < fine_texture(textured[0], h) < 1.4 * want  # with speckle: about the tissue's own
    np.testing.assert_array_equal(textured[~holes], truth[~holes])
    assert masked_psnr(textured, truth, holes) > masked_psnr(smooth, truth, holes) - 1.5
    np.testing.assert_array_equal(translate(clip, holes=holes).frames, textured)  # deterministic


def test_clips_get_no_added_speckle_unless_asked(pydicom_file):
    grey = read_clip(pydicom_file("examples_ybr_color.dcm")).grey()[:6]
    cfd, holes, _ = paint_cfd(grey, seed=3, fps=30.0)
    clip = Clip(cfd, fps=30.0)
    plain = translate(clip, holes=holes).frames
    np.testing.assert_array_equal(plain, translate(clip, holes=holes, speckle=False).frames)
    assert not np.array_equal(plain[holes], translate(clip, holes=holes, speckle=True).frames[holes])


def test_speckle_leaves_a_frame_alone_when_no_tissue_is_visible_to_copy_from():
    from sonosynth.methods.translate.texture import add_speckle

    fill = np.full((40, 50), 90, np.uint8)
    everything = np.ones((40, 50), bool)
    np.testing.assert_array_equal(add_speckle(fill, everything), fill)
    outside_image = np.zeros((40, 50), bool)  # holes only where the image is not: nothing to texture
    holes = np.zeros((40, 50), bool)
    holes[5:10, 5:10] = True
    np.testing.assert_array_equal(add_speckle(fill, holes, outside_image), fill)
