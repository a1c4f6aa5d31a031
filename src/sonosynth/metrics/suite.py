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
from .clips import clip_paths, read_grey

PAIRED = ("ssim", "ms_ssim", "psnr", "mae", "flicker", "warp", "lpips")
UNPAIRED = ("fid", "kid", "fvd", "domain")
ALL = PAIRED + UNPAIRED
DEFAULT = ("ssim", "ms_ssim", "psnr", "mae", "flicker", "warp", "lpips", "fid", "kid", "fvd", "domain")
FID_MIN_N, FVD_MIN_N = 2048, 256  # the sample sizes the reference papers use


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
    if not text:
        return DEFAULT
    names = tuple(m.strip().lower().replace("-", "_") for m in text.split(",") if m.strip())
    unknown = [m for m in names if m not in ALL]
    if unknown:
        raise BadOption(f"unknown metric(s) {', '.join(unknown)}; choose from {', '.join(ALL)}")
    return names


def _load_mask(path: Path, name: str, shape) -> np.ndarray:
    """A mask for the pair named `name`: a file for all pairs, or a folder with one file per stem."""
    import cv2

    if path.is_dir():
        hits = sorted(path.glob(Path(name).stem + ".*"))
        if not hits:
            raise UnreadableInput(f"mask folder {path} has no mask for {name}")
        path = hits[0]
    if path.suffix.lower() == ".npz":
        with np.load(path) as z:
            if "mask" not in z:
                raise UnreadableInput(f"{path}: npz mask needs an array named 'mask'")
            m = np.asarray(z["mask"]).astype(bool)
    else:
        img = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
        if img is None:
            raise UnreadableInput(f"{path}: cannot read mask image")
        m = img > 0
    if m.shape != tuple(shape) and m.shape != tuple(shape[1:]):
        raise BadOption(f"mask {path.name} has shape {m.shape}, the clip {name} has {tuple(shape)}")
    return m


def _pair_scores(real: np.ndarray, fake: np.ndarray, mask, opts: Options, name: str) -> dict:
    from . import flicker

    if real.shape != fake.shape:
        raise BadOption(f"pair {name}: real {real.shape} and fake {fake.shape} differ in shape")
    s: dict = {"clip": name, "frames": int(len(real))}
    m = set(opts.metrics)
    funcs = {"ssim": paired.ssim, "psnr": paired.psnr, "mae": paired.mae}
    if "ms_ssim" in m:
        if min(real.shape[1:]) >= 176:
            funcs["ms_ssim"] = paired.ms_ssim
        else:
            s["_warning"] = f"MS-SSIM left out for {name}: frames {real.shape[1:]} are under 176 px a side"
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

    if opts.pairs:
        for rp, fp in progress(_match(real_paths, fake_paths), desc="pairs", unit="pair"):
            r, f = read_grey(rp), read_grey(fp)
            mask = _load_mask(opts.mask, fp.name, r.shape) if opts.mask else None
            per_clip.append(_pair_scores(r, f, mask, opts, fp.name))
            mid = len(r) // 2
            thumbs.append((fp.name, r[mid], f[mid]))
            features("real", r, rp.name)
            features("fake", f, fp.name)
    else:
        if opts.mask:
            raise BadOption("--mask applies to paired metrics: add --pairs")
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
    out["warnings"] += [c.pop("_warning") for c in per_clip if "_warning" in c]
    if not opts.pairs and m & set(PAIRED):
        out["warnings"].append(f"paired metrics ({', '.join(x for x in PAIRED if x in m)}) not computed: they need --pairs")
    if per_clip:
        keys = list(dict.fromkeys(k for c in per_clip for k in c if k not in ("clip", "frames")))
        out["paired"] = {"per_clip": per_clip, "summary": {k: summary([c[k] for c in per_clip if k in c]) for k in keys}}
        protocol["paired_metrics"] = "per frame, averaged over frames, then over clips; SSIM Gaussian sigma 1.5, data range 255"
    dist: dict = {}
    if feats["real"]["fid"] and feats["fake"]["fid"]:
        from . import fid as fidm
        from ..nn.i3d import sha256

        a, b = np.concatenate(feats["real"]["fid"]), np.concatenate(feats["fake"]["fid"])
        if "fid" in m:
            dist["fid"] = frechet_distance(a, b)
        if "kid" in m:
            dist["kid"], dist["kid_std"] = kid(a, b)
        protocol["fid"] = {**fidm.PROTOCOL, "frames_per_clip": opts.frames_per_clip, "n_real": len(a), "n_fake": len(b),
                           "weights_sha256": sha256(fidm.weights_path())}
        if min(len(a), len(b)) < FID_MIN_N:
            out["warnings"].append(f"FID/KID from {min(len(a), len(b))} frames: FID is biased upward below ~{FID_MIN_N} "
                                   "samples (2048-d covariance); compare only at equal N, prefer KID")
    if feats["real"]["fvd"] and feats["fake"]["fvd"]:
        from . import fvd as fvdm
        from ..nn.i3d import sha256, weights_path

        real = tuple(np.concatenate([f[i] for f in feats["real"]["fvd"]]) for i in (0, 1))
        fake = tuple(np.concatenate([f[i] for f in feats["fake"]["fvd"]]) for i in (0, 1))
        dist.update({k: v for k, v in fvdm.fvd_from_features(real, fake).items() if k.startswith("fvd")})
        protocol["fvd"] = {**fvdm.PROTOCOL, "windows_per_clip": opts.windows_per_clip, "n_real": len(real[0]),
                           "n_fake": len(fake[0]), "weights_sha256": sha256(weights_path())}
        if min(len(real[0]), len(fake[0])) < FVD_MIN_N:
            out["warnings"].append(f"FVD from {min(len(real[0]), len(fake[0]))} windows: the reference uses {FVD_MIN_N}+; "
                                   "small-N FVD is biased and noisy, compare only at equal N")
    if "domain" in m:
        if feats["real"]["domain"] and feats["fake"]["domain"]:
            from .domain import describe

            a, b = np.concatenate(feats["real"]["domain"]), np.concatenate(feats["fake"]["domain"])
            dist["domain_fvd"] = frechet_distance(a, b)
            protocol["domain"] = describe(opts.domain_weights)
        else:
            out["warnings"].append("domain FVD not computed: no --domain-weights given (train one with "
                                   "`sonosynth evaluate-downstream domain-net`); the standard FVD above is unaffected")
    if "lpips" in m and opts.pairs:
        out["perceptual"] = _perceptual(thumbs, opts)
    out["distribution"] = dist
    out["protocol"] = protocol
    out["_thumbs"] = thumbs
    return out


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
