"""`sonosynth translate-folder`: a folder of real clip files of every kind, through the real process."""
from __future__ import annotations

import csv
import shutil
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from sonosynth.clip import Clip
from sonosynth.io import read_clip, write_clip
from sonosynth.preprocess.doppler import rebuild_mask

EXE = str(Path(sys.executable).parent / "sonosynth")


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([EXE, "--quiet", *args], capture_output=True, text=True, timeout=300)


def log_rows(out: Path) -> dict[str, dict]:
    with (out / "translate_log.csv").open(newline="") as f:
        return {row["source"]: row for row in csv.DictReader(f)}


@pytest.fixture(scope="module")
def painted(painted_speckle):
    grey, cfd, _, _ = painted_speckle()
    return grey, cfd


@pytest.fixture()
def dataset(tmp_path, painted):
    """What a clinic's export looks like: videos, DICOMs (one without an extension), a still, a clip with no
    colour, a corrupt file, a note and a hidden file, in subfolders."""
    grey, cfd = painted
    d = tmp_path / "in"
    (d / "sub").mkdir(parents=True)
    write_clip(Clip(cfd, fps=20.0), d / "a.mp4")
    write_clip(Clip(cfd, fps=20.0), d / "sub" / "b.dcm")
    shutil.copy(d / "sub" / "b.dcm", d / "sub" / "IM0001")
    write_clip(Clip(cfd[:1], fps=1.0), d / "c.png")
    write_clip(Clip(grey, fps=20.0), d / "greyscale.npz")
    writer = cv2.VideoWriter(str(d / "sub" / "d.avi"), cv2.VideoWriter_fourcc(*"MJPG"), 20.0, (80, 64))
    for frame in cfd:
        writer.write(np.ascontiguousarray(frame[..., ::-1]))
    writer.release()
    (d / "bad.mp4").write_bytes(np.random.default_rng(0).bytes(3000))
    (d / "notes.txt").write_text("scanner export")
    shutil.copy(d / "sub" / "b.dcm", d / "DICOMDIR")  # a media folder's index: a DICOM file, but no clip
    (d / ".DS_Store").write_bytes(b"\0" * 10)
    return d


def test_every_clip_is_translated_into_its_place_and_a_corrupt_one_does_not_stop_the_rest(dataset, tiny_weights, tmp_path):
    out = tmp_path / "out"
    r = run("translate-folder", str(dataset), "-o", str(out), "--weights", str(tiny_weights))
    assert r.returncode == 2 and "Traceback" not in r.stderr
    err = r.stderr.strip().splitlines()
    assert len(err) == 2 and "failed: bad.mp4" in err[0] and "6 translated, 0 kept, 1 failed of 7 clips" in err[1]
    assert "passed over 2 file(s)" in r.stdout  # notes.txt and DICOMDIR; the hidden file is not even counted
    made = sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file())
    assert made == ["a.mp4", "c.png", "greyscale.npz", "sub/IM0001.dcm", "sub/b.dcm", "sub/d.mkv", "translate_log.csv"]
    rows = log_rows(out)
    assert {k: v["status"] for k, v in rows.items()} == {
        "a.mp4": "translated", "bad.mp4": "failed", "c.png": "translated", "greyscale.npz": "translated",
        "sub/IM0001": "translated", "sub/b.dcm": "translated", "sub/d.avi": "translated"}
    assert "not a readable video" in rows["bad.mp4"]["reason"]
    for source, row in rows.items():
        if row["status"] != "translated":
            continue
        src, res = read_clip(dataset / source), read_clip(out / row["output"])
        assert res.frames.shape[:3] == src.frames.shape[:3] and res.fps == pytest.approx(src.fps, rel=1e-3)
        assert (int(row["frames"]), int(row["height"]), int(row["width"])) == src.frames.shape[:3]
    # the logged share of changed pixels is what a comparison finds (lossless DICOM in, DICOM out)
    b_in, b_out = read_clip(dataset / "sub" / "b.dcm").grey(), read_clip(out / "sub" / "b.dcm").grey()
    changed = float(rows["sub/b.dcm"]["changed"])
    assert changed == pytest.approx(np.mean(b_in != b_out), abs=1e-5) and changed > 0.01
    assert float(rows["greyscale.npz"]["changed"]) == 0.0
    # the rebuilt share is that of the detected holes (the pixels changed lie within them); a clip whose colour
    # never moves off its pixels has them all inferred (`pipeline.provenance_map`)
    assert float(rows["sub/b.dcm"]["rebuilt"]) == pytest.approx(np.mean(rebuild_mask(read_clip(dataset / "sub" / "b.dcm"))), abs=1e-5)
    assert float(rows["sub/b.dcm"]["rebuilt"]) >= changed
    assert float(rows["c.png"]["inferred"]) == 1.0  # a still: no other frame
    assert float(rows["greyscale.npz"]["rebuilt"]) == 0.0 and float(rows["greyscale.npz"]["inferred"]) == 0.0
    np.testing.assert_array_equal(read_clip(out / "greyscale.npz").frames, read_clip(dataset / "greyscale.npz").frames)
    # a clip translated in a batch is the clip `sonosynth translate` makes on its own
    single = tmp_path / "single.dcm"
    assert run("translate", str(dataset / "sub" / "b.dcm"), "-o", str(single), "--weights", str(tiny_weights)).returncode == 0
    np.testing.assert_array_equal(read_clip(single).frames, read_clip(out / "sub" / "b.dcm").frames)
    np.testing.assert_array_equal(read_clip(out / "sub" / "IM0001.dcm").frames, read_clip(single).frames)


