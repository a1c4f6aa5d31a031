"""Small statistics shared by the report and the downstream tables: means with 95 % intervals."""
from __future__ import annotations

import numpy as np


def ci95(values) -> tuple[float, float]:
    """Student-t 95 % interval of the mean (NaN half-width for fewer than 2 values)."""
    v = np.asarray(values, dtype=np.float64)
    v = v[np.isfinite(v)]
    if len(v) < 2:
        m = float(v.mean()) if len(v) else float("nan")
        return m, float("nan")
    from scipy import stats

    half = float(stats.t.ppf(0.975, len(v) - 1) * v.std(ddof=1) / np.sqrt(len(v)))
    return float(v.mean()), half


def summary(values) -> dict[str, float]:
    """{'mean', 'ci95' (half-width), 'n'} of a list of per-seed (or per-clip) numbers."""
    mean, half = ci95(values)
    return {"mean": mean, "ci95": half, "n": int(np.isfinite(np.asarray(values, float)).sum())}


def bootstrap_ci(values, n_boot: int = 2000, seed: int = 0) -> tuple[float, float]:
    """Percentile bootstrap 95 % interval of the mean."""
    v = np.asarray(values, dtype=np.float64)
    v = v[np.isfinite(v)]
    if len(v) < 2:
        return float("nan"), float("nan")
    rng = np.random.default_rng(seed)
    means = v[rng.integers(0, len(v), (n_boot, len(v)))].mean(1)
    return float(np.percentile(means, 2.5)), float(np.percentile(means, 97.5))
