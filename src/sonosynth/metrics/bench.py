"""Shared by benchmarks/metrics_*.py: features of clip sets, graded corruptions, the printed table.

Each clip contributes `windows` evenly spaced 16-frame windows (FVD) and frames 0 and 8 of each
window (FID), so that a corruption applied to the windows reaches both metrics alike.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from .corrupt import CORRUPTIONS
from .fvd import windows as clip_windows


def load_windows(paths: list[Path], per_clip: int) -> list[np.ndarray]:
    from .clips import read_grey

    out = []
    for p in paths:
        clip = read_grey(p)
        if len(clip) >= 16:
            out += clip_windows(clip, per_clip)
    return out


def features(wins: list[np.ndarray], domain_weights: Path | None = None) -> dict:
    from .fid import fid_features
    from .fvd import i3d_features

    logits, pooled = i3d_features(wins)
    out = {"fid": fid_features([w[i] for w in wins for i in (0, 8)], total=2 * len(wins)), "logits": logits, "pooled": pooled}
    if domain_weights is not None:
        from .domain import domain_features

        out["domain"] = domain_features(wins, domain_weights)
    return out


def compare(a: dict, b: dict) -> dict:
    from .frechet import frechet_distance, kid

    row = {
        "FID": frechet_distance(a["fid"], b["fid"]),
        "KID": kid(a["fid"], b["fid"], subsets=50, subset_size=100)[0],
        "FVD": frechet_distance(a["logits"], b["logits"]),
        "FVD pooled": frechet_distance(a["pooled"], b["pooled"]),
    }
    if "domain" in a and "domain" in b:
        row["domain FVD"] = frechet_distance(a["domain"], b["domain"])
    return row


def corrupted(wins: list[np.ndarray], name: str, level: float, seed: int = 0) -> list[np.ndarray]:
    fn = CORRUPTIONS[name]
    return [fn(w, level, seed + i) for i, w in enumerate(wins)]


def corruption_curve(ref: dict, wins: list[np.ndarray], levels, names=tuple(CORRUPTIONS), domain_weights=None, log=print) -> list[dict]:
    """Rows (corruption, level, metrics...) comparing `ref` features with corrupted `wins`."""
    rows = []
    for name in names:
        for lv in levels:
            row = {"set": name, "level": lv, **compare(ref, features(corrupted(wins, name, lv), domain_weights))}
            log(format_rows([row], header=False))
            rows.append(row)
    return rows


def monotonic(rows: list[dict], metric: str = "FVD") -> dict[str, bool]:
    """For each corruption: does the metric rise strictly with the level?"""
    out = {}
    for name in dict.fromkeys(r["set"] for r in rows):
        v = [r[metric] for r in sorted((r for r in rows if r["set"] == name), key=lambda r: r["level"])]
        out[name] = bool(np.all(np.diff(v) > 0))
    return out


def format_rows(rows: list[dict], header: bool = True) -> str:
    cols = [c for c in rows[0] if c not in ("set", "level")]
    lines = []
    if header:
        lines.append(f"{'set':34s} {'level':>5s} " + " ".join(f"{c:>11s}" for c in cols))
    for r in rows:
        lv = "" if r.get("level") is None else f"{r['level']:.2f}"
        lines.append(f"{r['set']:34s} {lv:>5s} " + " ".join(f"{r[c]:11.4g}" for c in cols))
    return "\n".join(lines)