def test_a_second_run_keeps_what_is_done_and_overwrite_redoes_it(dataset, tiny_weights, tmp_path):
    out = tmp_path / "out"
    (dataset / "bad.mp4").unlink()
    assert run("translate-folder", str(dataset), "-o", str(out), "--weights", str(tiny_weights)).returncode == 0
    (out / "a.mp4").unlink()  # as if the first run had been killed before it
    stamps = {p: p.stat().st_mtime_ns for p in out.rglob("*") if p.is_file() and p.name != "translate_log.csv"}
    r = run("translate-folder", str(dataset), "-o", str(out), "--weights", str(tiny_weights))
    assert r.returncode == 0 and "1 translated, 5 kept, 0 failed of 6 clips" in r.stdout
    assert all(p.stat().st_mtime_ns == t for p, t in stamps.items())
    assert log_rows(out)["a.mp4"]["status"] == "translated" and (out / "a.mp4").is_file()
    r = run("translate-folder", str(dataset), "-o", str(out), "--weights", str(tiny_weights), "--overwrite", "--suffix", "npz")
    assert r.returncode == 0 and "6 translated" in r.stdout
    assert (out / "sub" / "d.npz").is_file() and (out / "sub" / "d.mkv").is_file()  # other formats are not touched
    assert {row["output"] for row in log_rows(out).values()} >= {"a.npz", "sub/IM0001.npz", "sub/d.npz"}


def test_provenance_maps_land_beside_the_outputs_in_their_own_folder(dataset, tiny_weights, tmp_path):
    out, maps = tmp_path / "out", tmp_path / "maps"
    (dataset / "bad.mp4").unlink()
    r = run("translate-folder", str(dataset), "-o", str(out), "--weights", str(tiny_weights), "--provenance", str(maps))
    assert r.returncode == 0, r.stderr
    made = sorted(str(p.relative_to(maps)) for p in maps.rglob("*") if p.is_file())
    assert made == ["a.mkv", "c.mkv", "greyscale.mkv", "sub/IM0001.mkv", "sub/b.mkv", "sub/d.mkv"]
    rows = log_rows(out)
    for source, row in rows.items():
        where = read_clip(row["provenance"]).grey()
        assert where.shape == read_clip(out / row["output"]).frames.shape[:3]
        assert np.mean(where > 0) == pytest.approx(float(row["rebuilt"]), abs=1e-5)
        if float(row["rebuilt"]):
            assert np.mean(where[where > 0] == 255) == pytest.approx(float(row["inferred"]), abs=1e-4)
    # the map of b.dcm is the one `sonosynth translate --provenance` writes for it
    single = tmp_path / "single.npz"
    assert run("translate", str(dataset / "sub" / "b.dcm"), "-o", str(tmp_path / "b.dcm"), "--weights", str(tiny_weights),
               "--provenance", str(single)).returncode == 0
    np.testing.assert_array_equal(read_clip(single).grey(), read_clip(maps / "sub" / "b.mkv").grey())
    # a rerun asking for maps redoes nothing; one whose maps went missing cannot keep its outputs silently
    again = run("translate-folder", str(dataset), "-o", str(out), "--weights", str(tiny_weights), "--provenance", str(maps))
    assert again.returncode == 0 and "0 translated, 6 kept" in again.stdout
    (maps / "c.mkv").unlink()
    again = run("translate-folder", str(dataset), "-o", str(out), "--weights", str(tiny_weights), "--provenance", str(maps))
    assert again.returncode == 2 and "failed: c.png" in again.stderr and "its provenance map" in again.stderr


