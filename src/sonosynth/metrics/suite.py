"""The evaluation run behind `sonosynth evaluate`: read two sets of clips once, compute what was asked.

Clips are streamed: each is read, its paired scores and network features are taken, and only the
features (and one thumbnail frame for the report) are kept, so folders of long clips fit in memory.
"""
from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np

from ..errors import BadOption, UnreadableInput
from ..progress import progress
from . import paired
from .clips import clip_paths, read_grey, read_mask
from .fvd import FRAMES as FVD_FRAMES

PAIRED = ("ssim", "ms_ssim", "psnr", "mae", "flicker", "warp", "lpips")
UNPAIRED = ("fid", "kid", "fvd", "domain")
ALL = PAIRED + UNPAIRED
DEFAULT = ("ssim", "ms_ssim", "psnr", "mae", "flicker", "warp", "lpips", "fid", "kid", "fvd", "domain")
FID_MIN_N, FVD_MIN_N = 2048, 256  # the sample sizes the reference papers use
MIN_SAMPLES = 2  # a covariance (FID, FVD) and the unbiased KID need two samples a side


@dataclasses.dataclass
class Options:
    metrics: tuple[str, ...] = DEFAULT
    pairs: bool = False
    mask: Path | None = None
    device: str = "cpu"
    frames_per_clip: int = 8
    windows_per_clip: int = 4
    perceptual_weights: Path | None = None
    domain_weights: Path | None = None


def parse_metrics(text: str | None) -> tuple[str, ...]:
    """Metric names from --metrics; None means all. A list naming none (",") is refused, not run empty."""
    if text is None:
        return DEFAULT
    names = tuple(dict.fromkeys(m.strip().lower().replace("-", "_") for m in text.split(",") if m.strip()))
    if not names:
        raise BadOption(f"--metrics names no metrics; choose from {', '.join(ALL)}")
    unknown = [m for m in names if m not in ALL]
    if unknown:
        raise BadOption(f"unknown metric(s) {', '.join(unknown)}; choose from {', '.join(ALL)}")
    return names


def _pair_mask(path: Path, shared: np.ndarray | None, name: str, shape) -> np.ndarray:
    """The mask for the pair named `name`: `shared` (the one file read up front), or its file in the mask folder."""
    m = shared
    if m is None:
        hits = sorted(path.glob(Path(name).stem + ".*"))
        if not hits:
            raise UnreadableInput(f"mask folder {path} has no mask for {name}")
        path, m = hits[0], read_mask(hits[0])
    if m.shape != tuple(shape) and m.shape != tuple(shape[1:]):
        raise BadOption(f"mask {path.name} has shape {m.shape}, the clip {name} has {tuple(shape)}")
    if not m.any():
        raise BadOption(f"mask {path.name} is empty: nothing to measure")
    return m


def _check_weights(opts: Options) -> None:
    """Load every weights file the user named before any clip is read: a missing or broken file is an error,
    not a note found after the run (no file at all is still only a note: that metric is unavailable)."""
    if opts.perceptual_weights is not None:
        from .lpips import load

        load(opts.perceptual_weights)
    if opts.domain_weights is not None:
        from .domain import check_weights

        check_weights(opts.domain_weights, opts.device)


def _pair_scores(real: np.ndarray, fake: np.ndarray, mask, opts: Options, name: str) -> dict:
    from . import flicker

    if real.shape != fake.shape:
        raise BadOption(f"pair {name}: real {real.shape} and fake {fake.shape} differ in shape")
    s: dict = {"clip": name, "frames": int(len(real)), "_warnings": []}
    m = set(opts.metrics)
    funcs = {"ssim": paired.ssim, "psnr": paired.psnr, "mae": paired.mae}
    if "ms_ssim" in m:
        if min(real.shape[1:]) >= 176:
            funcs["ms_ssim"] = paired.ms_ssim
        else:
            s["_warnings"].append(f"MS-SSIM left out for {name}: frames {real.shape[1:]} are under 176 px a side")
    for k, fn in funcs.items():
        if k in m:
            s[k] = fn(real, fake)
            if mask is not None:
                s[f"{k}_mask"] = fn(real, fake, mask)
                s[f"{k}_bbox"] = fn(real, fake, mask, region="bbox")
    if "flicker" in m and len(real) > 1:
        s["flicker"] = flicker.temporal_flicker(fake, real)
    if "warp" in m and len(real) > 1:
        s["warp_error"] = flicker.warping_error(fake, real)
        s["warp_error_real"] = flicker.warping_error(real, real)
    return s


