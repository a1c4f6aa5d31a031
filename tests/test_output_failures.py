"""Outputs the machine refuses: a folder that is a file, a name too long, a read-only mount, a full disk.
Each gets one line and exit code 2, and leaves no output, temporary or half-filled folder behind.

The read-only and full cases mount small tmpfs file systems, which needs root and a mount namespace that
allows it; they skip elsewhere. The others run anywhere.
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from sonosynth.clip import Clip
from sonosynth.io import write_clip

EXE = str(Path(sys.executable).parent / "sonosynth")


def run(*args) -> subprocess.CompletedProcess:
    return subprocess.run([EXE, "--quiet", *map(str, args)], capture_output=True, text=True, timeout=180)


def refused(r: subprocess.CompletedProcess, reason: str) -> None:
    lines = r.stderr.strip().splitlines()
    assert r.returncode == 2 and len(lines) == 1 and lines[0].startswith("sonosynth: error: "), r.stderr
    assert reason in lines[0] and "Traceback" not in r.stderr, r.stderr


@pytest.fixture(scope="module")
def clips(tmp_path_factory):
    d = tmp_path_factory.mktemp("in")
    rng = np.random.default_rng(0)
    write_clip(Clip(rng.integers(0, 255, (4, 48, 64), dtype=np.uint8), fps=10.0), d / "grey.npz")
    # 20 frames of noise: 320 kB that no codec can squeeze into a 64 kB file system
    write_clip(Clip(rng.integers(0, 255, (20, 128, 128), dtype=np.uint8), fps=10.0), d / "big.npz")
    return d


def mounted(where: Path, options: str) -> bool:
    where.mkdir()
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(where)], capture_output=True)
    return r.returncode == 0


@pytest.fixture
def small_disks(tmp_path):
    """(read-only, 64 kB) tmpfs mounts, unmounted afterwards; skip where mounting is not allowed."""
    ro, full = tmp_path / "ro", tmp_path / "full"
    if not (mounted(ro, "ro,size=64k") and mounted(full, "size=64k")):
        subprocess.run(["umount", str(ro)], capture_output=True)
        pytest.skip("cannot mount a tmpfs here (needs root in a namespace that allows mounts)")
    yield ro, full
    for m in (ro, full):
        subprocess.run(["umount", str(m)], capture_output=True)


def test_an_output_folder_that_is_a_file_or_a_name_too_long_is_refused(clips, tmp_path):
    refused(run("convert", clips / "grey.npz", clips / "grey.npz" / "x.mkv"), "is a file, not a folder")
    refused(run("convert", clips / "grey.npz", tmp_path / ("a" * 300 + ".npz")), "too long")
    refused(run("info", tmp_path / ("a" * 5000 + ".mp4")), "too long")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("ext", [".npz", ".mkv", ".mp4", ".gif", ".dcm"])
def test_a_full_disk_or_read_only_mount_gets_one_line_and_no_partial_file(clips, small_disks, ext):
    ro, full = small_disks
    refused(run("convert", clips / "big.npz", ro / f"x{ext}"), "cannot write in output folder")
    refused(run("convert", clips / "big.npz", full / f"x{ext}"), "No space left on device")
    assert list(full.iterdir()) == [] and list(ro.iterdir()) == []


def fill(disk: Path) -> None:
    """Leave no room at all on `disk` (a mask or a small report fits in a few kB)."""
    with pytest.raises(OSError), open(disk / "filler", "wb") as f:
        for _ in range(100):
            f.write(bytes(4096))
            f.flush()


def test_two_outputs_land_together_or_not_at_all(clips, small_disks, tmp_path):
    ro, full = small_disks
    fill(full)
    paint, mask = tmp_path / "painted.npz", tmp_path / "mask.npz"
    refused(run("overlay", clips / "big.npz", "-o", paint, "--seed", "0", "--truth-mask", ro / "t.npz"),
            "cannot write in output folder")
    refused(run("overlay", clips / "big.npz", "-o", paint, "--seed", "0", "--truth-mask", full / "t.npz"),
            "No space left on device")
    assert not paint.exists() and [p.name for p in full.iterdir()] == ["filler"]
    assert run("overlay", clips / "big.npz", "-o", paint, "--seed", "0").returncode == 0
    refused(run("mask", paint, "-o", mask, "--preview", full / "p.mp4"), "No space left on device")
    assert not mask.exists() and [p.name for p in full.iterdir()] == ["filler"]


def test_the_demo_leaves_no_half_filled_folder_on_a_full_disk(small_disks):
    _, full = small_disks
    refused(run("demo", "-o", full / "demo"), "No space left on device")
    assert list(full.iterdir()) == []


def test_a_report_folder_is_written_whole_or_not_at_all(clips, small_disks):
    _, full = small_disks
    fill(full)
    refused(run("evaluate", "--real", clips / "grey.npz", "--fake", clips / "grey.npz", "--pairs", "--metrics", "ssim",
                "-o", full / "report"), "No space left on device")
    assert [p.name for p in full.iterdir()] == ["filler"]



STOPPED_WHILE_MAKING_TEMPORARIES = """
import os, signal, sys
from pathlib import Path
from sonosynth.io import atomic

signal.signal(signal.SIGINT, signal.default_int_handler)  # Ctrl-C as in a terminal (a background job inherits it ignored)
made = atomic.tempfile.{maker}

def stop_right_after(*args, **kwargs):  # a Ctrl-C landing between making the temporary and the block that removes it
    result = made(*args, **kwargs)
    os.kill(os.getpid(), signal.SIGINT)
    return result

setattr(atomic.tempfile, "{maker}", stop_right_after)
with atomic.{context}(Path(sys.argv[1]) / "out{suffix}"):
    raise SystemExit("the block ran: the stop was lost")
"""


@pytest.mark.parametrize("maker, context, suffix", [("mkstemp", "atomic_path", ".mkv"), ("mkdtemp", "atomic_folder", "")])
def test_a_stop_while_a_temporary_is_made_leaves_nothing_behind(tmp_path, maker, context, suffix):
    """The stop is held back until the temporary is recorded, then delivered; the interpreter's exit removes it."""
    script = STOPPED_WHILE_MAKING_TEMPORARIES.format(maker=maker, context=context, suffix=suffix)
    proc = subprocess.run([sys.executable, "-c", script, str(tmp_path)], capture_output=True, text=True, timeout=60)
    assert proc.returncode != 0 and "KeyboardInterrupt" in proc.stderr and "the block ran" not in proc.stderr
    assert list(tmp_path.iterdir()) == []


def test_holding_stops_puts_the_handlers_back():
    import signal

    from sonosynth.io.atomic import _stops_held

    before = signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)
    with _stops_held():
        assert signal.getsignal(signal.SIGINT) is not before[0]
    assert (signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)) == before
