"""The codec rim: after a lossy codec the holes are widened, and the widening can keep its recorded grey where
it shows no colour and lies near the fill (`codec_rim.keep_clean_rim`; off as shipped, switched on here)."""
from __future__ import annotations

import numpy as np
import pytest

from sonosynth.clip import Clip
from sonosynth.errors import BadOption
from sonosynth.io import read_clip, write_clip
from sonosynth.methods.translate import codec_rim
from sonosynth.methods.translate.codec_rim import keep_clean_rim
from sonosynth.methods.translate.pipeline import Translator, translate
from sonosynth.preprocess.doppler import rebuild_mask
from sonosynth.synth.overlay import paint_cfd


def test_a_rim_pixel_is_kept_only_when_colourless_and_near_the_fill(monkeypatch):
    monkeypatch.setattr(codec_rim, "RIM_KEEP_CHANGE", 64)
    rgb = np.full((1, 2, 4, 3), 100, np.uint8)
    rgb[0, 0, 1] = (130, 100, 100)            # chroma 30: colour
    grey = np.full((1, 2, 4), 100, np.uint8)
    rebuilt = np.full((1, 2, 4), 60, np.uint8)  # 40 levels from the recorded grey
    rebuilt[0, 0, 2] = 20                       # 80 levels: too far
    rebuilt[0, 1, 0] = 140                      # 40 levels brighter: near
    rim = np.ones((1, 2, 4), bool)
    rim[0, 1, 3] = False                        # a hole pixel the codec rim does not hold
    out = keep_clean_rim(rgb, grey, rebuilt, rim)
    expected = np.array([[[100, 60, 20, 100], [100, 100, 100, 60]]], np.uint8)
    np.testing.assert_array_equal(out, expected)
    np.testing.assert_array_equal(keep_clean_rim(grey, grey, rebuilt, rim)[0, 0, :3], [100, 100, 20])  # grey input: no colour
    monkeypatch.setattr(codec_rim, "RIM_KEEP_CHANGE", 0)
    np.testing.assert_array_equal(keep_clean_rim(rgb, grey, rebuilt, rim), rebuilt)


def _painted(tmp_path, suffix: str) -> Clip:
    rng = np.random.default_rng(5)
    base = rng.gamma(2.0, 35.0, (64, 64)).clip(0, 255)
    grey = np.stack([np.roll(base, t % 3, axis=1) for t in range(10)]).astype(np.uint8)
    cfd, _, _ = paint_cfd(grey, seed=6, fps=20.0)
    write_clip(Clip(cfd, fps=20.0), tmp_path / f"cfd{suffix}")
    return read_clip(tmp_path / f"cfd{suffix}")


def test_the_rim_is_the_widening_after_a_lossy_codec_only(tmp_path):
    coded = _painted(tmp_path, ".mp4")
    holes, rim = rebuild_mask(coded, with_rim=True)
    np.testing.assert_array_equal(holes, rebuild_mask(coded))
    np.testing.assert_array_equal(rim, holes & ~rebuild_mask(coded, lossy=False))
    assert rim.sum() > 0.2 * holes.sum()
    lossless = _painted(tmp_path, ".mkv")
    holes, rim = rebuild_mask(lossless, with_rim=True)
    np.testing.assert_array_equal(holes, rebuild_mask(lossless))
    assert holes.any() and not rim.any()


def test_translate_keeps_the_clean_rim_of_a_lossy_clip(tiny_weights, tmp_path, monkeypatch):
    """With the holes it finds itself; given holes without a rim, it rebuilds them whole."""
    coded = _painted(tmp_path, ".mp4")
    holes, rim = rebuild_mask(coded, with_rim=True)
    tr = Translator(tiny_weights)
    monkeypatch.setattr(codec_rim, "RIM_KEEP_CHANGE", 0)
    whole = translate(coded, translator=tr).grey()
    monkeypatch.setattr(codec_rim, "RIM_KEEP_CHANGE", 64)
    kept = translate(coded, translator=tr).grey()
    expected = keep_clean_rim(coded.frames, coded.grey(), whole, rim)
    np.testing.assert_array_equal(kept, expected)
    changed = kept != whole
    assert changed.sum() > 0.1 * rim.sum() and not (changed & ~rim).any()
    np.testing.assert_array_equal(kept[changed], coded.grey()[changed])
    np.testing.assert_array_equal(translate(coded, holes=holes, translator=tr).grey(), whole)
    np.testing.assert_array_equal(translate(coded, holes=holes, rim=rim, translator=tr).grey(), kept)
    with pytest.raises(BadOption, match="rim shape"):
        translate(coded, holes=holes, rim=rim[:, :10], translator=tr)


def test_the_streaming_path_keeps_the_clean_rim_too(tiny_weights, tmp_path, monkeypatch):
    """There the holes and their rim are found chunk by chunk."""
    from sonosynth.methods.translate.streaming import translate_video_file

    coded = _painted(tmp_path, ".mp4")
    outputs = {}
    for change in (0, 64):
        monkeypatch.setattr(codec_rim, "RIM_KEEP_CHANGE", change)
        translate_video_file(tmp_path / "cfd.mp4", tmp_path / f"out{change}.mkv", Translator(tiny_weights, batch=4), chunk=4)
        outputs[change] = read_clip(tmp_path / f"out{change}.mkv").grey()
    rim = np.concatenate([rebuild_mask(Clip(coded.frames[t:t + 4], fps=20.0), lossy=True, with_rim=True)[1]
                          for t in range(0, coded.n_frames, 4)])
    changed = outputs[0] != outputs[64]
    assert changed.sum() > 0.1 * rim.sum() and not (changed & ~rim).any()
    np.testing.assert_array_equal(outputs[64][changed], coded.grey()[changed])
