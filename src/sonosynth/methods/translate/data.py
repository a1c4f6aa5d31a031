"""Training samples for the translation model: greyscale clips in, (frames, holes) windows out.

No paired data is needed: holes come from the synthesiser's CFD-shaped training masks, and the
truth under them is the clip itself. Every sample is drawn from a generator seeded by its global
index, so a resumed run sees exactly the samples an uninterrupted one would.
"""
from __future__ import annotations

import csv
import math
from pathlib import Path
from typing import Iterator, Sequence

import cv2
import numpy as np
import torch
from torch.utils.data import Dataset, Sampler

from ...errors import BadOption, UserError
from ...progress import progress
from .align import aligned_nearest_visible

CLIP_SUFFIXES = {".mp4", ".avi", ".mov", ".mpeg", ".mpg", ".mkv", ".gif", ".dcm", ".npz", ".mha", ".mhd"}


def list_training_clips(data: str | Path, exclude: Sequence[str] = ()) -> list[Path]:
    """Clips in a folder (recursively) or named in a manifest (.txt: one path a line; .csv: a `file` column)."""
    data = Path(data)
    excluded = set(exclude)
    if data.is_dir():
        paths = sorted(p for p in data.rglob("*") if p.suffix.lower() in CLIP_SUFFIXES)
    elif data.suffix.lower() in (".csv", ".txt"):
        paths = [data.parent / name for name in _manifest(data)]
    else:
        raise BadOption(f"--data must be a folder of clips or a .txt/.csv manifest, got {data}")
    paths = [p for p in paths if p.name not in excluded]
    if not paths:
        raise BadOption(f"no training clips found in {data}")
    return paths


def _manifest(path: Path) -> list[str]:
    """The clip names a manifest lists (.txt: one a line; .csv: its `file` column), relative to its folder."""
    try:
        if path.suffix.lower() == ".txt":
            return [line.strip() for line in path.read_text().splitlines() if line.strip()]
        with path.open(newline="") as f:
            rows = csv.DictReader(f)
            if "file" not in (rows.fieldnames or []):
                raise BadOption(f"manifest {path} has no 'file' column (columns: {', '.join(rows.fieldnames or [])})")
            return [row["file"].strip() for row in rows if (row["file"] or "").strip()]
    except (OSError, UnicodeDecodeError, csv.Error) as e:
        raise BadOption(f"cannot read manifest {path}: {getattr(e, 'strerror', None) or e}") from None


class ClipBank:
    """Greyscale training clips held in memory with the box where crops may be taken (the scan sector)."""

    def __init__(self, paths: Sequence[Path], max_frames: int = 400):
        from ...io import read_clip
        from ...preprocess.sector import sector_mask

        self.clips: list[np.ndarray] = []
        self.regions: list[tuple[int, int, int, int]] = []
        self.names: list[str] = []
        for path in progress(paths, desc="loading clips", unit="clip"):
            try:
                clip = read_clip(path)
            except UserError as e:  # the readers' messages mostly name the file already
                raise BadOption(f"training clip {e}" if str(path) in str(e) else f"training clip {path}: {e}") from None
            grey = clip.grey()[:max_frames]
            ys, xs = np.nonzero(sector_mask(clip))
            if len(ys) == 0:
                y0, y1, x0, x1 = 0, grey.shape[1], 0, grey.shape[2]
            else:
                y0, y1, x0, x1 = ys.min(), ys.max() + 1, xs.min(), xs.max() + 1
            self.clips.append(grey)
            self.regions.append((int(y0), int(y1), int(x0), int(x1)))
            self.names.append(Path(path).name)
        self.weights = np.array([len(c) for c in self.clips], dtype=np.float64)
        self.weights /= self.weights.sum()


