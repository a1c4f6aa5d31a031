"""Study outputs: CSV of every answer, summary JSON, text report and plots (PNG via matplotlib)."""
from __future__ import annotations

import csv
import io
import json
import threading
from datetime import datetime, timezone
from pathlib import Path

from ..errors import BadOption
from ..io.atomic import atomic_path, check_replaceable_folder
from . import db
from .analyze import summarise, text_report

CSV_FIELDS = ["answer_id", "rater", "case_id", "source", "truth", "answer", "correct", "confidence",
              "realism", "seconds", "seconds_since_first_served", "answered_at", "position"]
PLOTS = ("accuracy", "realism", "confidence")
_PLOT_LOCK = threading.Lock()  # matplotlib is not thread-safe; the server renders in a thread pool


def load(study_dir: str | Path) -> tuple[list[dict], dict]:
    """All answers (with the key) and the summary of a study folder."""
    conn = db.open_study(study_dir, read_only=True)
    try:
        answers, prog = db.all_answers(conn), db.progress(conn)
    finally:
        conn.close()
    return answers, summarise(answers, prog)


def answers_csv(answers: list[dict]) -> str:
    buf = io.StringIO()
    w = csv.DictWriter(buf, CSV_FIELDS, lineterminator="\n")
    w.writeheader()
    for a in answers:
        w.writerow({**{k: a[k] for k in CSV_FIELDS if k in a},
                    "truth": "synthetic" if a["synthetic"] else "real",
                    "answer": "synthetic" if a["says_synthetic"] else "real",
                    "correct": int(a["says_synthetic"] == a["synthetic"]),
                    "seconds": f"{a['seconds']:.3f}",
                    "seconds_since_first_served": f"{a['seconds_since_first_served']:.3f}",
                    "answered_at": datetime.fromtimestamp(a["answered_at"], timezone.utc).isoformat(timespec="seconds")})
    return buf.getvalue()


def _bar(ax, labels, blocks, colour):
    xs = range(len(labels))
    rates = [100 * (b["rate"] or 0) for b in blocks]
    err = [[max(0.0, 100 * ((b["rate"] or 0) - (b["ci95"] or (0, 0))[0])) for b in blocks],  # rounding can dip below 0
           [max(0.0, 100 * ((b["ci95"] or (0, 0))[1] - (b["rate"] or 0))) for b in blocks]]
    ax.bar(xs, rates, yerr=err, capsize=4, color=colour)
    ax.set_xticks(list(xs), labels, rotation=30 if len(labels) > 4 else 0, ha="right" if len(labels) > 4 else "center")
    ax.axhline(50, color="0.3", ls="--", lw=1)
    ax.set_ylim(0, 100)
    ax.set_ylabel("accuracy, % (95 % CI)")


def plot_png(name: str, summary: dict) -> bytes:
    """One of PLOTS as PNG bytes."""
    with _PLOT_LOCK:
        return _plot_png(name, summary)


def _plot_png(name: str, summary: dict) -> bytes:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6, 3.6), dpi=100, layout="constrained")
    ax = fig.add_subplot()
    if name == "accuracy":
        rows = summary["per_rater"]
        _bar(ax, ["all"] + [r["rater"] for r in rows], [summary["overall"]["accuracy"]] + [r["accuracy"] for r in rows],
             ["#3465a4"] + ["#729fcf"] * len(rows))
        ax.set_title("Real vs synthetic: accuracy (dashed: chance)")
    elif name == "realism":
        re = summary["realism"]
        xs = range(1, 6)
        for shift, key, colour in ((-0.2, "real", "#4e9a06"), (0.2, "synthetic", "#cc0000")):
            ax.bar([x + shift for x in xs], re[key]["counts"], width=0.4, color=colour,
                   label=f"{key} (mean {re[key]['mean']:.2f})" if re[key]["mean"] is not None else key)
        ax.set_xticks(list(xs))
        ax.set_xlabel("realism score")
        ax.set_ylabel("answers")
        ax.legend()
        ax.set_title("Realism scores")
    elif name == "confidence":
        rows = summary["confidence"]
        _bar(ax, [f"{r['label']}\n(n = {r['n']})" for r in rows], rows, "#75507b")
        ax.set_title("Accuracy by confidence")
    else:
        raise KeyError(name)
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()


REPORT_FILES = ("answers.csv", "summary.json", "report.md") + tuple(f"{p}.png" for p in PLOTS)


def check_report_folder(out: Path, overwrite: bool) -> None:
    """Write only into a new or empty folder, or (with overwrite) over a previous report: never among a user's files."""
    check_replaceable_folder(out, REPORT_FILES, "study report", overwrite)


def write_report(study_dir: str | Path, out: str | Path, overwrite: bool = False) -> dict:
    """Write answers.csv, summary.json, report.md and the plots into `out`; returns the summary."""
    out = Path(out)
    answers, summary = load(study_dir)
    check_report_folder(out, overwrite)
    contents: dict[str, bytes] = {
        "answers.csv": answers_csv(answers).encode(),
        "summary.json": json.dumps(summary, indent=2).encode(),
        "report.md": ("# Reader study\n\n```\n" + text_report(summary) + "```\n").encode(),
    }
    contents.update({f"{p}.png": plot_png(p, summary) for p in PLOTS})
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise BadOption(f"cannot create report folder {out}: {e.strerror or e}") from e
    for name, data in contents.items():
        with atomic_path(out / name, overwrite=True) as tmp:
            tmp.write_bytes(data)
    return summary