def _match(real: list[Path], fake: list[Path]) -> list[tuple[Path, Path]]:
    by_name = {p.stem: p for p in real}
    if all(f.stem in by_name for f in fake):
        return [(by_name[f.stem], f) for f in fake]
    if len(real) != len(fake):
        raise BadOption(f"--pairs needs matching names or equal counts: {len(real)} real vs {len(fake)} fake clips")
    return list(zip(real, fake))


def run(real: Path, fake: Path, opts: Options) -> dict:
    """All requested metrics; returns the JSON-able results plus '_thumbs' for the report."""
    m = set(opts.metrics)
    real_paths, fake_paths = clip_paths(real), clip_paths(fake)
    want_fid, want_fvd = bool(m & {"fid", "kid"}), "fvd" in m
    want_domain = "domain" in m and opts.domain_weights is not None
    feats = {side: {"fid": [], "fvd": [], "domain": []} for side in ("real", "fake")}
    per_clip, thumbs, skipped = [], [], []

    def features(side: str, clip: np.ndarray, name: str) -> None:
        from . import fid as fidm
        from . import fvd as fvdm

        if want_fid:
            feats[side]["fid"].append(fidm.fid_features(fidm.sample_frames(clip, opts.frames_per_clip), opts.device))
        if (want_fvd or want_domain) and len(clip) < fvdm.FRAMES:
            skipped.append(f"{side} clip {name} has {len(clip)} frames (< {fvdm.FRAMES}): left out of FVD")
            return
        wins = fvdm.windows(clip, opts.windows_per_clip) if (want_fvd or want_domain) else []
        if want_fvd:
            feats[side]["fvd"].append(fvdm.i3d_features(wins, opts.device))
        if want_domain:
            from .domain import domain_features

            feats[side]["domain"].append(domain_features(wins, opts.domain_weights, opts.device))

    if opts.mask and not opts.pairs:
        raise BadOption("--mask applies to paired metrics: add --pairs")
    if not opts.pairs and m <= set(PAIRED):  # nothing would be computed: a report of warnings only
        raise BadOption(f"{', '.join(x for x in PAIRED if x in m)} compare real and fake clip by clip: add --pairs")
    pairs = _match(real_paths, fake_paths) if opts.pairs else []
    unpaired = sorted(set(real_paths) - {rp for rp, _ in pairs}) if opts.pairs else []
    if unpaired:
        names = ", ".join(p.name for p in unpaired[:5]) + (", ..." if len(unpaired) > 5 else "")
        skipped.append(f"{len(unpaired)} real clip(s) have no fake of the same name and are left out of every score: {names}")
    by_order = [(rp, fp) for rp, fp in pairs if rp.stem != fp.stem]
    if by_order:
        shown = ", ".join(f"{rp.name} with {fp.name}" for rp, fp in by_order[:3]) + (", ..." if len(by_order) > 3 else "")
        skipped.append(f"{len(by_order)} pair(s) matched by sorted order, not by name (the names differ): {shown}; "
                       "name each fake as its real clip if that is not the pairing meant")
    shared_mask = read_mask(opts.mask) if opts.mask and not opts.mask.is_dir() else None
    _check_weights(opts)
    if opts.pairs:
        for rp, fp in progress(pairs, desc="pairs", unit="pair"):
            r, f = read_grey(rp), read_grey(fp)
            mask = _pair_mask(opts.mask, shared_mask, fp.name, r.shape) if opts.mask else None
            per_clip.append(_pair_scores(r, f, mask, opts, fp.name))
            mid = len(r) // 2
            thumbs.append((fp.name, r[mid], f[mid]))
            features("real", r, rp.name)
            features("fake", f, fp.name)
    else:
        for side, paths in (("real", real_paths), ("fake", fake_paths)):
            for p in progress(paths, desc=f"{side} clips", unit="clip"):
                features(side, read_grey(p), p.name)
    return _assemble(real_paths, fake_paths, opts, per_clip, thumbs, feats, skipped)


