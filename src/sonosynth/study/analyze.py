"""Statistics of a reader study: can raters tell synthetic from real, and how real do clips look?

Accuracy with 95 % Wilson intervals and a two-sided exact binomial test against 50 %
(chance, since cases are balanced); sensitivity (synthetic called synthetic) and
specificity (real called real); agreement between raters (Fleiss' kappa over the cases
every rater answered, Cohen's kappa for each pair); realism 1-5 of real vs synthetic
(means and a two-sided Mann-Whitney U); accuracy at each confidence level.
"""
from __future__ import annotations

import itertools
import math
from collections import defaultdict

import numpy as np
from scipy import stats

from .db import CONFIDENCE_LEVELS

Z95 = 1.959963984540054


def wilson(k: int, n: int, z: float = Z95) -> tuple[float, float] | None:
    """Wilson score interval for k successes in n trials (None when n == 0)."""
    if n == 0:
        return None
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def proportion(k: int, n: int, test_chance: bool = False) -> dict:
    """k of n with its Wilson interval, and optionally the exact binomial p against 0.5."""
    out = {"k": int(k), "n": int(n), "rate": k / n if n else None, "ci95": wilson(k, n)}
    if test_chance:
        out["p_vs_chance"] = float(stats.binomtest(k, n, 0.5).pvalue) if n else None
    return out


def cohen_kappa(a: list[int], b: list[int]) -> float | None:
    """Cohen's kappa of two raters' binary labels on the same cases (None if undefined)."""
    a, b = np.asarray(a), np.asarray(b)
    if len(a) == 0:
        return None
    po = float(np.mean(a == b))
    pe = float(np.mean(a) * np.mean(b) + (1 - np.mean(a)) * (1 - np.mean(b)))
    return None if pe >= 1 else (po - pe) / (1 - pe)


def fleiss_kappa(counts: np.ndarray) -> float | None:
    """Fleiss' kappa from an (items, categories) table of how many raters chose each category."""
    counts = np.asarray(counts, float)
    if counts.ndim != 2 or len(counts) == 0:
        return None
    n = counts.sum(axis=1)
    if np.any(n != n[0]) or n[0] < 2:
        return None
    n = n[0]
    p_j = counts.sum(axis=0) / counts.sum()
    p_i = ((counts * counts).sum(axis=1) - n) / (n * (n - 1))
    pe = float((p_j * p_j).sum())
    return None if pe >= 1 else (float(p_i.mean()) - pe) / (1 - pe)


def _correct(a: dict) -> int:
    return int(a["says_synthetic"] == a["synthetic"])


def _detection(answers: list[dict]) -> dict:
    """Accuracy, sensitivity and specificity for spotting synthetic clips."""
    syn = [a for a in answers if a["synthetic"]]
    real = [a for a in answers if not a["synthetic"]]
    return {
        "accuracy": proportion(sum(map(_correct, answers)), len(answers), test_chance=True),
        "sensitivity": proportion(sum(a["says_synthetic"] for a in syn), len(syn)),
        "specificity": proportion(sum(1 - a["says_synthetic"] for a in real), len(real)),
    }


def agreement(answers: list[dict]) -> dict:
    """Fleiss' kappa (cases answered by every rater) and Cohen's kappa per pair of raters."""
    by_rater: dict[str, dict[str, int]] = defaultdict(dict)
    for a in answers:
        by_rater[a["rater"]][a["case_id"]] = int(a["says_synthetic"])
    names = sorted(by_rater)
    common = set.intersection(*(set(v) for v in by_rater.values())) if names else set()
    table = np.array([[sum(1 - by_rater[r][c] for r in names), sum(by_rater[r][c] for r in names)]
                      for c in sorted(common)]).reshape(-1, 2)
    pairs = []
    for r1, r2 in itertools.combinations(names, 2):
        shared = sorted(set(by_rater[r1]) & set(by_rater[r2]))
        pairs.append({"raters": [r1, r2], "n": len(shared),
                      "kappa": cohen_kappa([by_rater[r1][c] for c in shared], [by_rater[r2][c] for c in shared])})
    return {"fleiss_kappa": fleiss_kappa(table) if len(names) >= 2 else None,
            "fleiss_cases": len(common) if len(names) >= 2 else 0, "cohen_pairs": pairs}


