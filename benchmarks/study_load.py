"""Load on loopback: 20 raters answer 50 cases each at once against a real `sonosynth study serve`.

Prints answers/s and latency percentiles, and checks nothing was lost or duplicated.
Usage: python benchmarks/study_load.py [--raters 20] [--answers 50]
"""
from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from sonosynth.study import db
from sonosynth.study.create import StudyOptions, create_study
from sonosynth.study.loadgen import StudyServer, run_raters, write_demo_clips


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--raters", type=int, default=20)
    ap.add_argument("--answers", type=int, default=50)
    args = ap.parse_args()
    half = (args.answers + 1) // 2
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        write_demo_clips(root / "real", half, False)
        write_demo_clips(root / "syn", half, True)
        study = create_study(root / "real", root / "syn", root / "s", StudyOptions(raters=args.raters, cases=2 * half))
        conn = db.open_study(study)
        tokens = [r["token"] for r in db.raters(conn)]
        conn.close()
        with StudyServer(study, root / "server.log") as server:
            res = run_raters(server.url, tokens, args.answers, time_limit=300)
        conn = db.open_study(study)
        stored, distinct = conn.execute("SELECT count(*), count(DISTINCT rater_id || '-' || case_id) FROM answers").fetchone()
        conn.close()
    f = res.figures()
    print(f"raters {args.raters} x answers {args.answers} (each answer = next + clip + POST), loopback, one uvicorn worker")
    print(f"answers acknowledged {f['answers']}, stored {stored}, distinct {distinct}, "
          f"server errors {f['server_errors']}, failed connections {f['failed_connections']}")
    print(f"wall {f['wall_s']:.1f} s, {f['answers_per_s']:.1f} answers/s, {f['requests'] / f['wall_s']:.1f} requests/s")
    print(f"answer POST latency p50 {f['answer_p50_ms']:.1f} ms, p95 {f['answer_p95_ms']:.1f} ms; "
          f"all requests p50 {f['request_p50_ms']:.1f} ms, p95 {f['request_p95_ms']:.1f} ms")


if __name__ == "__main__":
    main()
