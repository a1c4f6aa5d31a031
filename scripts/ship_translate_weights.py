"""Export a training run's weights as the shipped `translate_small` model with its model card.

    .venv/bin/python scripts/ship_translate_weights.py runs/translate-small [--benchmark bench.json]
    .venv/bin/python scripts/ship_translate_weights.py --benchmark bench.json [--note "what changed"]   # new figures, same weights

Reads RUN/translate.safetensors (+ .json) from `sonosynth train translate`, writes
src/sonosynth/weights/translate_small.safetensors and .json, adding the card's data, licence,
command and, when given, the benchmark figures measured with benchmarks/translate.py --json.
"""
from __future__ import annotations

import argparse
import csv
import json
import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEST = ROOT / "src" / "sonosynth" / "weights" / "translate_small"
COMMAND = "sonosynth train translate --data ../shared/data/lung --preset small --steps {steps} --out runs/translate-small"


def summarise(bench: dict) -> dict:
    """Mean of each score per (domain, codec, method), as the benchmark table prints it."""
    groups: dict[str, dict[str, list[float]]] = {}
    for row in bench["rows"]:
        key = f"{row['domain']} | {row['codec']} | {row['method']}"
        for k in ("ssim", "box_ssim", "psnr", "mae", "flicker", "fps"):
            if k in row:
                groups.setdefault(key, {}).setdefault(k, []).append(row[k])
    out = {k: {m: round(sum(v) / len(v), 4) for m, v in d.items()} for k, d in groups.items()}
    out["speed"] = bench.get("speed", {})
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("run", type=Path, nargs="?", default=None, help="without it only the card's figures are renewed")
    ap.add_argument("--benchmark", type=Path, default=None)
    ap.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    ap.add_argument("--note", default=None, help="the card's metrics_note: why the figures were renewed")
    args = ap.parse_args()
    if args.run is None:
        if not args.benchmark:
            ap.error("give a training run, a --benchmark file, or both")
        meta = json.loads(DEST.with_suffix(".json").read_text())
        meta["card"]["metrics"] = summarise(json.loads(args.benchmark.read_text()))
        if args.note:
            meta["card"]["metrics_note"] = args.note
        DEST.with_suffix(".json").write_text(json.dumps(meta, indent=2) + "\n")
        print(f"renewed the figures in {DEST.with_suffix('.json')}")
        return
    src = args.run / "translate.safetensors"
    meta = json.loads(src.with_suffix(".json").read_text())
    card = meta["card"]
    names = [Path(p).name for p in card.get("data", [])]
    licences = {}
    csv_path = args.data / "lung" / "clips.csv"
    if csv_path.is_file():
        with csv_path.open(newline="") as f:
            licences = {r["file"]: r["license"] for r in csv.DictReader(f)}
    card.update({
        "name": "translate_small",
        "task": "colour-Doppler (CFD/power) to greyscale B-mode video translation",
        "training_data": {
            "clips": names,
            "source": "lung ultrasound clips of the POCUS dataset (Born et al., Applied Sciences 2021), CC BY subset",
            "licences": sorted({licences.get(n, "see clips.csv") for n in names}),
            "held_out_for_benchmarks": card.get("held_out", []),
        },
        "command": COMMAND.format(steps=card["steps"]),
        "data": names,
        "intended_use": "research: turning colour-flow clips into greyscale training data; not for diagnosis",
        "output_marking": "outputs are derived and synthetic; DICOM outputs say so in ImageType and DerivationDescription",
    })
    if args.benchmark:
        card["metrics"] = summarise(json.loads(args.benchmark.read_text()))
        card["metrics_command"] = ".venv/bin/python benchmarks/translate.py --frames 40 --json bench.json"
    meta["card"] = card
    DEST.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(src, DEST.with_suffix(".safetensors"))
    DEST.with_suffix(".json").write_text(json.dumps(meta, indent=2) + "\n")
    print(f"wrote {DEST.with_suffix('.safetensors')} ({DEST.with_suffix('.safetensors').stat().st_size / 1e6:.1f} MB)")


if __name__ == "__main__":
    main()
