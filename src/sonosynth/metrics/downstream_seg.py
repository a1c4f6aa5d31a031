"""Downstream segmentation: does a segmenter see the same anatomy in a real frame and its translation?

A small MONAI 2D U-Net is trained on the nerve/vessel images (`nerve/images` + `masks`, classes 1
and 2) and scored two ways (Tomic et al.): Dice to the hand masks of the 40 held-apart `test/`
images, and Dice between its segmentation of each real test image and of a processed version of
it. The processed versions are the user's (`processed`: a folder of images named as in
`test/images`, e.g. translated frames) and, as a scale to read that number against, fixed
reference processings: identity, blur, noise, JPEG, and colour flow painted on and left
untranslated (luminance of `paint_cfd`). Every number is per seed, then mean and 95 % CI.
"""
from __future__ import annotations

import dataclasses
from pathlib import Path

import cv2
import numpy as np

from ..errors import BadOption, UnreadableInput
from ..progress import progress
from .stats import summary

CLASSES = (1, 2)


@dataclasses.dataclass(frozen=True)
class SegConfig:
    size: int = 128
    channels: tuple[int, ...] = (16, 32, 64, 128)
    epochs: int = 40
    batch: int = 8
    lr: float = 2e-3
    seeds: tuple[int, ...] = (0, 1, 2)

    @classmethod
    def small(cls) -> "SegConfig":
        return cls()

    @classmethod
    def full(cls) -> "SegConfig":
        return cls(size=256, channels=(32, 64, 128, 256, 512), epochs=80, seeds=(0, 1, 2, 3, 4))


def _read(path: Path, flags=cv2.IMREAD_GRAYSCALE) -> np.ndarray:
    img = cv2.imread(str(path), flags)
    if img is None:
        raise UnreadableInput(f"{path}: cannot read image")
    return img


def _read_labels(path: Path) -> np.ndarray:
    """Class indices of a label PNG (palette PNGs hold indices; cv2 would turn them into greys)."""
    from PIL import Image

    try:
        with Image.open(path) as im:
            labels = np.asarray(im if im.mode in ("P", "L") else im.convert("L"))
    except OSError as e:
        raise UnreadableInput(f"{path}: cannot read mask ({e})") from e
    if labels.max() > max(CLASSES):
        raise UnreadableInput(f"{path}: mask has label {labels.max()}, expected 0..{max(CLASSES)}")
    return labels


def load_split(folder: Path) -> tuple[list[str], list[np.ndarray], list[np.ndarray]]:
    """Names, images (H,W) uint8 and label masks of images/ + masks/ in `folder` (sizes vary)."""
    names = sorted(p.name for p in (folder / "images").glob("*.png"))
    if not names:
        raise UnreadableInput(f"{folder / 'images'}: no PNG images")
    imgs = [_read(folder / "images" / n) for n in names]
    masks = [_read_labels(folder / "masks" / n) for n in names]
    return names, imgs, masks


def _to_input(imgs: list[np.ndarray], size: int) -> np.ndarray:
    small = np.stack([cv2.resize(i, (size, size), interpolation=cv2.INTER_AREA) for i in imgs])
    return small[:, None].astype(np.float32) / 127.5 - 1.0


def dice(a: np.ndarray, b: np.ndarray) -> float:
    """Mean Dice over the structure classes; a class absent from both counts as 1."""
    out = []
    for c in CLASSES:
        x, y = a == c, b == c
        s = x.sum() + y.sum()
        out.append(1.0 if s == 0 else 2.0 * (x & y).sum() / s)
    return float(np.mean(out))


def train(imgs: np.ndarray, masks: np.ndarray, cfg: SegConfig, seed: int):
    import torch
    from monai.losses import DiceCELoss
    from monai.networks.nets import UNet

    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    model = UNet(2, 1, 1 + len(CLASSES), cfg.channels, (2,) * (len(cfg.channels) - 1), num_res_units=1)
    x = _to_input(imgs, cfg.size)
    y = np.stack([cv2.resize(m, (cfg.size, cfg.size), interpolation=cv2.INTER_NEAREST) for m in masks])[:, None].astype(np.int64)
    loss_fn = DiceCELoss(to_onehot_y=True, softmax=True)
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, cfg.epochs)
    for _ in progress(range(cfg.epochs), desc=f"U-Net seed {seed}", unit="epoch"):
        model.train()
        order = rng.permutation(len(x))
        for i in range(0, len(order), cfg.batch):
            ids = order[i : i + cfg.batch]
            xb, yb = x[ids], y[ids]
            if rng.random() < 0.5:  # gain jitter: scanners differ in brightness
                xb = np.clip((xb + 1) * rng.uniform(0.8, 1.2) - 1, -1, 1)
            loss = loss_fn(model(torch.from_numpy(xb)), torch.from_numpy(yb))
            opt.zero_grad()
            loss.backward()
            opt.step()
        sched.step()
    return model.eval()


