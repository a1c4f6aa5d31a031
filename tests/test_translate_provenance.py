"""The provenance map: which output pixels are the input's own, which were rebuilt with another frame's view
of them, and which were inferred from their surroundings alone (`pipeline.provenance_map`)."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from sonosynth.clip import Clip
from sonosynth.io import read_clip, write_clip
from sonosynth.methods.translate.pipeline import INFERRED, KEPT, SEEN_ELSEWHERE, Translator, translate
from sonosynth.preprocess.doppler import rebuild_mask

EXE = str(Path(sys.executable).with_name("sonosynth"))


def _still_tissue_with_two_holes(T=10, H=40, W=36):
    """Still speckle; hole A pulses (shown every other frame), hole B never moves off its pixels."""
    rng = np.random.default_rng(4)
    grey = np.repeat(rng.gamma(2.0, 35.0, (1, H, W)).clip(0, 255).astype(np.uint8), T, axis=0)
    holes = np.zeros((T, H, W), bool)
    holes[::2, 6:14, 6:14] = True  # A
    holes[:, 24:32, 20:30] = True  # B
    return grey, holes


def test_map_says_kept_seen_elsewhere_and_inferred(tiny_weights, monkeypatch):
    from sonosynth.methods.translate import pipeline, still

    grey, holes = _still_tissue_with_two_holes()
    clip = Clip(grey, fps=10.0)
    out, maps = translate(clip, holes=holes, translator=Translator(tiny_weights), provenance=True)
    assert maps.shape == holes.shape and maps.dtype == np.uint8
    np.testing.assert_array_equal(maps[~holes], KEPT)
    assert np.all(maps[::2, 6:14, 6:14] == SEEN_ELSEWHERE)  # the frames between show it
    assert np.all(maps[:, 24:32, 20:30] == INFERRED)  # no frame ever shows it
    np.testing.assert_array_equal(out.frames, translate(clip, holes=holes, translator=Translator(tiny_weights)).frames)

    # the network's own copies count, not only the still-pixel and repeated-frame steps after it
    monkeypatch.setattr(pipeline, "CARRY_REPEATS", False)
    monkeypatch.setattr(still, "STILL_RANGE", -1)
    _, maps = translate(clip, holes=holes, translator=Translator(tiny_weights), provenance=True)
    assert np.all(maps[::2, 6:14, 6:14] == SEEN_ELSEWHERE) and np.all(maps[:, 24:32, 20:30] == INFERRED)

    _, alone = translate(clip, holes=holes, translator=Translator(tiny_weights, temporal=False), provenance=True)
    np.testing.assert_array_equal(alone, np.where(holes, INFERRED, KEPT))  # frame by frame nothing is seen elsewhere


def test_copy_gate_refusal_reads_inferred(tiny_weights, monkeypatch):
    """A frame whose tissue differs too much lends nothing (`COPY_MAX_CHANGE`): its view must not count."""
    from sonosynth.methods.translate import pipeline, still

    monkeypatch.setattr(pipeline, "CARRY_REPEATS", False)
    monkeypatch.setattr(still, "STILL_RANGE", -1)
    grey, holes = _still_tissue_with_two_holes(T=2)
    grey[1] = 255 - grey[1]  # other tissue altogether
    holes[1] = False
    _, maps = translate(Clip(grey, fps=10.0), holes=holes, translator=Translator(tiny_weights), provenance=True)
    assert np.all(maps[0][holes[0]] == INFERRED)


def test_stream_with_maps_gives_the_same_frames_for_any_batch(tiny_weights):
    grey, holes = _still_tissue_with_two_holes(T=13)
    holes[5:8, 30:38, 2:9] = True
    region = (0, 40, 0, 36)
    plain = np.stack(list(Translator(tiny_weights, batch=4).stream(zip(grey, holes), region=region)))
    for batch in (1, 4):
        pairs = list(Translator(tiny_weights, batch=batch).stream(zip(grey, holes), region=region, provenance=True))
        np.testing.assert_array_equal(np.stack([f for f, _ in pairs]), plain)
        maps = np.stack([m for _, m in pairs])
        if batch == 1:
            first = maps
        np.testing.assert_array_equal(maps, first)


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([EXE, "--quiet", *args], capture_output=True, text=True, timeout=300)


def test_cli_writes_the_map_of_a_painted_clip(painted_speckle, tmp_path):
    """Shipped weights on a painted clip, through the real files: the map marks exactly the rebuilt pixels,
    and the pixels it calls inferred are the ones the fill got less right."""
    _, cfd, mask, truth = painted_speckle(shape=(72, 96), frames=16)
    src = tmp_path / "cfd.mkv"
    write_clip(Clip(cfd, fps=20.0), src)
    streamed = _cli("translate", str(src), "-o", str(tmp_path / "a.mkv"), "--provenance", str(tmp_path / "a_map.mkv"))
    assert streamed.returncode == 0, streamed.stderr
    assert "% of pixels rebuilt" in streamed.stdout and str(tmp_path / "a_map.mkv") in streamed.stdout
    whole = _cli("translate", str(src), "-o", str(tmp_path / "b.npz"), "--provenance", str(tmp_path / "b_map.npz"))
    assert whole.returncode == 0, whole.stderr

    maps = read_clip(tmp_path / "a_map.mkv").grey()
    np.testing.assert_array_equal(maps, read_clip(tmp_path / "b_map.npz").grey())  # streamed = read whole
    np.testing.assert_array_equal(read_clip(tmp_path / "a.mkv").grey(), read_clip(tmp_path / "b.npz").grey())
    clip = read_clip(src)
    assert set(np.unique(maps)) == {KEPT, SEEN_ELSEWHERE, INFERRED}
    np.testing.assert_array_equal(maps > 0, rebuild_mask(clip))
    out = read_clip(tmp_path / "a.mkv").grey()
    np.testing.assert_array_equal(out[maps == KEPT], clip.grey()[maps == KEPT])
    err = np.abs(out.astype(float) - truth)
    seen, inferred = mask & (maps == SEEN_ELSEWHERE), mask & (maps == INFERRED)
    assert seen.sum() > 1000 and inferred.sum() > 1000
    assert err[seen].mean() < 0.8 * err[inferred].mean()


@pytest.mark.parametrize("out, name, expected", [("out.mkv", "map.mp4", "lossless"), ("out.mkv", "out.mkv", "same file"),
                                                 ("out.mkv", "in.png", "itself"), ("in.png", None, "itself")])
def test_cli_refuses_a_map_it_cannot_keep_and_never_writes_over_the_input(tmp_path, out, name, expected):
    src = tmp_path / "in.png"
    write_clip(Clip(np.full((1, 32, 32, 3), (200, 30, 30), np.uint8)), src)
    before = src.read_bytes()
    maps = ["--provenance", str(tmp_path / name)] if name else []
    proc = _cli("translate", str(src), "-o", str(tmp_path / out), *maps, "--overwrite")
    assert proc.returncode == 2 and expected in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.png"] and src.read_bytes() == before


def test_cli_map_that_exists_stops_both_outputs(tmp_path, painted_speckle):
    _, cfd, _, _ = painted_speckle(frames=6)
    src, existing = tmp_path / "cfd.mkv", tmp_path / "map.mkv"
    write_clip(Clip(cfd, fps=20.0), src)
    existing.write_bytes(b"the user's own file")
    proc = _cli("translate", str(src), "-o", str(tmp_path / "out.mkv"), "--provenance", str(existing))
    assert proc.returncode == 2 and "exists" in proc.stderr
    assert existing.read_bytes() == b"the user's own file" and not (tmp_path / "out.mkv").exists()
