"""The CLI frame: usage mistakes are one line and exit 2; help is shown and exits 0."""
from __future__ import annotations

import pytest

from sonosynth.cli import main


@pytest.mark.parametrize("argv", [["translate"], ["no-such-command"], ["convert", "a.mp4", "b.mp4", "--crf", "99"],
                                  ["train", "translate", "--preset", "small"], ["info", "--no-such-flag", "x"],
                                  ["overlay", "a.npz", "-o", "b.npz", "--seed", "-1"], ["demo", "--seed", "-1"],
                                  ["evaluate-downstream", "domain-net", "-o", "w.safetensors", "--seed", "-3"],
                                  ["evaluate-downstream", "classify", "--seeds", "1,-2", "-o", "r"],
                                  ["evaluate-downstream", "classify", "--seeds", ",", "-o", "r"],
                                  ["evaluate-downstream", "classify", "--seeds", "1,1", "-o", "r"],  # not two runs
                                  ["evaluate-downstream", "classify", "--seeds", "", "-o", "r"],  # not the preset's
                                  ["evaluate-downstream", "segment", "--seeds", "1,,2", "-o", "r"],
                                  ["evaluate-downstream", "classify", "--seeds", "99999999999999999999999", "-o", "r"]])
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


def test_a_decoder_message_over_several_lines_is_printed_on_one(capsys):
    """pydicom lists every plugin it tried, one per line; the user gets one line and exit 2."""
    pydicom_data = pytest.importorskip("pydicom.data")
    with pytest.raises(SystemExit) as e:
        main(["info", pydicom_data.get_testdata_file("JPEG-lossy.dcm")])
    err = capsys.readouterr().err
    if e.value.code == 0:
        pytest.skip("a JPEG plugin here decodes 12-bit JPEG Extended")
    assert e.value.code == 2 and len(err.strip().splitlines()) == 1 and "cannot decode" in err


def test_pytorch_failing_to_allocate_counts_as_out_of_memory():
    """torch raises RuntimeError, not MemoryError, when an allocation fails (a huge --batch, say)."""
    import torch

    from sonosynth.cli import out_of_memory

    with pytest.raises(RuntimeError) as e:
        torch.empty(2**60, dtype=torch.uint8)
    assert out_of_memory(e.value)
    assert not out_of_memory(RuntimeError("shape mismatch")) and not out_of_memory(ValueError("out of memory"))


@pytest.mark.parametrize("case", ["output is a file", "missing weights"])
def test_demo_refuses_in_one_line_and_makes_no_folder(case, capsys, tmp_path):
    out = tmp_path / "demo-out"
    args = ["demo", "-o", str(out)]
    if case == "output is a file":
        out.write_text("mine")
    else:
        args += ["--weights", str(tmp_path / "nope.safetensors")]
    with pytest.raises(SystemExit) as e:
        main(args)
    err = capsys.readouterr().err
    assert e.value.code == 2 and len(err.strip().splitlines()) == 1, err
    assert out.read_text() == "mine" if case == "output is a file" else not out.exists()
