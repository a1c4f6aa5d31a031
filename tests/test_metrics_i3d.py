"""The PyTorch I3D reproduces the original JAX/Flax I3D (golden vectors made by scripts/make_i3d_golden.py)."""
from __future__ import annotations

import importlib.util
import pickle
from pathlib import Path

import numpy as np
import pytest
import torch

from sonosynth.errors import MissingWeights
from sonosynth.nn import i3d

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = ROOT / "tests" / "data" / "i3d_golden.npz"


def _recipes():
    spec = importlib.util.spec_from_file_location("make_i3d_golden", ROOT / "scripts" / "make_i3d_golden.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)  # imports jax only inside main()
    return mod


def test_torch_i3d_matches_jax_reference():
    torch.set_num_threads(1)
    g = np.load(GOLDEN)
    mod = _recipes()
    inputs = [mod.random_clip(*r) for r in g["recipes"]] + [mod.snippet_to_input(g["snippet"])]
    model = i3d.pretrained_i3d("cpu")
    for x, want_logits, want_pooled in zip(inputs, g["logits"], g["pooled"]):
        with torch.no_grad():
            logits, pooled = model(torch.from_numpy(x).permute(3, 0, 1, 2)[None])
        assert logits.shape == (1, 400) and pooled.shape == (1, 1024)
        np.testing.assert_allclose(logits[0].numpy(), want_logits, atol=1e-3, rtol=0)
        np.testing.assert_allclose(pooled[0].numpy(), want_pooled, atol=1e-3, rtol=0)
    # the inputs differ, and so do the reference outputs: the comparison is not vacuous
    assert np.abs(g["logits"][0] - g["logits"][3]).max() > 0.5


def test_same_padding_is_tensorflow_asymmetric():
    x = torch.arange(5.0).view(1, 1, 1, 1, 5)
    # k=2, s=2 on 5 -> total pad 1, all after (TF), so the last window is [4, -inf] -> 4
    out = i3d.max_pool_same(x, (1, 1, 2), (1, 1, 2))
    assert out.flatten().tolist() == [1.0, 3.0, 4.0]
    # k=3, s=1 on 5 -> 1 before, 1 after; -inf padding never wins
    out = i3d.max_pool_same(-x, (1, 1, 3), (1, 1, 1))
    assert out.flatten().tolist() == [0.0, 0.0, -1.0, -2.0, -3.0]


def test_weights_loader_refuses_foreign_objects(tmp_path):
    bad = tmp_path / "evil.ckpt"
    bad.write_bytes(pickle.dumps({"params": {}, "batch_stats": {}, "x": Path("/")}))
    with pytest.raises(MissingWeights, match="refusing"):
        i3d.load_arrays(bad)
    trunc = tmp_path / "trunc.ckpt"
    trunc.write_bytes(i3d.weights_path().read_bytes()[:1000])
    with pytest.raises(MissingWeights):
        i3d.load_arrays(trunc)
    plain = tmp_path / "plain.ckpt"
    plain.write_bytes(pickle.dumps({"params": {"a": np.zeros(3)}}))
    with pytest.raises(MissingWeights, match="not an I3D"):
        i3d.load_arrays(plain)


def test_stem_holds_the_full_networks_early_layers_and_needs_only_their_arrays(tmp_path, monkeypatch):
    full = i3d.pretrained_i3d("cpu")
    stem = i3d.pretrained_i3d_stem("Mixed_3b")
    assert list(stem.blocks) == ["Mixed_3b"] and stem.logits is None
    stem_state = stem.state_dict()
    full_state = full.state_dict()
    assert set(stem_state) < set(full_state)
    for k, v in stem_state.items():
        assert torch.equal(v, full_state[k]), k
    # a checkpoint cut down to the stem's units loads into the stem, but not into the whole network
    tree = i3d.load_arrays(i3d.weights_path())
    kept = ("Conv3d_1a_7x7", "Conv3d_2b_1x1", "Conv3d_2c_3x3", "Mixed_3b")
    cut = {part: {k: tree[part][k] for k in kept} for part in ("params", "batch_stats")}
    (tmp_path / "weights").mkdir()
    (tmp_path / "weights" / "i3d-kinetics-400.ckpt").write_bytes(pickle.dumps(cut, protocol=4))
    monkeypatch.setattr(i3d, "weights_path", lambda: tmp_path / "weights" / "i3d-kinetics-400.ckpt")
    small = i3d.pretrained_i3d_stem("Mixed_3b")
    for k, v in small.state_dict().items():
        assert torch.equal(v, stem_state[k]), k
    with pytest.raises(MissingWeights, match="lacks"):
        i3d.load_state(i3d.InceptionI3d(), cut)
