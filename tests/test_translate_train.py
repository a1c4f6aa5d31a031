"""Training the translation model: a tiny config for a few steps, exported weights, exact resume, bad setups.
(Several processes: test_translate_ddp.py.)"""
from __future__ import annotations

import numpy as np
import pytest
from safetensors.numpy import load_file

from sonosynth.clip import Clip
from sonosynth.errors import BadOption, OutputExists
from sonosynth.io import write_clip
from sonosynth.methods.translate.config import TranslateConfig
from sonosynth.methods.translate.train import train

pytest.importorskip("lightning")


def _weights(run):
    return load_file(str(run / "translate.safetensors"))


def test_tiny_training_writes_weights_logs_previews_and_resumes_exactly(clip_folder, tmp_path):
    cfg = TranslateConfig.tiny()  # 4 steps, checkpoint every 2
    straight = tmp_path / "straight"
    train(cfg, clip_folder, straight, quiet=True, accelerator="cpu", devices=1)
    assert (straight / "checkpoints" / "last.ckpt").is_file()
    assert list((straight / "previews").glob("*.png"))
    assert (straight / "logs" / "version_0" / "metrics.csv").is_file()
    card = (straight / "translate.json").read_text()
    assert '"steps": 4' in card and "clip0.npz" in card

    # the same run stopped after its first checkpoint, then resumed
    interrupted = tmp_path / "interrupted"
    train(cfg.override(steps=2), clip_folder, interrupted, quiet=True, accelerator="cpu", devices=1)
    half = _weights(interrupted)
    train(cfg, clip_folder, interrupted, resume=True, quiet=True, accelerator="cpu", devices=1)
    a, b = _weights(straight), _weights(interrupted)
    assert a.keys() == b.keys()
    assert any(not np.array_equal(half[k], b[k]) for k in b)  # the resumed run did train further
    for k in a:
        np.testing.assert_array_equal(a[k], b[k], err_msg=k)


def test_a_time_budget_stops_training_early_and_the_card_says_so(clip_folder, tmp_path):
    import json

    run = tmp_path / "budget"
    cfg = TranslateConfig.tiny().override(steps=100_000, ckpt_every=50)
    train(cfg, clip_folder, run, quiet=True, accelerator="cpu", devices=1, max_minutes=0.05)
    card = json.loads((run / "translate.json").read_text())["card"]
    assert 0 < card["steps"] < 100_000
    assert "--max-minutes 0.05 reached" in card["stopped_early"]
    assert card["device"] == "1 node(s) x 1 CPUAccelerator"
    assert _weights(run)
    with pytest.raises(BadOption, match="positive"):
        train(cfg, clip_folder, tmp_path / "none", quiet=True, accelerator="cpu", devices=1, max_minutes=-1)
    with pytest.raises(BadOption, match="positive"):
        train(cfg, clip_folder, tmp_path / "none", quiet=True, accelerator="cpu", devices=1, max_minutes=float("nan"))
    assert not (tmp_path / "none").exists()  # refused before anything was written


