"""Round trip to model size and back: outside the edit, bytes come back unchanged."""
import numpy as np
import pytest

from sonosynth.errors import BadOption
from sonosynth.preprocess.resize import paste_back, to_model


def _clip(shape, seed=0):
    return np.random.default_rng(seed).integers(0, 256, size=shape, dtype=np.uint8)


@pytest.mark.parametrize("shape", [(3, 97, 131), (2, 60, 40, 3)])
def test_empty_edit_returns_input_bytes(shape):
    f = _clip(shape)
    m, geo = to_model(f, (5, shape[1] - 3, 7, shape[2] - 2), 32)
    assert m.shape[1:3] == (32, 32)
    back = paste_back(f, m, geo, np.zeros(shape[:3], bool))
    assert back.tobytes() == f.tobytes()


def test_edit_changes_only_masked_pixels_and_keeps_aspect():
    f = _clip((2, 80, 160))
    m, geo = to_model(f, None, (64, 64))
    assert geo.inner == (32, 64) and geo.offset == (16, 0)  # 2:1 crop, padded top and bottom
    assert m[:, :16].max() == 0 and m[:, 48:].max() == 0
    edited = np.full_like(m, 255)
    mask = np.zeros(f.shape, bool)
    mask[:, 10:30, 20:50] = True
    out = paste_back(f, edited, geo, mask)
    assert (out[~mask] == f[~mask]).all()
    assert (out[mask] == 255).all()


def test_grey_model_output_into_rgb_and_bad_shapes():
    f = _clip((1, 40, 40, 3))
    m, geo = to_model(f, None, 20)
    grey = np.full(m.shape[:3], 7, np.uint8)
    mask = np.zeros(f.shape[:3], bool)
    mask[0, 5, 5] = True
    out = paste_back(f, grey, geo, mask)
    assert (out[0, 5, 5] == 7).all() and (out[~mask] == f[~mask]).all()
    with pytest.raises(BadOption):
        paste_back(f, grey[:, :10], geo, mask)
    with pytest.raises(BadOption):
        to_model(f, (10, 10, 0, 5), 20)
