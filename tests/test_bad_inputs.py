"""Malformed inputs: `sonosynth info` answers each with one line on stderr and exit code 2,
never a traceback; `sonosynth convert` leaves no output behind.

The committed corpus is made by tests/bad_inputs/make_corpus.py; links, folders and special
files are made here at test time.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from sonosynth.cli import main

CORPUS = Path(__file__).resolve().parent / "bad_inputs"
FILES = sorted(p for p in CORPUS.iterdir() if p.suffix != ".py" and p.name != "__pycache__")


def _sonosynth() -> str:
    exe = Path(sys.executable).parent / "sonosynth"
    return str(exe) if exe.exists() else shutil.which("sonosynth")


def _runtime_cases(tmp: Path) -> dict[str, Path]:
    cases = {}
    (tmp / "empty_dir").mkdir()
    cases["directory"] = tmp / "empty_dir"
    (tmp / "loop_a.mp4").symlink_to(tmp / "loop_b.mp4")
    (tmp / "loop_b.mp4").symlink_to(tmp / "loop_a.mp4")
    cases["symlink loop"] = tmp / "loop_a.mp4"
    (tmp / "dangling.dcm").symlink_to(tmp / "gone.dcm")
    cases["broken link"] = tmp / "dangling.dcm"
    cases["nonexistent"] = tmp / "no_such_clip.mp4"
    os.mkfifo(tmp / "pipe.mp4")
    cases["fifo"] = tmp / "pipe.mp4"
    cases["character device"] = Path(os.devnull)
    cases["file as folder"] = CORPUS / "empty.png" / "frame.png"
    return cases


def _check_one_line(rc: int, stderr: str, what: str) -> None:
    lines = stderr.strip().splitlines()
    assert rc == 2, f"{what}: exit {rc}, stderr {stderr!r}"
    assert len(lines) == 1 and lines[0].startswith("sonosynth: error: "), f"{what}: {stderr!r}"
    assert "Traceback" not in stderr


def test_corpus_is_large_and_tiny():
    assert len(FILES) >= 30
    assert all(p.stat().st_size < 32_000 for p in FILES)


def test_info_subprocess_on_every_bad_input(tmp_path):
    """One real process per input (~0.6 s each, two at a time): exactly what a user sees."""
    exe = _sonosynth()
    cases = {p.name: p for p in FILES} | _runtime_cases(tmp_path)
    env = dict(os.environ, OMP_NUM_THREADS="1")

    def run(path: Path) -> subprocess.CompletedProcess:
        return subprocess.run([exe, "info", str(path)], capture_output=True, text=True, timeout=120, env=env)

    with ThreadPoolExecutor(max_workers=2) as pool:
        results = dict(zip(cases, pool.map(run, cases.values())))
    for what, r in results.items():
        _check_one_line(r.returncode, r.stderr, what)
        assert r.stdout == "", what


@pytest.mark.parametrize("ext", [".mp4", ".npz", ".dcm", ".mkv"])
def test_convert_leaves_no_output(tmp_path, capsys, ext):
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    cases = {p.name: p for p in FILES} | _runtime_cases(tmp_path)
    for what, path in cases.items():
        with pytest.raises(SystemExit) as exc:
            main(["--quiet", "convert", str(path), str(out_dir / f"result{ext}")])
        _check_one_line(exc.value.code, capsys.readouterr().err, what)
        assert list(out_dir.iterdir()) == [], what


def test_unreadable_permission():
    """chmod 000 stops everyone but root; as root, run the CLI as user 'nobody' through setpriv."""
    prefix = []
    if os.getuid() == 0:
        if not shutil.which("setpriv"):
            pytest.skip("running as root (reads through chmod 000) and setpriv is not available to drop privileges")
        prefix = ["setpriv", "--reuid", "65534", "--regid", "65534", "--clear-groups"]
    folder = Path(tempfile.mkdtemp(prefix="sonosynth-perm-"))
    try:
        folder.chmod(0o755)
        locked = folder / "locked.dcm"
        locked.write_bytes((CORPUS / "dicom_one_pixel.dcm").read_bytes())
        locked.chmod(0)
        r = subprocess.run([*prefix, _sonosynth(), "info", str(locked)], capture_output=True, text=True, timeout=60)
        if prefix and "Permission denied" in r.stderr and "cannot be opened" not in r.stderr:
            pytest.skip(f"user nobody cannot run the installed sonosynth here: {r.stderr.strip()[:200]}")
        _check_one_line(r.returncode, r.stderr, "unreadable")
        assert "cannot be opened" in r.stderr
    finally:
        shutil.rmtree(folder)


def test_convert_subprocess_refuses_to_overwrite(tmp_path):
    good = tmp_path / "in.npz"
    subprocess.run([_sonosynth(), "convert", str(CORPUS.parent / "bad_inputs" / "npz_wrong_dtype.npz"), str(good)],
                   capture_output=True, timeout=60)
    assert not good.exists()
    target = tmp_path / "keep.mp4"
    target.write_bytes(b"precious")
    r = subprocess.run([_sonosynth(), "convert", str(CORPUS / "truncated_faststart.mp4"), str(target)],
                       capture_output=True, text=True, timeout=60)
    _check_one_line(r.returncode, r.stderr, "existing output")
    assert "exists" in r.stderr and target.read_bytes() == b"precious"


def _cut_cfd_clip(folder: Path) -> Path:
    """An 80-frame colour-Doppler .mp4 as `sonosynth overlay` makes it, cut to its first 60 % of bytes: more than
    one 32-frame chunk decodes, so the output is being written when a check after decoding refuses it."""
    import numpy as np

    from sonosynth.clip import Clip
    from sonosynth.io import write_clip
    from sonosynth.synth.overlay import paint_cfd

    base = np.random.default_rng(2).gamma(2.0, 35.0, (48, 56)).clip(0, 255)
    grey = np.stack([np.roll(base, t % 4, axis=1) for t in range(80)]).astype(np.uint8)
    cfd, _, _ = paint_cfd(grey, seed=7, fps=25.0)
    whole = write_clip(Clip(cfd, fps=25.0), folder / "cfd.mp4")
    cut = folder / "cut.mp4"
    cut.write_bytes(whole.read_bytes()[: int(whole.stat().st_size * 0.6)])
    return cut


@pytest.mark.parametrize("caught", ["at opening", "after decoding"])
def test_translate_streams_no_cut_video_into_an_output(tmp_path, capsys, monkeypatch, tiny_weights, caught):
    """The streaming reader refuses a cut video as read_clip does; the output's temporary file goes too."""
    if caught == "after decoding":  # skip the packet check, so the refusal comes mid-stream, with the output open
        from sonosynth.io.stream import VideoStream

        monkeypatch.setattr(VideoStream, "_check_packets", lambda self, container, stream: None)
    cut = _cut_cfd_clip(tmp_path)
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    # caught at opening, before the weights load: missing weights would be reported first otherwise
    weights = tiny_weights if caught == "after decoding" else tmp_path / "not_loaded_yet.safetensors"
    with pytest.raises(SystemExit) as exc:
        main(["--quiet", "translate", str(cut), "-o", str(out_dir / "o.mp4"), "--weights", str(weights)])
    err = capsys.readouterr().err
    _check_one_line(exc.value.code, err, caught)
    assert "truncated" in err
    assert list(out_dir.iterdir()) == []


@pytest.mark.parametrize("ext", [".gif", ".mp4", ".mkv"])
def test_convert_refuses_an_fps_the_output_cannot_store(tmp_path, capsys, ext):
    import numpy as np

    np.savez(tmp_path / "slow.npz", frames=np.zeros((3, 8, 8), np.uint8), fps=np.float64(1e-6))
    with pytest.raises(SystemExit) as exc:
        main(["--quiet", "convert", str(tmp_path / "slow.npz"), str(tmp_path / f"out{ext}")])
    _check_one_line(exc.value.code, capsys.readouterr().err, ext)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["slow.npz"]
