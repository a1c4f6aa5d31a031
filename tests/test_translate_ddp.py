"""Training on several processes (DDP): the same command on two CPU processes and on two nodes on loopback,
exact resume, and each rank's own share of the samples."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from safetensors.numpy import load_file

from sonosynth.errors import BadOption
from sonosynth.methods.translate.config import TranslateConfig
from sonosynth.methods.translate.train import train

pytest.importorskip("lightning")


def _weights(run):
    return load_file(str(run / "translate.safetensors"))


EXE = str(Path(sys.executable).parent / "sonosynth")


def _train_cli(data, out, *extra: str, env=None):
    cmd = [EXE, "--quiet", "train", "translate", "--data", str(data), "--preset", "tiny", "--accelerator", "cpu",
           "--out", str(out), *extra]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _finish(proc) -> str:
    stdout, stderr = proc.communicate(timeout=300)
    assert proc.returncode == 0, stderr[-3000:]
    return stdout


def test_the_same_command_trains_on_two_processes_resumes_exactly_and_trains_on_two_nodes(clip_folder, tmp_path):
    import json

    two = tmp_path / "two-processes"  # Lightning starts the second process by rerunning the command
    stdout = _finish(_train_cli(clip_folder, two, "--devices", "2"))
    assert stdout.count("weights:") == 1  # the second rank says nothing
    card = json.loads((two / "translate.json").read_text())["card"]
    assert card["device"] == "1 node(s) x 2 CPUAccelerator" and card["steps"] == 4
    assert (two / "checkpoints" / "last.ckpt").is_file() and (two / "config.json").is_file()
    resumed = tmp_path / "two-processes-resumed"  # stopped after its first checkpoint, then resumed
    _finish(_train_cli(clip_folder, resumed, "--devices", "2", "--steps", "2"))
    _finish(_train_cli(clip_folder, resumed, "--devices", "2", "--resume"))
    a, b = _weights(two), _weights(resumed)
    for k in a:
        np.testing.assert_array_equal(a[k], b[k], err_msg=k)

    nodes = tmp_path / "two-nodes"  # two nodes on loopback, each started by hand, sharing the run folder
    env = {**os.environ, "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(_free_port())}
    second = _train_cli(clip_folder, nodes, "--devices", "1", "--num-nodes", "2", env={**env, "NODE_RANK": "1"})
    first = _train_cli(clip_folder, nodes, "--devices", "1", "--num-nodes", "2", env={**env, "NODE_RANK": "0"})
    assert "weights:" in _finish(first) and "weights:" not in _finish(second)
    card = json.loads((nodes / "translate.json").read_text())["card"]
    assert card["device"] == "2 node(s) x 1 CPUAccelerator" and card["steps"] == 4
    a, b = _weights(two), _weights(nodes)  # world 2 either way: the same samples per rank, the same run,
    for k in a:  # but Lightning sets each rank's threads from the processes per node: sums round differently
        np.testing.assert_allclose(a[k], b[k], rtol=1e-4, atol=1e-6, err_msg=k)
    with pytest.raises(BadOption, match="--devices"):
        train(TranslateConfig.tiny(), clip_folder, tmp_path / "none", quiet=True, accelerator="cpu", devices="two")
    assert not (tmp_path / "none").exists()


def _ranks_draw(rank: int, world: int, port: int, drawn) -> None:
    import torch.distributed as dist

    from sonosynth.methods.translate.data import EpochSampler

    sampler = EpochSampler(per_rank=4)  # made before the process group, as `train` makes it
    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=world)
    sampler.set_epoch(1)
    drawn[rank] = list(sampler)
    dist.destroy_process_group()


def test_each_rank_draws_its_own_samples_once_the_process_group_exists():
    import torch.multiprocessing as mp

    drawn = mp.Manager().dict()
    mp.spawn(_ranks_draw, args=(2, _free_port(), drawn), nprocs=2)
    assert sorted(drawn[0] + drawn[1]) == list(range(8, 16))  # epoch 1 of 2 ranks x 4: every number once
    assert drawn[0] == [8, 10, 12, 14]