def _assemble(real_paths, fake_paths, opts, per_clip, thumbs, feats, skipped) -> dict:
    from .frechet import frechet_distance, kid
    from .stats import summary

    m = set(opts.metrics)
    out: dict = {"n_real_clips": len(real_paths), "n_fake_clips": len(fake_paths), "warnings": list(skipped)}
    protocol: dict = {"paired": opts.pairs, "metrics": list(opts.metrics), "device": opts.device}
    out["warnings"] += [w for c in per_clip for w in c.pop("_warnings")]
    if not opts.pairs and m & set(PAIRED):
        out["warnings"].append(f"paired metrics ({', '.join(x for x in PAIRED if x in m)}) not computed: they need --pairs")
    if per_clip:
        keys = list(dict.fromkeys(k for c in per_clip for k in c if k not in ("clip", "frames")))
        out["paired"] = {"per_clip": per_clip, "summary": {k: summary([c[k] for c in per_clip if k in c]) for k in keys}}
        protocol["paired_metrics"] = "per frame, averaged over frames, then over clips; SSIM Gaussian sigma 1.5, data range 255"
    dist: dict = {}
    if m & {"fid", "kid"}:
        a, b = _stack(feats["real"]["fid"]), _stack(feats["fake"]["fid"])
        if _enough("FID/KID", "frames", a, b, out["warnings"], "more clips, or more --frames-per-clip"):
            from . import fid as fidm
            from ..nn.i3d import sha256

            if "fid" in m:
                dist["fid"] = frechet_distance(a, b)
            if "kid" in m:
                dist["kid"], dist["kid_std"] = kid(a, b)
            protocol["fid"] = {**fidm.PROTOCOL, "frames_per_clip": opts.frames_per_clip, "n_real": len(a), "n_fake": len(b),
                               "weights_sha256": sha256(fidm.weights_path())}
            if min(len(a), len(b)) < FID_MIN_N:
                out["warnings"].append(f"FID/KID from {min(len(a), len(b))} frames: FID is biased upward below ~{FID_MIN_N} "
                                       "samples (2048-d covariance); compare only at equal N, prefer KID")
    window_hint = f"clips under {FVD_FRAMES} frames give none"
    if "fvd" in m:
        real = tuple(_stack([f[i] for f in feats["real"]["fvd"]]) for i in (0, 1))
        fake = tuple(_stack([f[i] for f in feats["fake"]["fvd"]]) for i in (0, 1))
        if _enough("FVD", f"{FVD_FRAMES}-frame windows", real[0], fake[0], out["warnings"], window_hint):
            from . import fvd as fvdm
            from ..nn.i3d import sha256, weights_path

            dist.update({k: v for k, v in fvdm.fvd_from_features(real, fake).items() if k.startswith("fvd")})
            protocol["fvd"] = {**fvdm.PROTOCOL, "windows_per_clip": opts.windows_per_clip, "n_real": len(real[0]),
                               "n_fake": len(fake[0]), "weights_sha256": sha256(weights_path())}
            if min(len(real[0]), len(fake[0])) < FVD_MIN_N:
                out["warnings"].append(f"FVD from {min(len(real[0]), len(fake[0]))} windows: the reference uses {FVD_MIN_N}+; "
                                       "small-N FVD is biased and noisy, compare only at equal N")
    if "domain" in m and opts.domain_weights is None:
        out["warnings"].append("domain FVD not computed: no --domain-weights given (train one with "
                               "`sonosynth evaluate-downstream domain-net`); the standard FVD above is unaffected")
    elif "domain" in m:
        a, b = _stack(feats["real"]["domain"]), _stack(feats["fake"]["domain"])
        if _enough("domain FVD", f"{FVD_FRAMES}-frame windows", a, b, out["warnings"], window_hint):
            from .domain import describe

            dist["domain_fvd"] = frechet_distance(a, b)
            protocol["domain"] = describe(opts.domain_weights)
    if "lpips" in m and opts.pairs:
        out["perceptual"] = _perceptual(thumbs, opts)
        if not out["perceptual"]["available"]:
            out["warnings"].append(f"LPIPS not computed: {out['perceptual']['reason']}")
    out["distribution"] = dist
    out["protocol"] = protocol
    out["_thumbs"] = thumbs
    return out


def _stack(parts: list[np.ndarray]) -> np.ndarray:
    """The rows of per-clip feature arrays as one array (none when no clip gave any)."""
    return np.concatenate(parts) if parts else np.zeros((0, 0))


def _enough(metric: str, unit: str, real: np.ndarray, fake: np.ndarray, warnings: list, hint: str) -> bool:
    """Whether both sides have the samples a distribution metric needs; if not, the metric is left out with a
    note, as any unavailable metric is, and the paired scores still stand."""
    if min(len(real), len(fake)) >= MIN_SAMPLES:
        return True
    warnings.append(f"{metric} not computed: it needs at least {MIN_SAMPLES} {unit} on each side, "
                    f"got {len(real)} real and {len(fake)} fake ({hint})")
    return False


def _perceptual(thumbs, opts) -> dict:
    """LPIPS/VGG on the middle frame of each pair, or the reason it is unavailable."""
    from .lpips import perceptual

    if not thumbs:
        return {"available": False, "reason": "no pairs"}
    rows = [perceptual(r, f, opts.perceptual_weights, opts.device) for _, r, f in thumbs]
    if not rows[0]["available"]:
        return rows[0]
    out = {k: float(np.mean([r[k] for r in rows])) for k in ("lpips", "vgg_l1") if k in rows[0]}
    return {"available": True, "frames": "middle frame of each pair", "weights_sha256": rows[0]["weights_sha256"], **out}
