"""Downstream pieces: folds, scores, Dice, label reading, a classifier that learns, the domain network file."""
from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest
import torch

from sonosynth.errors import BadOption, MissingWeights
from sonosynth.metrics import downstream as ds
from sonosynth.metrics import downstream_seg as seg
from sonosynth.metrics.stats import bootstrap_ci, ci95

TINY = ds.ClsConfig(size=16, widen=0.25, epochs=25, batch=4, folds=2, seeds=(0,), test_windows=2)


def test_folds_are_stratified_and_seeded():
    y = np.array([0] * 32 + [1] * 11)
    f = ds.folds(y, 5, seed=3)
    for k in range(5):
        assert 6 <= (y[f == k] == 0).sum() <= 7 and 2 <= (y[f == k] == 1).sum() <= 3
    np.testing.assert_array_equal(f, ds.folds(y, 5, seed=3))
    assert not np.array_equal(f, ds.folds(y, 5, seed=4))


def test_scores_and_intervals_by_hand():
    s = ds.scores(np.array([1, 1, 0, 0]), np.array([0.9, 0.2, 0.7, 0.1]))
    assert s == {"f1": 0.5, "accuracy": 0.5}
    m, half = ci95([1.0, 2.0, 3.0])
    assert m == 2.0 and half == pytest.approx(4.302653 * 1.0 / np.sqrt(3), rel=1e-5)
    lo, hi = bootstrap_ci(np.arange(100.0))
    assert lo < 49.5 < hi


def test_classifier_learns_a_separable_task():
    torch.set_num_threads(1)
    rng = np.random.default_rng(0)
    # pathology clips carry a moving bright line (a B-line-like artefact), regular ones do not
    def clip(label):
        c = rng.normal(0, 0.3, (20, 16, 16)).astype(np.float32)
        if label:
            c[:, :, 6:9] += 1.5
        return np.clip(c, -1, 1)

    y = np.array([0, 1] * 6)
    p = ds.train_and_predict([clip(l) for l in y], y, [clip(0), clip(1), clip(0), clip(1)], TINY, seed=0)
    assert ds.scores(np.array([0, 1, 0, 1]), p)["accuracy"] == 1.0


def test_synthetic_clips_must_name_their_source(tmp_path):
    np.savez(tmp_path / "convex_Reg_pat4Image_140705_s1.npz", frames=np.zeros((20, 8, 8), np.uint8), fps=30.0)
    clips, src = ds.load_synthetic(tmp_path, ["a.mp4", "convex_Reg_pat4Image_140705.mpeg"], np.array([0, 1]), 8)
    assert list(src) == [1] and clips[0].shape == (20, 8, 8)
    np.savez(tmp_path / "stranger.npz", frames=np.zeros((20, 8, 8), np.uint8), fps=30.0)
    with pytest.raises(BadOption, match="stranger"):
        ds.load_synthetic(tmp_path, ["a.mp4", "convex_Reg_pat4Image_140705.mpeg"], np.array([0, 1]), 8)


def test_dice_by_hand():
    a = np.zeros((4, 4), np.uint8)
    b = a.copy()
    a[:2, :2] = 1
    b[:2, :1] = 1
    # class 1: 2*2/(4+2); class 2 absent from both: 1
    assert seg.dice(a, b) == pytest.approx((4 / 6 + 1) / 2)
    assert seg.dice(a, a) == 1.0


def test_nerve_labels_are_palette_indices(shared_data):
    names, imgs, masks = seg.load_split(shared_data / "nerve" / "test")
    assert len(names) == 40 and all(m.shape == i.shape for m, i in zip(masks, imgs))
    assert set(np.unique(np.concatenate([np.unique(m) for m in masks]))) == {0, 1, 2}
    procs = seg.reference_processings(imgs[:2])
    assert {"identity", "blur sigma 1.5", "JPEG q30"} <= set(procs)
    np.testing.assert_array_equal(procs["identity"][0], imgs[0])


def test_domain_network_file_roundtrip(tmp_path):
    from safetensors.torch import save_file

    from sonosynth.metrics.domain import domain_features

    cfg = dataclasses.replace(TINY, size=32)
    model = ds.make_model(cfg)
    path = tmp_path / "domain.safetensors"
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, str(path),
              metadata={"config": json.dumps(dataclasses.asdict(cfg))})
    wins = [np.random.default_rng(i).integers(0, 255, (16, 40, 48), dtype=np.uint8) for i in range(3)]
    f = domain_features(wins, path)
    assert f.shape[0] == 3 and f.shape[1] == 128 and np.isfinite(f).all()
    bad = tmp_path / "bad.safetensors"
    save_file({"x": torch.zeros(2)}, str(bad), metadata={"config": json.dumps(dataclasses.asdict(cfg))})
    with pytest.raises(MissingWeights, match="domain network"):
        domain_features(wins, bad)


@pytest.mark.parametrize("table", [b"foo,bar\n1,2\n", b"file,label\n\xff\xfe,regular\n",
                                   b"file,label\na.mp4,regular\nb.mp4,regular\n", b""])
def test_a_lung_table_without_clips_of_both_labels_or_columns_is_refused(tmp_path, table):
    """A table without its columns, not UTF-8, or with one label only (the scores read 1.000 and nan)."""
    from sonosynth.errors import UnreadableInput
    from sonosynth.metrics.downstream import load_lung

    (tmp_path / "clips.csv").write_bytes(table)
    with pytest.raises(UnreadableInput, match="clips.csv"):
        load_lung(tmp_path, 16)
