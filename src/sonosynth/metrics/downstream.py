"""Downstream classification: does a video classifier learn from synthetic clips as from real ones?

Protocol (as LDDM Table 2 / Tomic et al.): a small MONAI 3D ResNet-18 (half width) classifies lung
clips as regular vs pathology (COVID-19, viral or bacterial pneumonia) from `lung/clips.csv`.
With only 43 clips a single split means little, so the score is clip-level stratified K-fold
cross-validation, repeated over seeds: every real clip is tested once per seed by a model that
never saw it (nor any synthetic clip made from it). A test clip's prediction averages the
softmax over evenly spaced 16-frame windows. F1 is for the pathology class.
Training sets: `real` (real training folds), `synthetic` (synthetic clips whose source is in the
training folds), `real+synthetic`. A synthetic file names its source lung clip by starting with
that clip's file stem (e.g. `convex_Reg_pat4Image_140705_seed3.mp4`) and inherits its label.
"""
from __future__ import annotations

import csv
import dataclasses
from pathlib import Path

import cv2
import numpy as np

from ..errors import BadOption, UnreadableInput
from ..progress import progress
from ..synth.holdout import is_held_out
from .clips import clip_paths, read_grey
from .stats import summary

POSITIVE = "pathology"


@dataclasses.dataclass(frozen=True)
class ClsConfig:
    size: int = 64
    frames: int = 16
    widen: float = 0.5
    epochs: int = 30
    batch: int = 8
    lr: float = 1e-3
    folds: int = 5
    seeds: tuple[int, ...] = (0, 1, 2)
    test_windows: int = 4

    @classmethod
    def small(cls) -> "ClsConfig":
        return cls()

    @classmethod
    def full(cls) -> "ClsConfig":
        return cls(size=112, widen=1.0, epochs=60, seeds=(0, 1, 2, 3, 4))


def prepare(frames: np.ndarray, size: int) -> np.ndarray:
    """(T,H,W) uint8 -> (T,size,size) float32 in [-1,1]: centre square, area resize."""
    t, h, w = frames.shape
    s = min(h, w)
    y0, x0 = (h - s) // 2, (w - s) // 2
    sq = frames[:, y0 : y0 + s, x0 : x0 + s]
    out = np.stack([cv2.resize(f, (size, size), interpolation=cv2.INTER_AREA) for f in sq])
    return out.astype(np.float32) / 127.5 - 1.0


def load_lung(data: Path, size: int) -> tuple[list[str], list[np.ndarray], np.ndarray]:
    """Names, prepared clips and labels (1 = pathology) of every lung clip in clips.csv."""
    table = data / "clips.csv"
    if not table.is_file():
        raise UnreadableInput(f"{table}: not found (the lung data folder needs clips.csv)")
    try:
        with open(table, newline="", encoding="utf-8") as f:
            rows = list(csv.DictReader(f))
    except (UnicodeDecodeError, csv.Error) as e:
        raise UnreadableInput(f"{table}: not a UTF-8 CSV table ({type(e).__name__})") from None
    if not rows or not {"file", "label"} <= set(rows[0]):
        raise UnreadableInput(f"{table}: needs a header with 'file' and 'label' columns and one row per clip")
    names = [r["file"] for r in rows]
    labels = np.array([0 if (r["label"] or "").strip().lower() == "regular" else 1 for r in rows])
    if len(set(labels.tolist())) < 2:
        raise UnreadableInput(f"{table}: every clip has one label; classifying needs clips of both (regular and pathology)")
    clips = [prepare(read_grey(data / n), size) for n in progress(names, desc="reading lung clips", unit="clip")]
    return names, clips, labels


def load_synthetic(folder: Path | None, names: list[str], labels: np.ndarray, size: int):
    """Synthetic clips with (source index, label) from the lung clip their name starts with."""
    if folder is None:
        return [], np.zeros(0, int)
    stems = sorted(((Path(n).stem, i) for i, n in enumerate(names)), key=lambda s: -len(s[0]))
    clips, sources = [], []
    for p in clip_paths(folder):
        src = next((i for stem, i in stems if p.name.startswith(stem)), None)
        if src is None:
            raise BadOption(f"synthetic clip {p.name} does not start with the name of a lung clip")
        clips.append(prepare(read_grey(p), size))
        sources.append(src)
    return clips, np.array(sources, int)


def folds(labels: np.ndarray, k: int, seed: int) -> np.ndarray:
    """Stratified fold index of each clip."""
    rng = np.random.default_rng(seed)
    out = np.empty(len(labels), int)
    for c in np.unique(labels):
        idx = rng.permutation(np.flatnonzero(labels == c))
        out[idx] = (np.arange(len(idx)) + rng.integers(k)) % k
    return out


def _window(clip: np.ndarray, t: int, start: int) -> np.ndarray:
    idx = np.clip(np.arange(start, start + t), 0, len(clip) - 1)
    return clip[idx]


def make_model(cfg: ClsConfig):
    from monai.networks.nets import ResNet

    return ResNet("basic", [2, 2, 2, 2], [64, 128, 256, 512], spatial_dims=3, n_input_channels=1,
                  conv1_t_stride=2, widen_factor=cfg.widen, num_classes=2)


def train_and_predict(train: list[np.ndarray], ytrain: np.ndarray, test: list[np.ndarray], cfg: ClsConfig, seed: int) -> np.ndarray:
    """Train from scratch on (clips, labels); return P(pathology) for each test clip."""
    return predict(train_model(train, ytrain, cfg, seed), test, cfg)