@pytest.mark.parametrize("case, expect", [
    ("output inside input", "must lie outside the input folder"),
    ("maps inside input", "--provenance folder"),
    ("maps where the outputs go", "would both be written to"),
    ("input inside output", "must lie outside the input folder"),
    ("a file, not a folder", "is a file: give a folder of clips"),
    ("no clips", "no clips found"),
    ("two clips, one output", "would both be written to"),
    ("a format that cannot be written", "--suffix must be one of"),
    # these were checked clip by clip: one failed line per clip, then a log in a new output folder
    ("weights that are not there", "does not exist"),
    ("an unknown device", "--device must be"),
    ("batch 0", "--batch must be"),
    ("an unknown precision", "--precision must be"),
    ("a file of the user's named like the log", "is not a log of this command"),
])
def test_refused_before_any_work_in_one_line(case, expect, dataset, tmp_path):
    src, out, extra = dataset, tmp_path / "out", []
    if case == "output inside input":
        out = dataset / "sub" / "out"
    elif case == "input inside output":
        out = dataset.parent
    elif case == "maps inside input":
        extra = ["--provenance", str(dataset / "maps")]
    elif case == "maps where the outputs go":
        extra = ["--provenance", str(out), "--suffix", ".mkv"]
    elif case == "a file, not a folder":
        src = dataset / "a.mp4"
    elif case == "no clips":
        src = tmp_path / "empty"
        src.mkdir()
    elif case == "two clips, one output":
        shutil.copy(dataset / "c.png", dataset / "sub" / "d.png")
        extra = ["--suffix", ".mkv"]
    elif case == "weights that are not there":
        extra = ["--weights", str(tmp_path / "none.safetensors")]
    elif case == "an unknown device":
        extra = ["--device", "tpu"]
    elif case == "batch 0":
        extra = ["--batch", "0"]
    elif case == "an unknown precision":
        extra = ["--precision", "float16"]
    elif case == "a file of the user's named like the log":
        out.mkdir()
        (out / "translate_log.csv").write_text("my notes\n")
    else:
        extra = ["--suffix", ".avi"]
    before = sorted((p, p.stat().st_mtime_ns) for p in tmp_path.rglob("*"))
    r = run("translate-folder", str(src), "-o", str(out), *extra)
    assert r.returncode == 2 and expect in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert sorted((p, p.stat().st_mtime_ns) for p in tmp_path.rglob("*")) == before  # nothing written, no folder made


def test_the_model_is_loaded_once_for_the_whole_folder(dataset, tiny_weights, tmp_path):
    from sonosynth.methods.translate.files import translate_folder
    from sonosynth.methods.translate.pipeline import Translator

    made = []

    def load() -> Translator:
        made.append(Translator(tiny_weights))
        return made[-1]

    heard = []
    rows = translate_folder(dataset, tmp_path / "out", load, echo=lambda line, failed: heard.append((line, failed)))
    assert len(made) == 1 and sum(r["status"] == "translated" for r in rows) == 6
    assert [failed for _, failed in heard[:-1]] == [r["status"] == "failed" for r in rows]


