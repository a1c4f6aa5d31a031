"""The evaluation report: metrics.json plus a self-contained index.html (plots embedded as PNG).

The HTML states the protocol of every number (frames, resize, N, network, weights sha256),
shows per-clip distributions of the paired scores and the best and worst pairs side by side,
and repeats every sample-size or availability warning. The folder is written to a temporary
sibling and renamed into place, so a failure leaves nothing half-written.
"""
from __future__ import annotations

import base64
import html
import io
import json
import math
import os
from pathlib import Path

import numpy as np

from ..io.atomic import atomic_folder, check_replaceable_folder

HIGHER_IS_BETTER = {"ssim", "ms_ssim", "psnr"}


def _png(fig) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90, bbox_inches="tight")
    import matplotlib.pyplot as plt

    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


def json_safe(x):
    """JSON-safe copy: numpy scalars to Python, inf/NaN to strings JSON can hold."""
    if isinstance(x, dict):
        return {k: json_safe(v) for k, v in x.items() if not k.startswith("_")}
    if isinstance(x, (list, tuple)):
        return [json_safe(v) for v in x]
    if isinstance(x, (np.floating, float)):
        x = float(x)
        return x if math.isfinite(x) else str(x)
    if isinstance(x, np.integer):
        return int(x)
    return x


def _distribution_plots(per_clip: list[dict]) -> list[tuple[str, str]]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    keys = list(dict.fromkeys(k for c in per_clip for k in c if k not in ("clip", "frames")))
    out = []
    for k in keys:
        v = np.array([c.get(k, np.nan) for c in per_clip], float)
        v = v[np.isfinite(v)]
        if not len(v):
            continue
        fig, ax = plt.subplots(figsize=(4, 2.4))
        ax.hist(v, bins=min(20, max(5, len(v))), color="#4a7ab5")
        ax.set_title(f"{k} per clip (n={len(v)})")
        out.append((k, _png(fig)))
    return out


def _side_by_side(thumbs, per_clip, key: str = "ssim") -> list[tuple[str, str]]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    scored = [(c[key], t) for c, t in zip(per_clip, thumbs) if key in c and math.isfinite(c[key])]
    if not scored:
        return []
    scored.sort(key=lambda s: s[0])
    picks = [("worst", scored[0]), ("best", scored[-1])] if len(scored) > 1 else [("only", scored[0])]
    out = []
    for label, (score, (name, real, fake)) in picks:
        fig, axes = plt.subplots(1, 2, figsize=(6, 3))
        for ax, img, title in zip(axes, (real, fake), ("real", "fake")):
            ax.imshow(img, cmap="gray", vmin=0, vmax=255)
            ax.set_title(title)
            ax.axis("off")
        fig.suptitle(f"{label} {key}: {name} ({score:.3f})", fontsize=9)
        out.append((f"{label}: {name}", _png(fig)))
    return out


def _table(rows: dict) -> str:
    body = "".join(f"<tr><td>{html.escape(str(k))}</td><td>{html.escape(_fmt(v))}</td></tr>" for k, v in rows.items())
    return f"<table>{body}</table>"


def _fmt(v) -> str:
    if isinstance(v, dict) and "mean" in v:
        ci = v.get("ci95")
        return f"{v['mean']:.4g}" + (f" ± {ci:.2g} (95% CI, n={v['n']})" if ci is not None and math.isfinite(ci) else f" (n={v['n']})")
    if isinstance(v, float):
        return f"{v:.4g}"
    if isinstance(v, dict):
        return "; ".join(f"{k}: {_fmt(x)}" for k, x in v.items())
    return str(v)


def render_html(results: dict) -> str:
    parts = ["<!doctype html><html><head><meta charset='utf-8'><title>sonosynth evaluation</title>",
             "<style>body{font-family:sans-serif;max-width:1000px;margin:2em auto}table{border-collapse:collapse}"
             "td{border:1px solid #ccc;padding:3px 8px}.warn{background:#fff3cd;padding:6px}</style></head><body>",
             "<h1>sonosynth evaluation</h1>",
             f"<p>{results.get('n_real_clips', '?')} real clips, {results.get('n_fake_clips', '?')} fake clips.</p>"]
    for w in results.get("warnings", []):
        parts.append(f"<p class='warn'>⚠ {html.escape(w)}</p>")
    if results.get("distribution"):
        parts += ["<h2>Distribution metrics</h2>", _table(results["distribution"])]
    if "perceptual" in results:
        p = results["perceptual"]
        parts += ["<h2>Perceptual (LPIPS, VGG)</h2>",
                  _table(p) if p.get("available") else f"<p class='warn'>Not computed: {html.escape(p['reason'])}</p>"]
    paired = results.get("paired")
    if paired:
        parts += ["<h2>Paired metrics (mean over clips)</h2>", _table(paired["summary"]), "<h3>Per-clip distributions</h3>"]
        parts += [f"<img alt='{html.escape(k)}' src='{src}'>" for k, src in _distribution_plots(paired["per_clip"])]
        parts.append("<h3>Best and worst pairs (middle frame)</h3>")
        parts += [f"<figure><img alt='{html.escape(k)}' src='{src}'><figcaption>{html.escape(k)}</figcaption></figure>"
                  for k, src in _side_by_side(results.get("_thumbs", []), paired["per_clip"])]
    parts += ["<h2>Protocol</h2>", "<pre>" + html.escape(json.dumps(json_safe(results.get("protocol", {})), indent=1)) + "</pre>"]
    parts.append("</body></html>")
    return "\n".join(parts)


REPORT_FILES = ("metrics.json", "index.html")


def write_report(results: dict, out_dir: str | os.PathLike, overwrite: bool = False) -> Path:
    """Write metrics.json and index.html into `out_dir` (refused if it exists, unless overwrite)."""
    out = check_replaceable_folder(out_dir, REPORT_FILES, "metrics report", overwrite)
    with atomic_folder(out) as work:
        (work / "metrics.json").write_text(json.dumps(json_safe(results), indent=1))
        (work / "index.html").write_text(render_html(results))
    return out