def realism(answers: list[dict]) -> dict:
    """Realism 1-5 of real vs synthetic clips: counts, means, SDs and a two-sided Mann-Whitney U."""
    out = {}
    groups = {"real": [a["realism"] for a in answers if not a["synthetic"]],
              "synthetic": [a["realism"] for a in answers if a["synthetic"]]}
    for name, vals in groups.items():
        v = np.asarray(vals, float)
        out[name] = {"n": len(v), "mean": float(v.mean()) if len(v) else None,
                     "sd": float(v.std(ddof=1)) if len(v) > 1 else None,
                     "counts": [int((v == s).sum()) for s in range(1, 6)]}
    if groups["real"] and groups["synthetic"] and len(set(groups["real"] + groups["synthetic"])) > 1:
        u = stats.mannwhitneyu(groups["synthetic"], groups["real"], alternative="two-sided")
        out["mann_whitney"] = {"U_synthetic_vs_real": float(u.statistic), "p": float(u.pvalue)}
    else:
        out["mann_whitney"] = None
    return out


def by_confidence(answers: list[dict]) -> list[dict]:
    """Accuracy at each confidence level: do raters know when they know?"""
    rows = []
    for level, label in CONFIDENCE_LEVELS.items():
        sub = [a for a in answers if a["confidence"] == level]
        rows.append({"confidence": level, "label": label, **proportion(sum(map(_correct, sub)), len(sub))})
    return rows


def summarise(answers: list[dict], progress: list[dict] | None = None) -> dict:
    """Every statistic of the study, as plain JSON-able data."""
    raters = sorted({a["rater"] for a in answers} | {p["name"] for p in progress or []})
    per_rater = []
    for name in raters:
        mine = [a for a in answers if a["rater"] == name]
        per_rater.append({"rater": name, **_detection(mine),
                          "median_seconds": float(np.median([a["seconds"] for a in mine])) if mine else None})
    return {
        "n_answers": len(answers),
        "n_cases": len({a["case_id"] for a in answers}),
        "overall": _detection(answers),
        "per_rater": per_rater,
        "agreement": agreement(answers),
        "realism": realism(answers),
        "confidence": by_confidence(answers),
        "progress": progress or [],
    }


def _pct(block: dict) -> str:
    if block["rate"] is None:
        return "n/a (no answers)"
    lo, hi = block["ci95"]
    s = f"{100 * block['rate']:.1f} % ({block['k']}/{block['n']}; 95 % CI {100 * lo:.1f}-{100 * hi:.1f} %"
    return s + (f"; binomial p = {block['p_vs_chance']:.3g})" if "p_vs_chance" in block else ")")


def _num(x: float | None, fmt: str = ".3f") -> str:
    return "n/a" if x is None else format(x, fmt)


def text_report(s: dict) -> str:
    """The summary as plain text (printed by the CLI, written as report.md)."""
    o = s["overall"]
    lines = [f"Answers: {s['n_answers']} on {s['n_cases']} cases",
             f"Accuracy: {_pct(o['accuracy'])}",
             f"Sensitivity (synthetic called synthetic): {_pct(o['sensitivity'])}",
             f"Specificity (real called real): {_pct(o['specificity'])}", "", "Per rater:"]
    for r in s["per_rater"]:
        lines.append(f"  {r['rater']}: accuracy {_pct(r['accuracy'])}; sensitivity {_num(r['sensitivity']['rate'])}, "
                     f"specificity {_num(r['specificity']['rate'])}; median {_num(r['median_seconds'], '.1f')} s/case")
    ag = s["agreement"]
    lines += ["", f"Fleiss kappa: {_num(ag['fleiss_kappa'])} over {ag['fleiss_cases']} cases rated by all"]
    lines += [f"  Cohen kappa {p['raters'][0]} vs {p['raters'][1]}: {_num(p['kappa'])} (n = {p['n']})"
              for p in ag["cohen_pairs"]]
    re = s["realism"]
    lines += ["", "Realism (1-5): " + "; ".join(
        f"{k} mean {_num(re[k]['mean'], '.2f')} (SD {_num(re[k]['sd'], '.2f')}, n = {re[k]['n']})" for k in ("real", "synthetic"))]
    mw = re["mann_whitney"]
    lines.append(f"  Mann-Whitney U = {mw['U_synthetic_vs_real']:.1f}, p = {mw['p']:.3g}" if mw else "  Mann-Whitney: n/a")
    lines += ["", "Accuracy by confidence:"]
    lines += [f"  {c['confidence']} ({c['label']}): {_pct(c)}" for c in s["confidence"]]
    return "\n".join(lines) + "\n"