def train_model(train: list[np.ndarray], ytrain: np.ndarray, cfg: ClsConfig, seed: int):
    """A classifier trained from scratch with class-balanced sampling and flips."""
    import torch

    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    model = make_model(cfg)
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    # balanced sampling: each epoch draws as many clips of each class as the larger class has
    by_class = [np.flatnonzero(ytrain == c) for c in (0, 1) if (ytrain == c).any()]
    n_per = max(len(b) for b in by_class)
    for _ in range(cfg.epochs):
        model.train()
        order = rng.permutation(np.concatenate([rng.choice(b, n_per, replace=len(b) < n_per) for b in by_class]))
        for i in range(0, len(order), cfg.batch):
            ids = order[i : i + cfg.batch]
            xb = []
            for j in ids:
                c = train[j]
                w = _window(c, cfg.frames, int(rng.integers(max(1, len(c) - cfg.frames + 1))))
                xb.append(w[:, :, ::-1] if rng.random() < 0.5 else w)
            x = torch.from_numpy(np.ascontiguousarray(np.stack(xb)[:, None]))
            loss = torch.nn.functional.cross_entropy(model(x), torch.from_numpy(ytrain[ids]))
            opt.zero_grad()
            loss.backward()
            opt.step()
    return model.eval()


def predict(model, test: list[np.ndarray], cfg: ClsConfig) -> np.ndarray:
    """P(pathology) per clip: softmax averaged over evenly spaced windows."""
    import torch

    probs = []
    with torch.no_grad():
        for c in test:
            starts = np.linspace(0, max(0, len(c) - cfg.frames), cfg.test_windows).round().astype(int)
            x = torch.from_numpy(np.stack([_window(c, cfg.frames, s) for s in starts])[:, None])
            probs.append(float(torch.softmax(model(x), 1)[:, 1].mean()))
    return np.array(probs)


def scores(y: np.ndarray, p: np.ndarray) -> dict[str, float]:
    pred = (p >= 0.5).astype(int)
    tp = int(((pred == 1) & (y == 1)).sum())
    fp = int(((pred == 1) & (y == 0)).sum())
    fn = int(((pred == 0) & (y == 1)).sum())
    f1 = 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 1.0
    return {"f1": f1, "accuracy": float((pred == y).mean())}


def run_classification(data: Path, cfg: ClsConfig, synthetic: Path | None = None, log=print) -> dict:
    """Cross-validated F1/accuracy per training set and seed, with means and 95 % CIs."""
    names, clips, labels = load_lung(data, cfg.size)
    syn, syn_src = load_synthetic(synthetic, names, labels, cfg.size)
    sets = ["real"] + (["synthetic", "real+synthetic"] if syn else [])
    per_seed: dict[str, list[dict]] = {s: [] for s in [*sets, "real, held-out clips"]}
    for seed in cfg.seeds:
        fold = folds(labels, cfg.folds, seed)
        probs = {s: np.zeros(len(clips)) for s in sets}
        for k in progress(range(cfg.folds), desc=f"seed {seed} folds", unit="fold"):
            tr, te = np.flatnonzero(fold != k), np.flatnonzero(fold == k)
            syn_tr = [i for i, s in enumerate(syn_src) if fold[s] != k]
            pools = {
                "real": ([clips[i] for i in tr], labels[tr]),
                "synthetic": ([syn[i] for i in syn_tr], labels[syn_src[syn_tr]] if syn_tr else np.zeros(0, int)),
            }
            pools["real+synthetic"] = (pools["real"][0] + pools["synthetic"][0], np.concatenate([pools["real"][1], pools["synthetic"][1]]))
            for s in sets:
                xs, ys = pools[s]
                if len(xs) == 0:
                    raise BadOption(f"no {s} training clips in fold {k}: give synthetic clips for more sources")
                probs[s][te] = train_and_predict(xs, ys, [clips[i] for i in te], cfg, seed * 100 + k)
        # the fixed held-out clips, tested by a model trained on all the others (real only)
        hold = np.array([is_held_out(n) for n in names])
        p_hold = train_and_predict([clips[i] for i in np.flatnonzero(~hold)], labels[~hold],
                                   [clips[i] for i in np.flatnonzero(hold)], cfg, seed * 100 + 99)
        for s in sets:
            sc = scores(labels, probs[s])
            per_seed[s].append({"seed": seed, **sc})
            log(f"seed {seed} {s} (CV): F1 {sc['f1']:.3f} accuracy {sc['accuracy']:.3f}")
        sc = scores(labels[hold], p_hold)
        per_seed["real, held-out clips"].append({"seed": seed, **sc})
        log(f"seed {seed} real, held-out clips ({hold.sum()}): F1 {sc['f1']:.3f} accuracy {sc['accuracy']:.3f}")
    table = {s: {m: summary([r[m] for r in rows]) for m in ("f1", "accuracy")} for s, rows in per_seed.items()}
    return {
        "task": "lung clip classification, regular vs pathology",
        "protocol": {**dataclasses.asdict(cfg), "n_clips": len(clips), "n_pathology": int(labels.sum()),
                     "n_synthetic": len(syn), "model": "MONAI ResNet-18 3D", "split": "stratified clip-level k-fold CV"},
        "per_seed": per_seed,
        "table": table,
    }


