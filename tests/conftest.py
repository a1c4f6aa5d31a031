"""Shared fixtures: the real data beside the project (skipped when absent) and pydicom's examples."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("SONOSYNTH_SHARED_DATA", ROOT.parent / "shared" / "data"))


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """../shared/data, or skip: a user's machine will not have it."""
    if not SHARED_DATA.is_dir():
        pytest.skip("../shared/data is not present")
    return SHARED_DATA


@pytest.fixture(scope="session")
def pydicom_file():
    """Path of one of pydicom's bundled test files, by name."""
    from pydicom.data import get_testdata_file

    def get(name: str) -> Path:
        p = get_testdata_file(name)
        if p is None:
            pytest.skip(f"pydicom test file {name} not available")
        return Path(p)

    return get


@pytest.fixture(scope="session")
def tiny_weights(tmp_path_factory):
    """An untrained tiny translation generator saved as weights: the real pipeline without a trained model."""
    import torch

    from sonosynth.methods.translate.config import TranslateConfig
    from sonosynth.methods.translate.model import Generator
    from sonosynth.methods.translate.weights import save_weights

    cfg = TranslateConfig.tiny()
    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("w") / "tiny.safetensors"
    save_weights(Generator(cfg).state_dict(), cfg, path, card={"name": "tiny-untrained"})
    return path


@pytest.fixture(scope="session")
def clip_folder(tmp_path_factory):
    """Three small greyscale training clips with speckle-like texture and dark blobs, as real .npz files."""
    import numpy as np

    from sonosynth.clip import Clip
    from sonosynth.io import write_clip

    folder = tmp_path_factory.mktemp("clips")
    rng = np.random.default_rng(0)
    for k in range(3):
        base = rng.gamma(2.0, 40.0, (48, 48)).clip(0, 255)
        base[14:30, 10:26] *= 0.15
        frames = np.stack([np.roll(base, t, axis=1) for t in range(10)]).astype(np.uint8)
        write_clip(Clip(frames, fps=20.0), folder / f"clip{k}.npz")
    return folder


@pytest.fixture(scope="session")
def painted_speckle():
    """Builds (grey, cfd, mask, truth): speckle-like greyscale frames with a dark vessel-like region, sliding
    sideways a pixel a frame (period 4), and colour flow painted on them by the synthesiser."""
    import numpy as np

    from sonosynth.synth.overlay import paint_cfd

    def build(shape=(64, 80), frames: int = 12, seed: int = 2, paint_seed: int = 1):
        rng = np.random.default_rng(seed)
        base = rng.gamma(2.0, 35.0, shape).clip(0, 255)
        h, w = shape
        base[h // 4:h * 11 // 16, w // 8:w * 3 // 4] *= 0.2
        grey = np.stack([np.roll(base, t % 4, axis=1) for t in range(frames)]).astype(np.uint8)
        cfd, mask, truth = paint_cfd(grey, seed=paint_seed, fps=20.0)
        return grey, cfd, mask, truth

    return build
