"""Reader-study server end to end on 127.0.0.1: security, blinding (leak probe), load, crash safety, bad requests."""
from __future__ import annotations

import io
import shutil
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import av
import httpx
import numpy as np
import pytest
from scipy import stats

from sonosynth.study import db
from sonosynth.study.create import StudyOptions, create_study
from sonosynth.study.loadgen import StudyServer, free_port, run_raters, write_demo_clips


@pytest.fixture(scope="module")
def study(tmp_path_factory) -> Path:
    """50 cases (25 + 25) from clips that differ in size, rate, length and texture, for 20 raters."""
    root = tmp_path_factory.mktemp("study")
    write_demo_clips(root / "real", 25, False, seed=1, size=48, frames=12)
    syn = root / "synthetic"
    rng = np.random.default_rng(2)
    syn.mkdir()
    for i in range(25):  # synthetic: another size, frame rate, length, and noisier content
        np.savez(syn / f"s{i}.npz", frames=rng.integers(0, 256, (20, 40, 64), dtype=np.uint8), fps=np.float64(30.0))
    return create_study(root / "real", syn, root / "s", StudyOptions(raters=20, seed=3))


@pytest.fixture(scope="module")
def server(study, tmp_path_factory):
    log = tmp_path_factory.mktemp("log") / "server.log"
    with StudyServer(study, log) as s:
        yield s


def tokens(study: Path) -> tuple[str, list[str]]:
    c = db.open_study(study)
    try:
        return db.meta(c)["admin_token"], [r["token"] for r in db.raters(c)]
    finally:
        c.close()


def count_answers(study: Path) -> tuple[int, int]:
    c = db.open_study(study)
    try:
        return tuple(c.execute("SELECT count(*), count(DISTINCT rater_id || '-' || case_id) FROM answers").fetchone())
    finally:
        c.close()


def auc(x_pos, x_neg) -> float:
    return stats.mannwhitneyu(x_pos, x_neg).statistic / (len(x_pos) * len(x_neg))


def test_rater_reaches_only_own_case_and_admin_needs_token(study, server):
    admin, toks = tokens(study)
    u = server.url
    a, b = httpx.Client(base_url=f"{u}/r/{toks[0]}/"), httpx.Client(base_url=f"{u}/r/{toks[1]}/")
    na, nb = a.get("api/next").json(), b.get("api/next").json()
    assert set(na) == {"done", "answered", "total", "case", "video"}  # nothing about the class
    assert a.get(na["video"]).status_code == 200
    assert na["case"] != nb["case"]  # the seed gives the two raters different first cases
    assert b.get(na["video"]).status_code == 404
    c = db.open_study(study)
    others = [r["media_id"] for r in c.execute("SELECT media_id FROM cases") if r["media_id"] != na["case"]]
    c.close()
    assert all(a.get(f"media/{m}.mp4").status_code == 404 for m in others[:10])  # not the next ones either
    for path in ("/admin/", f"/admin/{toks[0]}/", f"/admin/{toks[0]}/answers.csv", f"/admin/{toks[0]}/api/summary",
                 "/study.sqlite", "/media/", f"/static/%2e%2e/{db.DB_NAME}"):
        r = httpx.get(u + path)
        assert r.status_code == 404, path
        assert admin not in r.text and "synthetic\":" not in r.text
    assert httpx.get(f"{u}/r/not-a-token/api/next").status_code == 404
    ok = httpx.get(f"{u}/admin/{admin}/api/summary")
    assert ok.status_code == 200 and ok.json()["progress"][0]["total"] == 50
    assert httpx.get(f"{u}/admin/{admin}/answers.csv").text.startswith("answer_id,rater")
    page = a.get("")
    assert page.headers["referrer-policy"] == "no-referrer" and admin not in page.text


