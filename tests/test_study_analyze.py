"""Study statistics against hand-computed and published values; the analyze and create commands."""
from __future__ import annotations

import csv
import json
import subprocess
import sys

import numpy as np
import pytest

from sonosynth.study import analyze
from sonosynth.study.create import StudyOptions, create_study
from sonosynth.study.loadgen import write_demo_clips


def test_wilson_matches_closed_form():
    lo, hi = analyze.wilson(8, 10)
    assert (round(lo, 4), round(hi, 4)) == (0.4902, 0.9433)  # Wilson (1927) interval, z = 1.96
    assert analyze.wilson(0, 0) is None and analyze.wilson(0, 5)[0] == 0.0


def test_fleiss_kappa_published_example():
    # Fleiss (1971) worked example as reproduced widely: 10 subjects, 14 raters, 5 categories -> 0.210
    table = [[0, 0, 0, 0, 14], [0, 2, 6, 4, 2], [0, 0, 3, 5, 6], [0, 3, 9, 2, 0], [2, 2, 8, 1, 1],
             [7, 7, 0, 0, 0], [3, 2, 6, 3, 0], [2, 5, 3, 2, 2], [6, 5, 2, 1, 0], [0, 2, 2, 3, 7]]
    assert round(analyze.fleiss_kappa(np.array(table)), 3) == 0.210


def test_cohen_kappa_by_hand():
    a = [1, 1, 0, 0, 1, 0, 1, 1, 0, 0]
    b = [1, 0, 0, 0, 1, 0, 1, 1, 1, 0]
    # po = 0.8, pe = 0.5*0.5 + 0.5*0.5 = 0.5 -> 0.6
    assert analyze.cohen_kappa(a, b) == pytest.approx(0.6)
    assert analyze.cohen_kappa([1, 1], [1, 1]) is None


def answers_of(truth, says, rater="r1", realism=3, confidence=2):
    return [{"rater": rater, "case_id": f"c{i}", "synthetic": t, "says_synthetic": s, "realism": realism + t,
             "confidence": confidence, "seconds": 2.0} for i, (t, s) in enumerate(zip(truth, says))]


def test_summary_numbers():
    truth = [1] * 10 + [0] * 10
    says = [1] * 8 + [0] * 2 + [0] * 6 + [1] * 4  # 8 of 10 synthetic spotted, 6 of 10 real kept
    s = analyze.summarise(answers_of(truth, says))
    assert s["overall"]["accuracy"]["rate"] == 0.7
    assert s["overall"]["accuracy"]["p_vs_chance"] == 2 * 60460 / 2**20  # 2 P(X >= 14), X ~ B(20, 1/2): sum of C(20, k), k = 14..20
    assert s["overall"]["sensitivity"]["rate"] == 0.8 and s["overall"]["specificity"]["rate"] == 0.6
    assert s["realism"]["synthetic"]["mean"] == 4 and s["realism"]["real"]["mean"] == 3
    assert s["realism"]["mann_whitney"]["p"] < 1e-3
    assert s["confidence"][1]["n"] == 20 and s["confidence"][0]["rate"] is None


def test_create_analyze_cli_and_bad_input(tmp_path):
    write_demo_clips(tmp_path / "real", 2, False)
    write_demo_clips(tmp_path / "syn", 2, True)
    study = create_study(tmp_path / "real", tmp_path / "syn", tmp_path / "s", StudyOptions(raters=2))
    assert sorted(p.name for p in study.iterdir()) == ["media", "study.sqlite"]
    run = [sys.executable, "-m", "sonosynth.cli", "-q", "study"]
    r = subprocess.run(run + ["analyze", str(study), "-o", str(tmp_path / "rep")], capture_output=True, text=True)
    assert r.returncode == 0 and "Answers: 0" in r.stdout
    assert json.loads((tmp_path / "rep" / "summary.json").read_text())["progress"][0]["total"] == 4
    assert list(csv.reader(open(tmp_path / "rep" / "answers.csv")))[0][:3] == ["answer_id", "rater", "case_id"]
    again = subprocess.run(run + ["analyze", str(study), "-o", str(tmp_path / "rep")], capture_output=True, text=True)
    assert again.returncode == 2 and "--overwrite" in again.stderr
    bad = subprocess.run(run + ["create", "--real", str(tmp_path / "real"), "--synthetic", str(tmp_path / "syn"),
                                "-o", str(tmp_path / "s2"), "--cases", "10"], capture_output=True, text=True)
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and not (tmp_path / "s2").exists()
    for option in (["--fps", "nan"], ["--raters", "0"], ["--size", "5"]):
        bad = subprocess.run(run + ["create", "--real", str(tmp_path / "real"), "--synthetic", str(tmp_path / "syn"),
                                    "-o", str(tmp_path / "s2"), *option], capture_output=True, text=True)
        assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and not (tmp_path / "s2").exists(), (option, bad.stderr)
    exists = subprocess.run(run + ["create", "--real", str(tmp_path / "real"), "--synthetic", str(tmp_path / "syn"),
                                   "-o", str(study)], capture_output=True, text=True)
    assert exists.returncode == 2 and "exists" in exists.stderr
    junk = tmp_path / "junk"
    junk.mkdir()
    (junk / "a.mp4").write_bytes(b"not a video")
    r = subprocess.run(run + ["create", "--real", str(junk), "--synthetic", str(tmp_path / "syn"), "-o", str(tmp_path / "s3"),
                              "--cases", "2"], capture_output=True, text=True)
    assert r.returncode == 2 and "Traceback" not in r.stderr and not (tmp_path / "s3").exists()
    assert not list(tmp_path.glob(".s3*"))