def test_a_folder_of_bad_inputs_fails_clip_by_clip_in_one_line_each(tiny_weights, tmp_path):
    """The malformed-input corpus, with links, a pipe and an extensionless pipe beside it: each clip is
    named as failed on one line, nothing but the log is written, and no read blocks or crashes."""
    import os

    corpus = Path(__file__).resolve().parent / "bad_inputs"
    src = tmp_path / "in"
    for path in corpus.iterdir():  # a folder per format: empty.avi and empty.mha would both become empty.mkv
        if path.suffix != ".py" and path.name != "__pycache__":
            (src / path.suffix[1:]).mkdir(parents=True, exist_ok=True)
            shutil.copy(path, src / path.suffix[1:] / path.name)
    (src / "loop_a.mp4").symlink_to(src / "loop_b.mp4")
    (src / "loop_b.mp4").symlink_to(src / "loop_a.mp4")
    (src / "dangling.dcm").symlink_to(src / "gone.dcm")
    os.mkfifo(src / "pipe.mp4")
    os.mkfifo(src / "IM_PIPE")
    out = tmp_path / "out"
    r = run("translate-folder", str(src), "-o", str(out), "--weights", str(tiny_weights))
    assert r.returncode == 2 and "Traceback" not in r.stderr
    rows = log_rows(out)
    assert len(rows) >= 30 and all(row["status"] == "failed" and row["reason"] for row in rows.values())
    lines = r.stderr.strip().splitlines()
    assert len(lines) == len(rows) + 1 and lines[-1].startswith(f"sonosynth: error: 0 translated, 0 kept, {len(rows)} failed")
    assert [p.name for p in out.rglob("*")] == ["translate_log.csv"]  # no output, no folder left empty


def start_long_batch(cfd: np.ndarray, clips: int, src: Path, out: Path, weights: Path) -> tuple[subprocess.Popen, str]:
    """A batch of 300-frame clips (long enough to be caught part-way) started in its own process; returns the
    process once it has finished its first clip, and the line that said so."""
    src.mkdir()
    for k in range(clips):
        write_clip(Clip(np.concatenate([cfd] * 25), fps=20.0), src / f"clip{k}.mkv")
    proc = subprocess.Popen([EXE, "--quiet", "translate-folder", str(src), "-o", str(out), "--weights", str(weights)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    return proc, proc.stdout.readline()


def test_a_batch_stopped_by_sigterm_leaves_whole_outputs_a_log_and_no_temporaries(painted, tiny_weights, tmp_path):
    import signal

    src, out = tmp_path / "in", tmp_path / "out"
    proc, first = start_long_batch(painted[1], 4, src, out, tiny_weights)
    proc.send_signal(signal.SIGTERM)
    rest, err = proc.communicate(timeout=120)
    assert first.startswith("[1/4] translated: clip0.mkv") and proc.returncode == 130, (first, err)
    assert err.strip().splitlines() == [err.strip()] and "stopped after" in err and "the same command again" in err
    done = [row for row in log_rows(out).values() if row["status"] == "translated"]
    assert 1 <= len(done) < 4
    assert sorted(p.name for p in out.iterdir()) == sorted([row["output"] for row in done] + ["translate_log.csv"])
    for row in done:
        assert read_clip(out / row["output"]).n_frames == 300
    r = run("translate-folder", str(src), "-o", str(out), "--weights", str(tiny_weights))
    assert r.returncode == 0 and f"{4 - len(done)} translated, {len(done)} kept" in r.stdout


def test_a_batch_killed_outright_still_leaves_a_log_of_what_it_finished(painted, tiny_weights, tmp_path):
    """SIGKILL (or the kernel's out-of-memory killer) runs no clean-up: the log is kept up to date as clips finish."""
    import signal

    proc, first = start_long_batch(painted[1], 3, tmp_path / "in", tmp_path / "out", tiny_weights)
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=60)
    assert first.startswith("[1/3] translated: clip0.mkv")
    rows = log_rows(tmp_path / "out")
    assert rows["clip0.mkv"]["status"] == "translated" and read_clip(tmp_path / "out" / "clip0.mkv").n_frames == 300