def test_leak_probe_served_media_do_not_separate_classes(study, server):
    """Each feature of the served files, tried as a classifier of the class, must do no better than chance."""
    _, toks = tokens(study)
    c = db.open_study(study)
    key = {r["media_id"]: r["synthetic"] for r in c.execute("SELECT media_id, synthetic FROM cases")}
    c.close()
    feats: dict[str, list] = {}
    labels = []
    # one rater walks through every case through the real server, as a curious rater with devtools would
    cl = httpx.Client(base_url=f"{server.url}/r/{toks[19]}/")
    for _ in range(50):
        nxt = cl.get("api/next").json()
        r = cl.get(nxt["video"])
        data = r.content
        with av.open(io.BytesIO(data)) as cont:
            s = cont.streams.video[0]
            pk = [p.size for p in cont.demux(s) if p.size]
            frames = sum(1 for _ in av.open(io.BytesIO(data)).decode(video=0))
            f = {"bytes": len(data), "codec": s.codec_context.name, "profile": s.profile, "pix_fmt": s.pix_fmt,
                 "width": s.width, "height": s.height, "frames": frames, "duration": float(cont.duration),
                 "rate": str(s.average_rate), "container_meta": str(sorted(cont.metadata.items())),
                 "stream_meta": str(sorted(s.metadata.items())), "packet_sizes": str(pk),
                 "header_bytes": data[:data.index(b"mdat")].hex(),
                 "http_headers": str(sorted((k, v) for k, v in r.headers.items() if k != "date")),
                 "url_length": len(nxt["video"]), "url_first_char": ord(nxt["case"][0]),
                 "url_value": int.from_bytes(nxt["case"].encode()[:6], "big")}
        for k, v in f.items():
            feats.setdefault(k, []).append(v)
        labels.append(key[nxt["case"]])
        assert "etag" not in r.headers and "last-modified" not in r.headers  # as docs/study.md says: they were sent
        cl.post("api/answer", data={"case": nxt["case"], "verdict": "real", "confidence": "1", "realism": "3"})
    labels = np.array(labels)
    assert labels.sum() == 25
    # the probe has teeth: on the raw inputs, size and shape separate the classes perfectly
    raw = [p.stat().st_size for p in sorted((study.parent / "real").iterdir())]
    raw_syn = [p.stat().st_size for p in sorted((study.parent / "synthetic").iterdir())]
    assert abs(auc(raw_syn, raw) - 0.5) == 0.5
    # categorical and structural features: exactly one value across all 50 files
    for k in ("bytes", "codec", "profile", "pix_fmt", "width", "height", "frames", "duration", "rate",
              "container_meta", "stream_meta", "packet_sizes", "header_bytes", "http_headers", "url_length"):
        assert len(set(feats[k])) == 1, k
    # features that must vary (random ids): AUC within chance. Under the null, AUC has SD
    # sqrt((n1+n2+1)/(12 n1 n2)) = 0.082 for 25 + 25; 3 SD = 0.25 (false alarm ~0.3 % per feature).
    for k in ("url_first_char", "url_value"):
        x = np.array(feats[k], float)
        assert abs(auc(x[labels == 1], x[labels == 0]) - 0.5) <= 0.25, k


def test_bad_requests_get_4xx_and_change_nothing(study, server):
    _, toks = tokens(study)
    cl = httpx.Client(base_url=f"{server.url}/r/{toks[2]}/")
    nxt = cl.get("api/next").json()
    before = count_answers(study)
    good = {"case": nxt["case"], "verdict": "synthetic", "confidence": "2", "realism": "4"}
    bad = [dict(good, verdict="maybe"), dict(good, confidence="7"), dict(good, realism="0"), dict(good, realism="x"),
           {"case": nxt["case"]}, dict(good, case="nope")]
    for form in bad:
        assert 400 <= cl.post("api/answer", data=form).status_code < 500, form
    assert httpx.post(f"{server.url}/r/unknown/api/answer", data=good).status_code == 404
    assert cl.post("api/answer", content=b"\xff\x00garbage", headers={"content-type": "application/x-www-form-urlencoded"}).status_code in (400, 409, 422)
    assert cl.post("api/answer", content=b"x" * 100_000, headers={"content-type": "application/x-www-form-urlencoded"}).status_code == 413
    chunked = cl.post("api/answer", content=iter([b"case=" + b"a" * 9000, b"b" * 9000]),
                      headers={"content-type": "application/x-www-form-urlencoded"})
    assert chunked.status_code == 413
    assert count_answers(study) == before
    assert cl.post("api/answer", data=good).status_code == 201
    assert cl.post("api/answer", data=good).status_code == 409  # replay: answers are final
    assert count_answers(study) == (before[0] + 1, before[1] + 1)


