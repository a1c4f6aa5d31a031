"""The CLI frame: usage mistakes are one line and exit 2; help is shown and exits 0."""
from __future__ import annotations

import pytest

from sonosynth.cli import main


@pytest.mark.parametrize("argv", [["translate"], ["no-such-command"], ["convert", "a.mp4", "b.mp4", "--crf", "99"],
                                  ["train", "translate", "--preset", "small"], ["info", "--no-such-flag", "x"],
                                  ["overlay", "a.npz", "-o", "b.npz", "--seed", "-1"], ["demo", "--seed", "-1"],
                                  ["evaluate-downstream", "domain-net", "-o", "w.safetensors", "--seed", "-3"],
                                  ["evaluate-downstream", "classify", "--seeds", "1,-2", "-o", "r"],
                                  ["evaluate-downstream", "classify", "--seeds", ",", "-o", "r"]])
def test_usage_errors_are_one_line_and_exit_2(argv, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # a mistake caught late would write here, not in the project
    with pytest.raises(SystemExit) as e:
        main(argv)
    err = capsys.readouterr().err
    assert e.value.code == 2
    assert len(err.strip().splitlines()) == 1 and err.startswith("sonosynth: error: ")


@pytest.mark.parametrize("argv", [[], ["--help"], ["study"], ["translate", "--help"]])
def test_help_exits_0(argv, capsys):
    with pytest.raises(SystemExit) as e:
        main(argv)
    assert e.value.code == 0
    assert "Usage: sonosynth" in capsys.readouterr().out
