"""FID and FVD with the real pretrained networks on real lung clips."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from sonosynth.metrics import corrupt
from sonosynth.metrics import fid as fidm
from sonosynth.metrics import fvd as fvdm
from sonosynth.metrics.frechet import frechet_distance


@pytest.fixture(scope="module")
def clips(shared_data):
    from sonosynth.metrics.clips import read_grey

    torch.set_num_threads(1)
    names = ["convex_Reg_pat4Image_140705.mpeg", "convex_Cov_convex_volpecelli_sonographic_v5.mov"]
    return [read_grey(shared_data / "lung" / n) for n in names]


def test_fid_of_a_set_with_itself_is_zero_and_other_sets_are_far(clips):
    a = [f for f in fidm.sample_frames(clips[0], 6)]
    b = [f for f in fidm.sample_frames(clips[1], 6)]
    fa, fb = fidm.fid_features(a), fidm.fid_features(b)
    assert fa.shape == (6, 2048) and np.isfinite(fa).all()
    assert frechet_distance(fa, fa) == pytest.approx(0.0, abs=1e-6)
    assert frechet_distance(fa, fb) > 50
    # RGB input that is grey gives the same features as grey input
    rgb = fidm.fid_features([np.repeat(a[0][..., None], 3, -1)])
    np.testing.assert_allclose(rgb[0], fa[0], atol=1e-4)


def test_fvd_grows_as_clips_are_corrupted(clips):
    """A small version of benchmarks/metrics_sanity.py: 4 real windows vs their noisy/shuffled copies."""
    wins = fvdm.windows(clips[0], 4)
    real = fvdm.i3d_features(wins)
    assert real[0].shape == (4, 400) and real[1].shape == (4, 1024)
    for name in ("noise", "shuffled frames"):
        fn = corrupt.CORRUPTIONS[name]
        scores = [fvdm.fvd_from_features(real, fvdm.i3d_features([fn(w, lv, 1) for w in wins]))["fvd"] for lv in (0.3, 1.0)]
        assert 0 < scores[0] < scores[1], (name, scores)


def test_windows_protocol(clips):
    w = fvdm.windows(clips[0], 3)
    assert len(w) == 3 and all(x.shape == (16, 370, 370) for x in w)
    np.testing.assert_array_equal(w[0], clips[0][:16])
    np.testing.assert_array_equal(w[-1], clips[0][-16:])
    x = fvdm.to_input(w[0])
    assert tuple(x.shape) == (3, 16, 224, 224) and float(x.min()) >= -1 and float(x.max()) <= 1
    from sonosynth.errors import BadOption

    with pytest.raises(BadOption, match="16 frames"):
        fvdm.windows(clips[0][:10])