def _segment(clip: np.ndarray, start: int, length: int) -> np.ndarray:
    """`length` frames from `start`, played back and forth (ping-pong) when the clip is shorter."""
    T = len(clip)
    if T == 1:
        return np.repeat(clip, length, axis=0)
    period = 2 * (T - 1)
    idx = (start + np.arange(length)) % period
    idx = np.where(idx < T, idx, period - idx)
    return clip[idx]


def _augment(seg: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Rotation, flips, gain/contrast and noise: variations a scanner and probe produce."""
    seg = seg.astype(np.float32)
    if rng.random() < 0.5:
        seg = seg[:, :, ::-1]
    angle = rng.uniform(-10, 10)
    if abs(angle) > 0.5:
        h, w = seg.shape[1:]
        seg = _warp(seg, [cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)] * len(seg))
    gain = rng.uniform(0.8, 1.2)
    gamma = rng.uniform(0.8, 1.25)
    seg = 255.0 * (np.clip(seg * gain, 0, 255) / 255.0) ** gamma
    seg = seg + rng.normal(0, rng.uniform(0, 3), size=seg.shape).astype(np.float32)
    return np.clip(seg, 0, 255)


def _warp(seg: np.ndarray, matrices) -> np.ndarray:
    """Each frame through its own 2×3 affine matrix (bilinear, mirrored borders)."""
    h, w = seg.shape[1:]
    return np.stack([cv2.warpAffine(f, m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
                     for f, m in zip(seg, matrices)])


def tissue_motion(seg: np.ndarray, rng: np.random.Generator, max_shift: float = 3.0) -> np.ndarray:
    """Smooth tissue motion under a fixed colour box: each frame shifted, scaled and turned a little along a
    slow periodic path (breathing, heartbeat, a hand-held probe). The holes stay where they are, so a
    pixel copied from another frame is no longer exactly right and the network learns when to trust it."""
    T, h, w = seg.shape
    period = rng.uniform(8, 40)
    phase = rng.uniform(0, 2 * np.pi, size=4)
    amp = rng.uniform(0, max_shift, size=2)
    wave = np.sin(2 * np.pi * np.arange(T)[:, None] / period + phase)  # (T, 4): x, y, zoom, turn
    dx, dy = amp[0] * wave[:, 0], amp[1] * wave[:, 1]
    zoom = 1.0 + rng.uniform(0, 0.04) * wave[:, 2]
    turn = rng.uniform(0, 2.0) * wave[:, 3]
    matrices = []
    for i in range(T):
        m = cv2.getRotationMatrix2D((w / 2, h / 2), float(turn[i]), float(zoom[i]))
        m[:, 2] += (dx[i], dy[i])
        matrices.append(m)
    return _warp(seg, matrices)


def through_h264(seg: np.ndarray, holes: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """What the network sees of a window recorded as an .mp4: the holes painted in flow colours, H.264 at a
    random quality (crf 18-30), decoded to luminance. The codec rings at the colour's edge and
    shakes the tissue around it from frame to frame; the loss still compares with the clean frames."""
    from ...io.video import h264_luminance
    from ...synth.overlay import VELOCITY_LUT

    T, h, w = seg.shape
    grey = np.clip(np.rint(seg), 0, 255).astype(np.uint8)
    speed = cv2.GaussianBlur(rng.random((h, w)).astype(np.float32), (0, 0), 3.0)
    speed = (speed - speed.min()) / max(float(np.ptp(speed)), 1e-6)
    velocity = rng.choice([-1.0, 1.0]) * (0.2 + 0.8 * speed)
    colour = VELOCITY_LUT[np.rint((velocity + 1.0) * 127.5).astype(np.int64)].astype(np.uint8)
    rgb = np.repeat(grey[..., None], 3, axis=-1)
    rgb[holes] = np.broadcast_to(colour, (T, h, w, 3))[holes]
    return h264_luminance(rgb, crf=int(rng.integers(18, 31)))


class TranslateSamples(Dataset):
    """Sample i: a window of 2·horizon+2 frames of one clip, cropped, augmented, with training holes.
    "frames" is the truth; "seen" is what the network is given (the same, or the frames through H.264);
    with `align`, "priors" holds the two centre frames' copies moved with the optical flow, as at inference."""

    def __init__(self, bank: ClipBank, crop: int, horizon: int, seed: int, temporal_dropout: float, length: int,
                 motion: float = 0.0, codec: float = 0.0, align: bool = False):
        self.bank, self.crop, self.horizon, self.seed = bank, crop, horizon, seed
        self.temporal_dropout, self.length, self.motion, self.codec = temporal_dropout, length, motion, codec
        self.align = align

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        from ...synth.masks import training_masks

        rng = np.random.default_rng([self.seed, int(index)])
        k = int(rng.choice(len(self.bank.clips), p=self.bank.weights))
        clip, (y0, y1, x0, x1) = self.bank.clips[k], self.bank.regions[k]
        L = 2 * self.horizon + 2
        scale = rng.uniform(0.7, 1.3)
        side = int(round(self.crop * scale))
        side = max(8, min(side, y1 - y0, x1 - x0, clip.shape[1], clip.shape[2]))
        cy = int(rng.integers(y0, max(y0 + 1, y1 - side + 1)))
        cx = int(rng.integers(x0, max(x0 + 1, x1 - side + 1)))
        seg = _segment(clip, int(rng.integers(0, max(1, len(clip)))), L)[:, cy:cy + side, cx:cx + side]
        if side != self.crop:
            seg = np.stack([cv2.resize(f, (self.crop, self.crop), interpolation=cv2.INTER_AREA) for f in seg])
        seg = _augment(seg, rng)
        if self.motion > 0 and rng.random() < self.motion:  # no draw at all when off: older runs replay exactly
            seg = tissue_motion(seg, rng)
        holes = training_masks(L, self.crop, self.crop, rng, grey=seg.astype(np.uint8))
        seen = seg
        if self.codec > 0 and rng.random() < self.codec:  # as with motion: no draw when off
            seen = through_h264(seg, holes, rng)
        sample = {
            "frames": torch.from_numpy(seg / 127.5 - 1.0).float(),
            "seen": torch.from_numpy(seen / 127.5 - 1.0).float(),
            "holes": torch.from_numpy(np.ascontiguousarray(holes)),
            "temporal": torch.tensor(rng.random() >= self.temporal_dropout),
        }
        if self.align:
            grey = np.clip(np.rint(seen), 0, 255).astype(np.uint8)
            centre = range(self.horizon, self.horizon + 2)
            sample["priors"] = torch.from_numpy(np.stack(aligned_nearest_visible(grey, holes, centre, self.horizon, None), 1))
        return sample


class EpochSampler(Sampler[int]):
    """Global sample numbers for one epoch and one rank: epoch e, rank r take e·n·world + r + k·world.

    Rank and world size are read when an epoch starts, from the process group if there is one: under
    DDP the processes are started (and the group formed) only inside `Trainer.fit`, after the sampler
    is made, so numbers fixed at construction would leave every rank drawing the same samples."""

    def __init__(self, per_rank: int, rank: int = 0, world: int = 1):
        self.per_rank, self.rank, self.world, self.epoch = per_rank, rank, world, 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __iter__(self) -> Iterator[int]:
        if torch.distributed.is_available() and torch.distributed.is_initialized():
            self.rank, self.world = torch.distributed.get_rank(), torch.distributed.get_world_size()
        base = self.epoch * self.per_rank * self.world + self.rank
        return iter(base + k * self.world for k in range(self.per_rank))

    def __len__(self) -> int:
        return self.per_rank


def epochs_for(steps: int, ckpt_every: int) -> int:
    """Training runs in epochs of `ckpt_every` steps so that each checkpoint is an exact resume point."""
    return max(1, math.ceil(steps / ckpt_every))