def segment(model, imgs: list[np.ndarray], size: int) -> list[np.ndarray]:
    """Label maps at the images' own resolution (logits resized bilinearly, then argmax)."""
    import torch
    import torch.nn.functional as F

    out = []
    with torch.no_grad():
        for i in range(0, len(imgs), 8):
            logits = model(torch.from_numpy(_to_input(imgs[i : i + 8], size)))
            for img, lg in zip(imgs[i : i + 8], logits):
                lg = F.interpolate(lg[None], size=img.shape, mode="bilinear", align_corners=False)
                out.append(lg[0].argmax(0).numpy().astype(np.uint8))
    return out


def reference_processings(imgs: list[np.ndarray], seed: int = 0) -> dict[str, list[np.ndarray]]:
    """Fixed processings giving a scale for the real-vs-processed Dice."""
    rng = np.random.default_rng(seed)
    noise = [np.clip(i + rng.normal(0, 10, i.shape), 0, 255).astype(np.uint8) for i in imgs]
    blur = [cv2.GaussianBlur(i, (0, 0), 1.5) for i in imgs]
    jpeg = [cv2.imdecode(cv2.imencode(".jpg", i, [cv2.IMWRITE_JPEG_QUALITY, 30])[1], cv2.IMREAD_GRAYSCALE) for i in imgs]
    out = {"identity": imgs, "blur sigma 1.5": blur, "noise sigma 10": noise, "JPEG q30": jpeg}
    try:
        from ..synth.overlay import paint_cfd
        from ..clip import Clip
    except ImportError:
        return out
    cfd = [Clip(paint_cfd(i[None], seed=seed + k)[0]).grey()[0] for k, i in enumerate(imgs)]
    out["CFD painted, untranslated"] = cfd
    return out


def load_processed(folder: Path, names: list[str], like: list[np.ndarray]) -> list[np.ndarray]:
    imgs = []
    for n, ref in zip(names, like):
        p = folder / n
        if not p.is_file():
            raise UnreadableInput(f"processed folder lacks {n} (it needs one image per test image, same names)")
        img = _read(p)
        if img.shape != ref.shape:
            img = cv2.resize(img, (ref.shape[1], ref.shape[0]), interpolation=cv2.INTER_AREA)
        imgs.append(img)
    return imgs


def run_segmentation(data: Path, cfg: SegConfig, processed: Path | None = None, log=print) -> dict:
    if not (data / "images").is_dir() or not (data / "test" / "images").is_dir():
        raise BadOption(f"{data} must hold images/, masks/ and test/images, test/masks")
    _, tr_img, tr_mask = load_split(data)
    names, te_img, te_mask = load_split(data / "test")
    versions = reference_processings(te_img)
    if processed is not None:
        versions["user processed"] = load_processed(processed, names, te_img)
    per_seed = []
    for seed in cfg.seeds:
        model = train(tr_img, tr_mask, cfg, seed)
        seg_real = segment(model, te_img, cfg.size)
        row = {"seed": seed, "dice_to_hand_masks": float(np.mean([dice(s, m) for s, m in zip(seg_real, te_mask)]))}
        for name, imgs in versions.items():
            seg = segment(model, imgs, cfg.size)
            row[f"dice real vs {name}"] = float(np.mean([dice(a, b) for a, b in zip(seg_real, seg)]))
        per_seed.append(row)
        log(f"seed {seed}: " + ", ".join(f"{k} {v:.3f}" for k, v in row.items() if k != "seed"))
    keys = [k for k in per_seed[0] if k != "seed"]
    return {
        "task": "nerve/vessel segmentation (2 classes), Dice",
        "protocol": {**dataclasses.asdict(cfg), "n_train": len(tr_img), "n_test": len(te_img),
                     "model": "MONAI U-Net 2D", "dice": "mean over classes 1, 2 at full resolution"},
        "per_seed": per_seed,
        "table": {k: summary([r[k] for r in per_seed]) for k in keys},
    }