def test_analyze_reads_only_and_never_writes_among_user_files(tmp_path):
    """analyze leaves the study database, a file at -o and a folder of the user's own files untouched."""
    write_demo_clips(tmp_path / "real", 2, False)
    write_demo_clips(tmp_path / "syn", 2, True)
    study = create_study(tmp_path / "real", tmp_path / "syn", tmp_path / "s", StudyOptions(raters=2))
    key = (study / "study.sqlite").read_bytes()
    run = [sys.executable, "-m", "sonosynth.cli", "-q", "study", "analyze", str(study)]
    (tmp_path / "afile").write_text("mine")
    clips = sorted(p.name for p in (tmp_path / "real").iterdir())
    for out, extra in (("afile", []), ("afile", ["--overwrite"]), ("real", []), ("real", ["--overwrite"])):
        r = subprocess.run(run + ["-o", str(tmp_path / out), *extra], capture_output=True, text=True)
        assert (r.returncode, r.stderr.count("\n")) == (2, 1) and "Traceback" not in r.stderr, (out, extra, r.stderr)
    assert (tmp_path / "afile").read_text() == "mine"
    assert sorted(p.name for p in (tmp_path / "real").iterdir()) == clips
    assert subprocess.run(run, capture_output=True).returncode == 0  # default STUDY/report: refreshed each run
    assert subprocess.run(run, capture_output=True).returncode == 0
    assert (study / "study.sqlite").read_bytes() == key
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "study.sqlite").touch()
    r = subprocess.run(run[:-1] + [str(empty)], capture_output=True, text=True)
    assert r.returncode == 2 and (empty / "study.sqlite").stat().st_size == 0


def test_create_never_replaces_a_folder_of_user_files_but_replaces_its_own_study(tmp_path):
    """With --overwrite, create replaces an earlier study; the real clips' folder as -o, or a folder inside the
    synthetic clips' (whose media and key the next study would count as synthetic clips), is refused and kept."""
    write_demo_clips(tmp_path / "real", 2, False)
    write_demo_clips(tmp_path / "syn", 2, True)
    clips = sorted(p.name for p in (tmp_path / "real").iterdir())
    run = [sys.executable, "-m", "sonosynth.cli", "-q", "study", "create", "--real", str(tmp_path / "real"),
           "--synthetic", str(tmp_path / "syn"), "--cases", "2"]
    for inside in (tmp_path / "real", tmp_path / "syn" / "study"):
        r = subprocess.run(run + ["-o", str(inside), "--overwrite"], capture_output=True, text=True)
        assert r.returncode == 2 and "must lie outside the --" in r.stderr and r.stderr.count("\n") == 1, r.stderr
    assert sorted(p.name for p in (tmp_path / "real").iterdir()) == clips and not (tmp_path / "syn" / "study").exists()
    for _ in range(2):
        r = subprocess.run(run + ["-o", str(tmp_path / "s"), "--overwrite"], capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
    assert {p.name for p in (tmp_path / "s").iterdir()} == {"study.sqlite", "media"}
    same = [sys.executable, "-m", "sonosynth.cli", "-q", "study", "create", "--real", str(tmp_path / "real"),
            "--synthetic", str(tmp_path / "real"), "-o", str(tmp_path / "s2")]
    r = subprocess.run(same, capture_output=True, text=True)
    assert r.returncode == 2 and "same folder" in r.stderr and not (tmp_path / "s2").exists()