def test_training_refuses_to_clobber_a_run_and_needs_a_checkpoint_to_resume(clip_folder, tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    (run / "notes.txt").write_text("mine")
    with pytest.raises(BadOption, match="not empty"):
        train(TranslateConfig.tiny(), clip_folder, run, quiet=True)
    with pytest.raises(BadOption, match="nothing to resume"):
        train(TranslateConfig.tiny(), clip_folder, tmp_path / "fresh", resume=True, quiet=True)
    assert (run / "notes.txt").read_text() == "mine"


def test_motion_augmentation_moves_the_tissue_is_seeded_and_is_off_by_default(clip_folder):
    import torch

    from sonosynth.methods.translate.data import ClipBank, TranslateSamples, list_training_clips

    bank = ClipBank(list_training_clips(clip_folder))
    still = TranslateSamples(bank, crop=32, horizon=3, seed=0, temporal_dropout=0.2, length=10)
    off = TranslateSamples(bank, crop=32, horizon=3, seed=0, temporal_dropout=0.2, length=10, motion=0.0)
    moving = TranslateSamples(bank, crop=32, horizon=3, seed=0, temporal_dropout=0.2, length=10, motion=1.0)
    assert TranslateConfig().motion == 0.0  # the shipped weights were trained without it
    for i in range(3):
        a, b, m = still[i], off[i], moving[i]
        assert torch.equal(a["frames"], b["frames"]) and torch.equal(a["holes"], b["holes"])
        assert not torch.equal(a["frames"], m["frames"]) and m["holes"].any()
        assert torch.equal(m["frames"], moving[i]["frames"])  # seeded by index: a resumed run sees the same


def test_codec_augmentation_shows_the_network_h264_frames_and_keeps_the_truth_clean(clip_folder):
    import torch

    from sonosynth.methods.translate.data import ClipBank, TranslateSamples, list_training_clips

    bank = ClipBank(list_training_clips(clip_folder))
    plain = TranslateSamples(bank, crop=32, horizon=3, seed=0, temporal_dropout=0.2, length=10)
    coded = TranslateSamples(bank, crop=32, horizon=3, seed=0, temporal_dropout=0.2, length=10, codec=1.0)
    assert TranslateConfig().codec == 0.0
    for i in range(3):
        a, c = plain[i], coded[i]
        assert torch.equal(a["seen"], a["frames"])  # off: the network sees the truth
        # the truth and holes are drawn before the codec, so they are the same samples either way
        assert torch.equal(a["frames"], c["frames"]) and torch.equal(a["holes"], c["holes"])
        outside = ~c["holes"]
        change = (c["seen"] - c["frames"]).abs()[outside].mean().item() * 127.5
        assert 0.3 < change < 12.0  # codec noise, not another picture
        assert torch.equal(c["seen"], coded[i]["seen"])  # one encoder thread: the same bytes on every draw


def test_h264_luminance_is_lossy_reproducible_and_matches_the_mp4_reader(tmp_path):
    from sonosynth.io import read_clip
    from sonosynth.io.video import h264_luminance

    rng = np.random.default_rng(1)
    frames = np.repeat(rng.gamma(2.0, 40.0, (6, 30, 46, 1)).clip(0, 255).astype(np.uint8), 3, axis=-1)  # sides padded
    frames[:, 8:20, 10:30] = (200, 40, 10)  # a red patch: its luminance edge is what the codec rings at
    once = h264_luminance(frames, crf=28)
    assert once.shape == frames.shape[:3]
    assert all(np.array_equal(once, h264_luminance(frames, crf=28)) for _ in range(5))
    truth = Clip(frames, fps=30.0).grey().astype(np.float32)
    error = np.abs(once - truth).mean()
    assert 1.0 < error < 30.0
    assert np.abs(h264_luminance(frames, crf=10) - truth).mean() < error  # better quality, less error
    # at crf 0 (lossless luma) the luminance is the truth up to the codec's 219 levels, and the reader's
    exact = h264_luminance(frames, crf=0)
    write_clip(Clip(frames, fps=30.0), tmp_path / "same.mp4", crf=0)
    assert np.abs(exact - truth).max() <= 1.0
    assert np.abs(read_clip(tmp_path / "same.mp4").grey() - exact).mean() < 1.0  # it rounds to 8-bit RGB and clips at colour edges


def test_aligned_copies_in_training_are_the_inference_ones_and_draw_nothing_else(clip_folder, tmp_path):
    import torch

    from sonosynth.methods.translate.align import aligned_nearest_visible
    from sonosynth.methods.translate.data import ClipBank, TranslateSamples, list_training_clips

    bank = ClipBank(list_training_clips(clip_folder))
    plain = TranslateSamples(bank, crop=32, horizon=3, seed=0, temporal_dropout=0.2, length=10)
    moved = TranslateSamples(bank, crop=32, horizon=3, seed=0, temporal_dropout=0.2, length=10, align=True)
    assert TranslateConfig().align is False and "priors" not in plain[0]
    for i in range(2):
        a, m = plain[i], moved[i]
        assert all(torch.equal(a[k], m[k]) for k in a)  # the same sample, plus its moved copies
        grey = ((m["seen"] + 1) * 127.5).round().to(torch.uint8).numpy()
        want = aligned_nearest_visible(grey, m["holes"].numpy(), range(3, 5), 3, None)
        assert m["priors"].shape == (2, 4, 32, 32)
        np.testing.assert_allclose(m["priors"].numpy(), np.stack(want, 1), atol=1e-6)
    run = tmp_path / "aligned"
    train(TranslateConfig.tiny().override(align=True, steps=2), clip_folder, run, quiet=True, accelerator="cpu", devices=1)
    assert (run / "translate.safetensors").is_file() and '"align": true' in (run / "translate.json").read_text()


def test_averaged_generator_is_what_gets_exported_and_resumes_exactly(clip_folder, tmp_path):
    import torch

    from sonosynth.methods.translate.train import export_checkpoint

    cfg = TranslateConfig.tiny().override(ema=0.9)
    straight = tmp_path / "straight"
    train(cfg, clip_folder, straight, quiet=True, accelerator="cpu", devices=1)
    state = torch.load(str(straight / "checkpoints" / "last.ckpt"), map_location="cpu", weights_only=True)["state_dict"]
    raw = {k[len("generator."):]: v.numpy() for k, v in state.items() if k.startswith("generator.")}
    averaged = {k[len("generator_ema."):]: v.numpy() for k, v in state.items() if k.startswith("generator_ema.")}
    shipped = _weights(straight)
    assert shipped.keys() == raw.keys() == averaged.keys()
    for k in shipped:
        np.testing.assert_array_equal(shipped[k], averaged[k], err_msg=k)
    assert any(not np.allclose(raw[k], averaged[k]) for k in raw)  # the average lags the last step
    exported = load_file(str(export_checkpoint(straight / "checkpoints" / "last.ckpt", tmp_path / "e.safetensors")))
    assert all(np.array_equal(exported[k], shipped[k]) for k in shipped)
    (tmp_path / "mine.json").write_text("a user's file")  # the card beside new weights must not replace it unasked
    with pytest.raises(OutputExists):
        export_checkpoint(straight / "checkpoints" / "last.ckpt", tmp_path / "mine.safetensors")
    assert (tmp_path / "mine.json").read_text() == "a user's file" and not (tmp_path / "mine.safetensors").exists()

    interrupted = tmp_path / "interrupted"
    train(cfg.override(steps=2), clip_folder, interrupted, quiet=True, accelerator="cpu", devices=1)
    train(cfg, clip_folder, interrupted, resume=True, quiet=True, accelerator="cpu", devices=1)
    resumed = _weights(interrupted)
    for k in shipped:
        np.testing.assert_array_equal(shipped[k], resumed[k], err_msg=k)


BAD_TRAINING_SETUPS = {
    "unknown field": ("nosuch: 1\n", None, "unknown config field(s): nosuch"),
    "not YAML": ("batch: [1\n", None, "is not valid YAML"),
    "negative batch": ("batch: -3\n", None, "batch must be at least 1"),
    "text for a number": ("crop: abc\n", None, "crop must be a whole number"),
    "crop the networks cannot halve twice": ("crop: 30\n", None, "crop must be a multiple of 4"),
    "zero dilation": ("dilations: [2, 0]\n", None, "dilations must be a list"),
    "share above 1": ("motion: 1.5\n", None, "motion is a share"),
    # NaN reached the optimiser, which stopped with a traceback; inf trained and exported all-NaN weights
    "learning rate not a number": ("lr: .nan\n", None, "lr must be a finite number, not nan"),
    "infinite learning rate": ("lr: .inf\n", None, "lr must be a finite number, not inf"),
    # these three were internal errors (numpy's seed range; a float overflow in the optimiser) or a run that hung
    "seed out of range": ("seed: -1\n", None, "seed must be a whole number from 0 to 2**32 - 1"),
    "absurd learning rate": ("lr: 1e300\n", None, "lr and lr_d must be in (0, 1]"),
    "horizon past any clip": ("horizon: 100000\n", None, "horizon must be at most 256"),
    "perceptual network that is not there": ("perceptual: bogus\n", None, "perceptual network 'bogus'"),
    "config not UTF-8": (b"\xff\xfe", None, "is not UTF-8 text"),
    "no clips": ("", "empty", "no training clips found"),
    "corrupt clip": ("", "corrupt", "a.mp4: not a readable video"),
    "manifest without a file column": ("", "no-column.csv", "has no 'file' column"),
    "manifest that is not there": ("", "absent.txt", "cannot read manifest"),
    "manifest that is not text": ("", "binary.txt", "cannot read manifest"),
    "manifest naming a missing clip": ("", "missing-clip.txt", "gone.npz: no such file"),
}


@pytest.mark.parametrize("what", BAD_TRAINING_SETUPS)
def test_a_bad_config_or_training_folder_gets_one_line_and_leaves_no_run_folder(what, clip_folder, tmp_path, capsys):
    from sonosynth.cli import main

    yaml_text, data_kind, expect = BAD_TRAINING_SETUPS[what]
    data = clip_folder
    if data_kind in ("empty", "corrupt"):
        data = tmp_path / data_kind
        data.mkdir()
        if data_kind == "corrupt":
            (data / "a.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 4)
            (data / "b.npz").write_bytes((clip_folder / "clip0.npz").read_bytes())
    elif data_kind:
        data = tmp_path / data_kind
        contents = {"no-column.csv": b"name\nclip0.npz\n", "binary.txt": bytes(range(128, 256)),
                    "missing-clip.txt": f"{clip_folder / 'clip0.npz'}\n{clip_folder / 'gone.npz'}\n".encode()}
        if data_kind in contents:
            data.write_bytes(contents[data_kind])
    config = tmp_path / "config.yaml"
    config.write_bytes(yaml_text if isinstance(yaml_text, bytes) else (yaml_text or "steps: 1\n").encode())
    run = tmp_path / "run"
    with pytest.raises(SystemExit) as exc:
        main(["--quiet", "train", "translate", "--data", str(data), "--preset", "tiny", "--config", str(config),
              "--accelerator", "cpu", "--out", str(run)])
    err = capsys.readouterr().err.strip().splitlines()
    assert exc.value.code == 2 and len(err) == 1 and err[0].startswith("sonosynth: error: "), (what, err)
    assert expect in err[0], (what, err)
    assert not run.exists(), what


@pytest.mark.parametrize("devices", ["99", "0"])
def test_more_cpu_processes_than_cores_or_none_are_refused_before_the_run_folder(devices, clip_folder, tmp_path, capsys):
    from sonosynth.cli import main

    run = tmp_path / "run"
    with pytest.raises(SystemExit) as exc:
        main(["--quiet", "train", "translate", "--data", str(clip_folder), "--preset", "tiny", "--steps", "1",
              "--accelerator", "cpu", "--devices", devices, "--out", str(run)])
    err = capsys.readouterr().err.strip().splitlines()
    assert exc.value.code == 2 and len(err) == 1 and "--devices" in err[0], err
    assert not run.exists()


def test_a_run_folder_that_is_a_file_is_refused_and_kept(clip_folder, tmp_path, capsys):
    from sonosynth.cli import main

    run = tmp_path / "run"
    run.write_text("mine")
    with pytest.raises(SystemExit) as exc:
        main(["--quiet", "train", "translate", "--data", str(clip_folder), "--preset", "tiny", "--steps", "1",
              "--accelerator", "cpu", "--out", str(run)])
    err = capsys.readouterr().err.strip().splitlines()
    assert exc.value.code == 2 and len(err) == 1 and "is a file" in err[0], err
    assert run.read_text() == "mine"


def test_a_manifest_names_the_training_clips_relative_to_itself(clip_folder, tmp_path):
    import shutil

    from sonosynth.methods.translate.data import list_training_clips

    folder = tmp_path / "clips"
    shutil.copytree(clip_folder, folder)
    (folder / "two.txt").write_text("clip0.npz\n\nclip2.npz\n")
    (folder / "one.csv").write_text("file,label\nclip1.npz,normal\n")
    assert [p.name for p in list_training_clips(folder / "two.txt")] == ["clip0.npz", "clip2.npz"]
    assert list_training_clips(folder / "one.csv") == [folder / "clip1.npz"]
    assert [p.name for p in list_training_clips(folder / "two.txt", exclude=["clip2.npz"])] == ["clip0.npz"]
    run = tmp_path / "from-csv"
    train(TranslateConfig.tiny().override(steps=2), folder / "one.csv", run, quiet=True, accelerator="cpu", devices=1)
    assert (run / "training_clips.txt").read_text() == "clip1.npz\n"


@pytest.mark.parametrize("option", [["--accelerator", "tpu"], ["--accelerator", "gpu"], ["--max-minutes", "inf"]])
def test_options_lightning_cannot_use_get_one_line_and_leave_no_run_folder(option, clip_folder, tmp_path, capsys):
    """Each used to fail inside Lightning with a traceback, after the run folder was written."""
    import torch

    from sonosynth.cli import main

    if option[1] == "gpu" and torch.cuda.is_available():
        pytest.skip("a CUDA GPU is here")
    run = tmp_path / "run"
    with pytest.raises(SystemExit) as exc:
        main(["--quiet", "train", "translate", "--data", str(clip_folder), "--preset", "tiny", *option, "--out", str(run)])
    err = capsys.readouterr().err.strip().splitlines()
    assert exc.value.code == 2 and len(err) == 1 and err[0].startswith("sonosynth: error: "), err
    assert not run.exists()


def test_yaml_numbers_without_a_dot_are_numbers():
    """YAML 1.1 reads 2e-4 as text; the config takes it as the number it is (it is the default lr)."""
    assert TranslateConfig.tiny().override(lr="2e-4", w_adv="0").lr == 2e-4


def test_resume_continues_only_the_same_run_and_keeps_its_earlier_logs(clip_folder, tmp_path):
    cfg = TranslateConfig.tiny()
    run = tmp_path / "run"
    train(cfg.override(steps=2), clip_folder, run, quiet=True, accelerator="cpu", devices=1)
    record = (run / "config.json").read_text(), (run / "training_clips.txt").read_text()
    with pytest.raises(BadOption, match="differ.*width"):
        train(cfg.override(width=8), clip_folder, run, resume=True, quiet=True, accelerator="cpu", devices=1)
    fewer = tmp_path / "fewer"
    fewer.mkdir()
    (fewer / "clip0.npz").write_bytes((clip_folder / "clip0.npz").read_bytes())
    with pytest.raises(BadOption, match="other clips"):
        train(cfg, fewer, run, resume=True, quiet=True, accelerator="cpu", devices=1)
    assert ((run / "config.json").read_text(), (run / "training_clips.txt").read_text()) == record
    train(cfg, clip_folder, run, resume=True, quiet=True, accelerator="cpu", devices=1)  # more steps: allowed
    logged = [sum(1 for _ in (run / "logs" / v / "metrics.csv").open()) for v in ("version_0", "version_1")]
    assert min(logged) > 1  # the rows before the resume are still there, beside those after it


def test_resume_refuses_to_undo_steps_or_redo_a_finished_run_and_leaves_the_folder_alone(clip_folder, tmp_path):
    """Fewer --steps than done was an internal error that rewrote config.json; a finished run re-exported itself."""
    cfg, run = TranslateConfig.tiny(), tmp_path / "run"  # 4 steps, checkpoint every 2
    train(cfg, clip_folder, run, quiet=True, accelerator="cpu", devices=1)
    before = sorted((p.relative_to(run), p.stat().st_mtime_ns) for p in run.rglob("*"))
    with pytest.raises(BadOption, match="trained 4 steps already; --steps 2 would undo them"):
        train(cfg.override(steps=2), clip_folder, run, resume=True, quiet=True, accelerator="cpu", devices=1)
    with pytest.raises(BadOption, match="has done its 4 steps"):
        train(cfg, clip_folder, run, resume=True, quiet=True, accelerator="cpu", devices=1)
    assert sorted((p.relative_to(run), p.stat().st_mtime_ns) for p in run.rglob("*")) == before


def test_a_run_folder_moved_and_resumed_twice_goes_on_from_its_latest_checkpoint(clip_folder, tmp_path):
    """Lightning kept last.ckpt of the old path and wrote last-v1.ckpt: the second resume went back in time."""
    import shutil

    cfg = TranslateConfig.tiny()
    train(cfg.override(steps=2), clip_folder, tmp_path / "run", quiet=True, accelerator="cpu", devices=1)
    moved = tmp_path / "moved"
    shutil.copytree(tmp_path / "run", moved)
    train(cfg, clip_folder, moved, resume=True, quiet=True, accelerator="cpu", devices=1)
    assert not list((moved / "checkpoints").glob("last-v*.ckpt"))
    train(cfg.override(steps=6), clip_folder, moved, resume=True, quiet=True, accelerator="cpu", devices=1)
    straight = tmp_path / "straight"
    train(cfg.override(steps=6), clip_folder, straight, quiet=True, accelerator="cpu", devices=1)
    a, b = _weights(straight), _weights(moved)
    for k in a:
        np.testing.assert_array_equal(a[k], b[k], err_msg=k)


def test_a_run_stopped_before_its_first_checkpoint_can_start_again(clip_folder, tmp_path):
    """What a run killed early leaves (setup files, logs, no checkpoint) blocked both a rerun and --resume."""
    run = tmp_path / "run"
    (run / "logs" / "version_0").mkdir(parents=True)
    (run / "logs" / "version_0" / "metrics.csv").write_text("step\n")
    (run / "previews").mkdir()
    (run / "config.json").write_text("{}")
    (run / "training_clips.txt").write_text("clip0.npz\n")
    with pytest.raises(BadOption, match="before its first checkpoint"):
        train(TranslateConfig.tiny(), clip_folder, run, resume=True, quiet=True, accelerator="cpu", devices=1)
    train(TranslateConfig.tiny(), clip_folder, run, quiet=True, accelerator="cpu", devices=1)
    assert (run / "translate.safetensors").is_file() and "clip2.npz" in (run / "training_clips.txt").read_text()


def test_a_run_stopped_by_sigterm_says_so_and_exits_130(clip_folder, tmp_path):
    """Lightning stops gracefully on SIGTERM; the command used to end with exit code 0 and no word of it."""
    import signal
    import subprocess
    import sys
    import time
    from pathlib import Path

    run = tmp_path / "run"
    (tmp_path / "long.yaml").write_text("steps: 100000\nckpt_every: 2\n")
    exe = Path(sys.executable).parent / "sonosynth"
    proc = subprocess.Popen([str(exe), "--quiet", "train", "translate", "--data", str(clip_folder), "--preset", "tiny",
                             "--config", str(tmp_path / "long.yaml"), "--accelerator", "cpu", "--out", str(run)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 120
    while not (run / "checkpoints" / "last.ckpt").is_file() and time.time() < deadline and proc.poll() is None:
        time.sleep(0.2)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    # with --quiet that line is all: none of Lightning's notes (hardware found, a logger tip, deprecations)
    assert len(err.strip().splitlines()) == 1, err
    assert err.strip().startswith("sonosynth: interrupted: training stopped by a signal after"), err
    assert "continue with --resume" in err and not (run / "translate.safetensors").exists()


@pytest.mark.parametrize("damage", ["no generator weights", "step count not a number", "not a checkpoint"])
def test_export_refuses_a_checkpoint_it_cannot_turn_into_weights(clip_folder, tmp_path, damage):
    """Each used to end in a traceback, or in weights that translate then refused."""
    import torch

    from sonosynth.errors import MissingWeights
    from sonosynth.methods.translate.train import export_checkpoint

    run = tmp_path / "run"
    train(TranslateConfig.tiny().override(steps=2), clip_folder, run, quiet=True, accelerator="cpu", devices=1)
    state = torch.load(str(run / "checkpoints" / "last.ckpt"), map_location="cpu", weights_only=True)
    if damage == "no generator weights":
        state["state_dict"] = {k: v for k, v in state["state_dict"].items() if not k.startswith("generator")}
    elif damage == "step count not a number":
        state["global_step"] = "many"
    damaged = tmp_path / "damaged.ckpt"
    if damage == "not a checkpoint":
        damaged.write_bytes(b"PK\x03\x04" + bytes(200))
    else:
        torch.save(state, damaged)
    with pytest.raises(MissingWeights, match="not a translation training checkpoint") as e:
        export_checkpoint(damaged, tmp_path / "w.safetensors")
    assert "weights_only=False" not in str(e.value) and not (tmp_path / "w.safetensors").exists()