def copy_study(study: Path, dest: Path) -> Path:
    """A copy of a study that the module's server has open (SQLite's backup, not a file copy)."""
    shutil.copytree(study / db.MEDIA_DIR, dest / db.MEDIA_DIR)
    src, dst = db.open_study(study, read_only=True), sqlite3.connect(dest / db.DB_NAME)
    src.backup(dst)
    src.close()
    dst.close()
    return dest


def serve_cli(study: Path, *options: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "sonosynth.cli", "-q", "study", "serve", str(study), *options],
                          capture_output=True, text=True, timeout=60)


def test_serve_refuses_busy_port_unknown_host_and_missing_clips(study, server, tmp_path):
    """Each is one line and exit 2 before any link is printed; a clip removed while serving is a 404, not a 500."""
    for options in (["--host", "127.0.0.1", "--port", str(server.port)], ["--host", "nonexistent.invalid"]):
        r = serve_cli(study, *options)
        assert (r.returncode, r.stdout, r.stderr.count("\n")) == (2, "", 1), (options, r.stderr)
        assert "cannot listen" in r.stderr
    r = serve_cli(study, "--base-url", "not a url", "--port", str(free_port()))
    assert (r.returncode, r.stdout, r.stderr.count("\n")) == (2, "", 1) and "--base-url must be" in r.stderr
    copy = copy_study(study, tmp_path / "copy")
    _, toks = tokens(copy)
    with StudyServer(copy, tmp_path / "copy.log") as s:
        cl = httpx.Client(base_url=f"{s.url}/r/{toks[5]}/")
        video = cl.get("api/next").json()["video"]
        (copy / video).unlink()
        assert cl.get(video).status_code == 404
    assert "Traceback" not in (tmp_path / "copy.log").read_text()
    r = serve_cli(copy, "--host", "127.0.0.1", "--port", str(free_port()))
    assert (r.returncode, r.stdout, r.stderr.count("\n")) == (2, "", 1) and "missing" in r.stderr, r.stderr


def test_load_twenty_raters_then_kill_and_restart(study, server, tmp_path):
    """20 raters x up to 50 answers at once; SIGKILL mid-study; restart; every acknowledged answer is kept."""
    _, toks = tokens(study)
    before = count_answers(study)[0]  # earlier tests in this module may have answered some
    done: dict = {}
    worker = threading.Thread(target=lambda: done.update(r=run_raters(server.url, toks, 50, time_limit=60)))
    worker.start()
    deadline = time.monotonic() + 60
    while count_answers(study)[0] < before + 300 and time.monotonic() < deadline:
        time.sleep(0.05)
    server.kill()  # mid-study, with requests in flight
    worker.join()
    first = done["r"]
    assert first.figures()["server_errors"] == 0
    acked = {(r.rater, r.case) for r in first.answers()}
    # 300 were stored before the kill; each of the 20 raters may have had one stored but not yet acknowledged
    assert 300 - 20 <= len(acked) == len(first.answers())
    c = db.open_study(study)
    stored = {(r[0] - 1, r[1]) for r in c.execute("SELECT x.rater_id, c.media_id FROM answers x JOIN cases c ON c.id = x.case_id")}
    c.close()
    assert acked <= stored  # every acknowledged answer survived SIGKILL
    second = StudyServer(study, tmp_path / "restart.log").start()
    try:
        n, distinct = count_answers(study)
        assert n == distinct and before + len(acked) <= n < 1000  # killed mid-study, nothing acknowledged lost
        rest = run_raters(second.url, toks, 50, time_limit=90)
        assert rest.figures()["server_errors"] == 0 and not rest.answers(409)
        assert count_answers(study) == (1000, 1000)  # every case of every rater, once
        assert all(httpx.get(f"{second.url}/r/{t}/api/next").json()["done"] for t in toks)
    finally:
        second.stop()
    log = server.log_path.read_text() + (tmp_path / "restart.log").read_text()
    assert "POST /r/<token>/api/answer" in log
    body = "\n".join(line for line in log.splitlines() if not line.startswith(("Admin (results)", "Invite ")))
    assert not any(t in body for t in toks) and tokens(study)[0] not in body
