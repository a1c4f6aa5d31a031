"""Inference: CFD clip in, greyscale clip out; only the colour pixels are replaced, at native resolution.

Frames stream through a window of `batch + 2·horizon + 1` frames, so memory stays constant however
long the clip is (`streaming.translate_video_file` streams a video file the same way). Within each
window the network sees only the crop around the holes (plus a margin), so its cost follows the
colour box, not the frame size. The pixels it is handed from other frames are moved with the
tissue's optical flow where that matches better (`align`), and the network's output is averaged with
them, the nearer in time the more (`blend_copies`); after a lossy codec a pixel no nearby frame shows
is partly Telea's fill of the frame with those copies (`telea_after_copies`). In temporal mode a
frame's rebuilt pixels are finally averaged with the same pixels of the frames before and after
(`stabiliser.stabilise`) when they change more from frame to frame than the tissue around the hole
does: the network's estimate of a pixel hidden in every nearby frame jitters with the codec noise
around the hole, which a viewer sees as flicker, while tissue that really moves must not be smeared.
Last, where a frame repeats the one before (a frame grabber's copies), what one copy hides and another
shows is copied (`repeats`); before that, a hidden pixel that every nearby frame showing it shows
with one value (a black border, a near-black phantom) takes that value (`still`). After a lossy codec,
the rim the holes were widened by can keep its recorded grey where it shows no colour (`codec_rim`; off).
Each output frame can come with a provenance map (`provenance_map`): which pixels were kept, which were
rebuilt with another frame's view of them, and which were inferred from their surroundings alone.
"""
from __future__ import annotations

import os
from collections import deque
from itertools import zip_longest
from pathlib import Path
from typing import Iterable, Iterator

import cv2
import numpy as np
import torch
from torch.nn import functional as F

from ...clip import Clip
from ...device import check_device
from ...errors import BadOption
from ...preprocess.doppler import lossy_source, rebuild_mask
from .align import FlowCache, aligned_nearest_visible
from .codec_rim import clean_rim
from .model import PRIOR_CHANNELS, seen_elsewhere
from .repeats import carry_repeats, repeats
from .stabiliser import stabilise
from .still import fill_still_pixels
from .temporal import network_inputs
from .weights import load_generator

MARGIN = 16  # context pixels around the holes handed to the network
COPY_MAX_CHANGE = 0.25  # copy a pixel only from frames whose tissue differs by ≤ 25 % of its brightness (`temporal.similar_tissue`)
UNSEEN_FRAME_BY_FRAME = True  # a pixel no frame within the horizon shows gets the frame-by-frame estimate (`_predict`)
SPECK_MAX_AREA = 256  # visible patches this small, enclosed by colour, are not a fill's source (`enclosed_specks`)
CARRY_REPEATS = True  # a pixel one copy of a repeated frame hides and another shows is copied (`repeats`)
ALIGN_COPIES = True  # pixels copied from other frames follow the tissue's optical flow (`align`)
FLIP_AVERAGE = True  # the network's output averaged with its output on the mirrored input (`_network`)
COPY_WEIGHT = 1.0  # weight of a copy seen d frames away, COPY_WEIGHT / d, beside the network's 1 (`blend_copies`; 0 = off)
UNSEEN_LOSSY_TELEA = 1 / 3  # after a lossy codec, Telea's weight in the pixels no frame within the horizon shows (`_predict`; 0 = off)
PRECISIONS = ("float32", "bfloat16")  # of the networks' arithmetic (`_network`)
KEPT, SEEN_ELSEWHERE, INFERRED = 0, 128, 255  # the levels of a provenance map (`provenance_map`)


class Translator:
    """A loaded generator plus the streaming logic; reuse one for many clips."""

    def __init__(self, weights: str | Path | None = None, device: str = "cpu", batch: int = 8, temporal: bool = True,
                 mirror: bool = True, precision: str = "float32"):
        if not isinstance(batch, (int, np.integer)) or isinstance(batch, bool) or batch < 1:
            raise BadOption(f"--batch must be a whole number of at least 1, not {batch!r}")
        if precision not in PRECISIONS:
            raise BadOption(f"--precision must be one of {', '.join(PRECISIONS)}, not {precision!r}")
        if weights is not None and not isinstance(weights, (str, os.PathLike)):
            raise BadOption(f"weights must be a path to a .safetensors file, not {type(weights).__name__}")
        check_device(device)
        if precision == "bfloat16" and device.startswith("cuda") and not torch.cuda.is_bf16_supported():
            raise BadOption(f"--precision bfloat16: {device} has no bfloat16 arithmetic; use float32")
        self.generator, self.cfg, self.meta = load_generator(weights)
        self.device = torch.device(device)
        self.generator.to(self.device)
        self.batch, self.temporal = batch, temporal and self.cfg.temporal
        self.mirror = mirror  # False: one network pass (`_network`), faster, slightly worse fills
        self.precision = precision  # bfloat16: the networks under autocast (`_network`)
        self.horizon = self.cfg.horizon

    def stream(self, frames: Iterable[tuple[np.ndarray, np.ndarray]],
               region: tuple[int, int, int, int] | None = None, lossy: bool = False,
               provenance: bool = False) -> Iterator[np.ndarray] | Iterator[tuple[np.ndarray, np.ndarray]]:
        """(grey uint8 (H,W), hole bool (H,W)) per frame in → rebuilt grey uint8 (H,W) per frame out, in order;
        with `provenance`, (rebuilt grey, its `provenance_map`) pairs.

        `region` (y0, y1, x0, x1) fixes the crop the network sees (then the result does not depend on
        `batch`); without it each window is cropped around its own holes. Each window also rebuilds the
        frame after it (kept for the next window), which the temporal stabiliser needs. `lossy`: the frames
        went through a lossy codec (`_predict`).
        """
        R, n = self.horizon, self.batch
        buf: deque[tuple[np.ndarray, np.ndarray]] = deque()
        hidden: deque[np.ndarray] = deque()  # buf's holes with their enclosed specks: what the network must not see
        first = 0          # clip index of buf[0]
        next_target = 0    # first frame not yet emitted
        rebuilt: dict[int, np.ndarray] = {}  # clip index → rebuilt frame (unstabilised), kept while a neighbour needs it
        inferred: dict[int, np.ndarray] = {}  # clip index → its rebuilt pixels whose fill took in no other frame's view
        is_copy: dict[int, bool] = {}  # clip index → whether that frame repeats the one before (`repeats`)
        flows = FlowCache()  # optical flow between neighbouring frames of the window (`align`)
        done = False
        it = iter(frames)
        while not done or next_target < first + len(buf):
            while not done and first + len(buf) < next_target + n + R + 1:
                try:
                    buf.append(next(it))
                    hidden.append(hidden_from_network(buf[-1][1][None])[0])  # once a frame, not once a window
                except StopIteration:
                    done = True
            end = min(next_target + n, first + len(buf))
            ahead = min(end + 1, first + len(buf)) if self.temporal else end
            start = next_target + (next_target in rebuilt)
            frames_out, inferred_out = self._translate_window(buf, first, start, ahead, region, hidden, flows, lossy)
            rebuilt.update(zip(range(start, ahead), frames_out))
            inferred.update(zip(range(start, ahead), inferred_out))
            for t in range(next_target, end):
                if self.temporal:
                    frame, frame_inferred = self._after_network(t, buf, first, rebuilt, inferred[t], is_copy)
                else:
                    frame, frame_inferred = rebuilt[t], inferred[t]
                yield (frame, provenance_map(buf[t - first][1], frame_inferred)) if provenance else frame
            for t in [t for t in rebuilt if t < end - 1]:
                del rebuilt[t], inferred[t]
            next_target = end
            while buf and first < next_target - R - 1:
                buf.popleft()
                hidden.popleft()
                first += 1
                is_copy.pop(first, None)  # it compared the frame just dropped
            flows.forget_before(first)

    def _after_network(self, t: int, buf, first: int, rebuilt: dict[int, np.ndarray], inferred: np.ndarray,
                       is_copy: dict[int, bool]) -> tuple[np.ndarray, np.ndarray]:
        """Frame t's rebuilt pixels after the temporal steps that follow the network: the stabiliser, the
        still pixels (`still`) and the copies between repeated frames (`repeats`). Those two look at the
        frames within `horizon` of t, always in the window `buf`, so the result does not depend on `batch`.
        Also returns `inferred` (the pixels the network filled with no other frame's view) less those two took."""
        hole = buf[t - first][1]
        neighbours = [(rebuilt[s], buf[s - first][1]) for s in (t - 1, t + 1) if s in rebuilt]
        frame = stabilise(rebuilt[t], hole, neighbours)
        if not hole.any():
            return frame, inferred
        lo, hi = max(first, t - self.horizon), min(t + self.horizon, first + len(buf) - 1)
        taken = np.zeros_like(hole)
        frame = fill_still_pixels(frame, hole, [buf[s - first] for s in range(lo, hi + 1) if s != t], taken=taken)
        if CARRY_REPEATS:
            frame = self._carry_repeats(frame, t, buf, first, (lo, hi), is_copy, taken)
        return frame, inferred & ~taken

    def _carry_repeats(self, frame: np.ndarray, t: int, buf, first: int, span: tuple[int, int],
                       is_copy: dict[int, bool], taken: np.ndarray | None = None) -> np.ndarray:
        """`repeats.carry_repeats` for frame t of the window `buf`, with the copies of its picture among the
        frames `span` (first, last clip index); `is_copy` caches `repeats` per frame; `taken` as there."""
        def repeats_previous(s: int) -> bool:
            if s not in is_copy:
                is_copy[s] = repeats(buf[s - 1 - first], buf[s - first])
            return is_copy[s]

        lo, hi = span
        before, after = [], []
        for s in range(t - 1, lo - 1, -1):
            if not repeats_previous(s + 1):
                break
            before.append(buf[s - first])
        for s in range(t + 1, hi + 1):
            if not repeats_previous(s):
                break
            after.append(buf[s - first])
        nearest_first = [c for pair in zip_longest(before, after) for c in pair if c is not None]
        return carry_repeats(frame, buf[t - first][1], nearest_first, taken)

    @torch.inference_mode()
    def _translate_window(self, buf, first: int, t0: int, t1: int, region, hidden=None,
                          flows: FlowCache | None = None, lossy: bool = False) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """The rebuilt target frames t0..t1 of the window `buf`, and for each the hole pixels whose fill took in
        no other frame's view (`_predict`); `hidden`: `hidden_from_network` of its holes, if known; `flows`: the
        stream's cache of optical flows; `lossy`: as for `stream`."""
        grey = np.stack([g for g, _ in buf])
        holes = np.stack([h for _, h in buf])
        hidden = hidden_from_network(holes) if hidden is None else np.stack(hidden)
        targets = slice(t0 - first, t1 - first)
        out = grey[targets].copy()
        inferred = np.zeros(out.shape, bool)
        if t1 <= t0 or not holes[targets].any():
            return list(out), list(inferred)
        y0, y1, x0, x1 = region or hole_region(holes)
        pred, unseen = self._predict(grey[:, y0:y1, x0:x1], hidden[:, y0:y1, x0:x1], targets,
                                     None if flows is None else (flows, first, (y0, y1, x0, x1)), lossy)
        patch = out[:, y0:y1, x0:x1]
        hole_t = holes[targets, y0:y1, x0:x1]
        patch[hole_t] = pred[hole_t]
        inferred[:, y0:y1, x0:x1] = hole_t & unseen
        return list(out), list(inferred)

    def _aligned_copies(self, frames: torch.Tensor, holes: torch.Tensor, targets: slice,
                        window: tuple[FlowCache, int, tuple] | None) -> torch.Tensor:
        """The network's four prior channels (`align.aligned_nearest_visible`) for the target frames of a
        (1, T, h, w) window at the network's scale, (1, n targets, 4, h, w); `window` (the stream's flows, clip
        index of the window's first frame, crop) lets a stream measure each pair of frames once."""
        grey = ((frames[0] + 1.0) * 127.5).round().clamp(0, 255).to(torch.uint8).cpu().numpy()
        hidden = holes[0].cpu().numpy()
        flows = None if window is None else window[0].window(grey, hidden, *window[1:])
        found = aligned_nearest_visible(grey, hidden, range(len(grey))[targets], self.horizon, COPY_MAX_CHANGE, flows)
        return torch.from_numpy(np.stack(found, axis=1)).to(frames.device)[None]

    def _predict(self, grey: np.ndarray, holes: np.ndarray, targets: slice,
                 window: tuple[FlowCache, int, tuple] | None = None, lossy: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """Network output (uint8) for the target frames of a cropped window, at the crop's own size, and where no
        other frame within the horizon lent a pixel (bool, the same size; everywhere frame by frame).

        A hole pixel that no frame within the horizon shows takes the frame-by-frame estimate
        (`UNSEEN_FRAME_BY_FRAME`): there time holds nothing to copy, and the temporal input (the
        neighbour frames, whose holes pulse) only made the spatial fill jitter. On the near-black
        USTC phantom that jitter read flicker 1.4-3.7 against 1.0-1.4 frame by frame; on painted
        training clips the change is neutral (±0.02 dB) and +1.2 dB on darkened ones (docs/translate.md).
        After a lossy codec (`lossy`) it is mixed with Telea after the copies (`UNSEEN_LOSSY_TELEA`): there
        the network, trained on lossless windows, fills from codec-disturbed context and erred more than
        that classical fill (never-seen pixels of painted training clips, H.264: 27.6 dB against 28.2 dB),
        while on lossless clips it erred less (35.1 against 32.9 dB). A third of Telea raised the masked
        PSNR of the H.264 training groups by 0.3 dB; half raised it more but took moving tissue's flicker
        ratio under 0.8 (docs/translate.md, step 4)."""
        T, h, w = grey.shape
        scale = min(1.0, self.cfg.max_side / max(h, w))
        hn, wn = max(4, round(h * scale)), max(4, round(w * scale))
        frames = torch.from_numpy(grey).to(self.device, torch.float32).div_(127.5).sub_(1.0)[None]
        hole_t = torch.from_numpy(holes).to(self.device)[None]
        if (hn, wn) != (h, w):
            frames = F.interpolate(frames, size=(hn, wn), mode="area")
            hole_t = F.interpolate(hole_t.float(), size=(hn, wn), mode="area") > 0
        priors = self._aligned_copies(frames, hole_t, targets, window) if self.temporal and ALIGN_COPIES else None
        ph, pw = (-hn) % 4, (-wn) % 4
        if ph or pw:  # the padding repeats the edge, holes included: a hidden edge pixel must not pass for tissue
            frames = F.pad(frames, (0, pw, 0, ph), mode="replicate")
            hole_t = F.pad(hole_t.float(), (0, pw, 0, ph), mode="replicate") > 0.5
            priors = None if priors is None else F.pad(priors[0], (0, pw, 0, ph), mode="replicate")[None]
        x = network_inputs(frames, hole_t, targets, self.horizon, self.temporal, COPY_MAX_CHANGE, priors)[0]
        unseen = seen_elsewhere(x)[1] == 0  # frame by frame every prior says "nothing found"
        if self.temporal and UNSEEN_FRAME_BY_FRAME:
            alone = network_inputs(frames, hole_t, targets, self.horizon, False)[0]
            refined, refined_alone = self._network(torch.cat([x, alone])).chunk(2)
            if lossy and UNSEEN_LOSSY_TELEA > 0 and unseen.any():
                refined_alone = torch.lerp(refined_alone, telea_after_copies(x, unseen), UNSEEN_LOSSY_TELEA)
            refined = torch.where(unseen, refined_alone, refined)
        else:
            refined = self._network(x)
        if self.temporal and COPY_WEIGHT > 0:
            refined = blend_copies(refined, x, self.horizon, COPY_WEIGHT)
        y, unseen = refined[:, 0, :hn, :wn], unseen[:, :, :hn, :wn].float()
        if (hn, wn) != (h, w):
            y = F.interpolate(y[None], size=(h, w), mode="bilinear", align_corners=False)[0]
            unseen = F.interpolate(unseen, size=(h, w), mode="nearest")
        return ((y.clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8).cpu().numpy(), unseen[:, 0].cpu().numpy() > 0.5

    def autocast(self) -> torch.autocast:
        """The context the networks run in: bfloat16 autocast with precision bfloat16, else a no-op."""
        return torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.precision == "bfloat16")

    def _network(self, x: torch.Tensor) -> torch.Tensor:
        """The refined output; with `FLIP_AVERAGE`, averaged with the output on the left-right mirrored
        input (mirrored back): the network was trained on mirrored windows too, and the two guesses
        at unseen speckle differ where neither can know it, so their mean errs less. With precision
        bfloat16 the networks run under autocast: on the validation clips the masked PSNR moved by at
        most 0.002 dB and a CPU with bfloat16 instructions ran them about twice as fast (docs/translate.md)."""
        with self.autocast():
            if not (FLIP_AVERAGE and self.mirror):
                return self.generator(x)[1].float()
            both = self.generator(torch.cat([x, x.flip(-1)]))[1].float()
        y, mirrored = both.chunk(2)
        return (y + mirrored.flip(-1)) / 2


def blend_copies(refined: torch.Tensor, x: torch.Tensor, horizon: int, weight: float) -> torch.Tensor:
    """The network's output (N,1,H,W) averaged with the nearest past and future copies of its input `x`
    (`network_inputs`), a copy seen d frames away weighing `weight` / d against the output's 1.

    The network sees those copies but, small and briefly trained, follows them less than it should:
    over the pixels that one of the two neighbouring frames shows (painted training clips as recorded,
    lossless) its output scored 35.5 dB, that frame's pixel 35.7 dB and their mean 37.1 dB: two
    estimates whose errors differ in kind (a guess; the tissue's change over d frames) err less
    together (docs/translate.md, step 4). A copy at the horizon itself reads as none (distance 1)."""
    past, past_d, future, future_d = x[:, PRIOR_CHANNELS].chunk(4, dim=1)

    def copy_weight(d: torch.Tensor) -> torch.Tensor:
        return torch.where(d < 1, weight / (d * horizon).clamp(min=1), torch.zeros_like(d))
    wp, wf = copy_weight(past_d), copy_weight(future_d)
    return (refined + wp * past + wf * future) / (1 + wp + wf)


def telea_after_copies(x: torch.Tensor, unseen: torch.Tensor) -> torch.Tensor:
    """(N,1,H,W) in [-1, 1]: each frame of the network input `x` (`network_inputs`) with its hole pixels
    seen in another frame copied (`seen_elsewhere`) and the rest (hole pixels `unseen` (N,1,H,W) marks) filled
    by OpenCV's Telea from them: the nearest-in-time baseline's fill, made at the network's scale."""
    seen, _ = seen_elsewhere(x)
    hole = x[:, 1:2] > 0.5
    frame = torch.where(hole, seen, x[:, :1])
    grey = ((frame[:, 0] + 1) * 127.5).round().clamp(0, 255).to(torch.uint8).cpu().numpy()
    masks = (unseen & hole)[:, 0].cpu().numpy().astype(np.uint8)  # a visible pixel stays a source
    filled = np.stack([cv2.inpaint(g, m, 3, cv2.INPAINT_TELEA) if m.any() else g for g, m in zip(grey, masks)])
    return torch.from_numpy(filled).to(x.device, x.dtype).div(127.5).sub(1.0)[:, None]


def provenance_map(hole: np.ndarray, inferred: np.ndarray) -> np.ndarray:
    """uint8 (H,W): where each output pixel came from. KEPT: the input's own pixel; SEEN_ELSEWHERE: rebuilt, with
    another frame's view of the pixel taken in (a copy the network was handed and its output averaged with,
    a still pixel's views, a repeated frame's copy); INFERRED: rebuilt from the frame's own surroundings, as
    no frame within the horizon showed the pixel (or the copy gate refused those that did). A user training
    on translated clips can leave the INFERRED pixels out of a loss or a label."""
    return np.where(hole, np.where(inferred, INFERRED, SEEN_ELSEWHERE), KEPT).astype(np.uint8)


def hidden_from_network(holes: np.ndarray) -> np.ndarray:
    """(T,H,W) bool: the holes and the specks they enclose; the network sees neither, the output keeps the specks."""
    return holes | enclosed_specks(holes, SPECK_MAX_AREA)


def enclosed_specks(holes: np.ndarray, max_area: int) -> np.ndarray:
    """(T,H,W) bool: visible patches of at most `max_area` px that the holes enclose (not touching the frame's edge).

    A speck seen inside the colour is often a drawn marker (the white depth dots along a sector's centre
    line) or one bright speckle grain the scanner showed instead of colour; it says little about the tissue
    around it, yet a fill spreads it over the whole hole: a white dot became a white blob the size of
    the ventricle on the apical echo (docs/translate.md). So the network does not see it; the output keeps it."""
    out = np.zeros_like(holes)
    if max_area <= 0:
        return out
    for t, hole in enumerate(holes):
        if not hole.any():
            continue
        ys, xs = np.nonzero(hole)  # an enclosed patch lies within the holes' box; a 1-px rim joins the rest outside
        y0, y1, x0, x1 = max(ys.min() - 1, 0), ys.max() + 2, max(xs.min() - 1, 0), xs.max() + 2
        box = np.ascontiguousarray(hole[y0:y1, x0:x1])
        _, labels, stats, _ = cv2.connectedComponentsWithStats((~box).view(np.uint8), connectivity=4)
        x, y, w, h, area = stats.T
        small = (area <= max_area) & (x > 0) & (y > 0) & (x + w < box.shape[1]) & (y + h < box.shape[0])
        small[0] = False  # label 0: the holes themselves
        out[t, y0:y1, x0:x1] = small[labels]
    return out


def hole_region(holes: np.ndarray) -> tuple[int, int, int, int]:
    """Bounding box (y0, y1, x0, x1) of all holes in a (T,H,W) stack, widened by MARGIN for context."""
    ys, xs = np.nonzero(holes.any(axis=0))
    H, W = holes.shape[1:]
    return (max(0, int(ys.min()) - MARGIN), min(H, int(ys.max()) + 1 + MARGIN),
            max(0, int(xs.min()) - MARGIN), min(W, int(xs.max()) + 1 + MARGIN))


def grey_outside(clip: Clip, holes: np.ndarray, tolerance: int = 8) -> bool:
    """True if every pixel outside the holes is grey (within lossy-codec chroma bleeding)."""
    if not clip.is_rgb:
        return True
    rgb = clip.frames
    spread = rgb.max(axis=-1).astype(np.int16) - rgb.min(axis=-1)
    return int(spread[~holes].max(initial=0)) <= tolerance


def output_frames(clip: Clip, rebuilt_grey: np.ndarray, holes: np.ndarray, greyscale: bool | None = None) -> np.ndarray:
    """Greyscale if the input is grey outside the holes (or `greyscale` says so); otherwise RGB with only
    the hole pixels replaced, so colour annotations outside the Doppler stay as they were."""
    if greyscale is None:
        greyscale = grey_outside(clip, holes)
    if greyscale or not clip.is_rgb:
        return rebuilt_grey
    out = clip.frames.copy()
    out[holes] = rebuilt_grey[holes][:, None]
    return out


def translate(clip: Clip, weights: str | Path | None = None, device: str = "cpu", batch: int = 8,
              temporal: bool = True, holes: np.ndarray | None = None, translator: Translator | None = None,
              speckle: bool | None = None, rim: np.ndarray | None = None, precision: str = "float32",
              provenance: bool = False) -> Clip | tuple[Clip, np.ndarray]:
    """CFD clip → greyscale clip of the same size, frames and fps; pixels outside the colour untouched.
    With `provenance`, (clip, its provenance maps (T,H,W) uint8: `provenance_map`).

    `speckle` adds fine texture copied from nearby tissue to the rebuilt pixels (`texture.add_speckle`);
    by default only for stills, where no other frame gives the network texture to copy.
    `rim`: the hole pixels rebuilt only because a lossy codec may have disturbed them, kept as recorded
    where they show no colour when `codec_rim.RIM_KEEP_CHANGE` is set (off as shipped); found with the
    holes when `holes` is None and no `rim` is given. `precision` "bfloat16" runs the networks faster on
    hardware with bfloat16 arithmetic (`Translator._network`).
    """
    from ...progress import progress

    if not isinstance(clip, Clip):
        raise BadOption(f"translate takes a sonosynth Clip (sonosynth.read_clip(path), or Clip(frames, fps)), "
                        f"not {type(clip).__name__}")
    lossy = lossy_source(clip)  # the rebuilt pixels and the fill both depend on it
    if holes is None:
        holes, found_rim = rebuild_mask(clip, lossy=lossy, with_rim=True)
        rim = found_rim if rim is None else rim
    holes = np.asarray(holes) != 0  # a 0/1 or 0/255 mask as well as a boolean one; used to index pixels
    if holes.shape != clip.frames.shape[:3]:
        raise BadOption(f"mask shape {holes.shape} does not match the clip's {clip.frames.shape[:3]}")
    if rim is not None:
        rim = np.asarray(rim) != 0
        if rim.shape != holes.shape:
            raise BadOption(f"rim shape {rim.shape} does not match the clip's {clip.frames.shape[:3]}")
        rim &= holes
    tr = translator or Translator(weights, device=device, batch=batch, temporal=temporal, precision=precision)
    grey = clip.grey()
    if not holes.any():
        out = clip.with_frames(output_frames(clip, grey, holes), derivation=describe(tr), synthetic=True)
        return (out, np.full(holes.shape, KEPT, np.uint8)) if provenance else out
    stream = tr.stream(zip(grey, holes), region=hole_region(holes), lossy=lossy, provenance=True)
    rebuilt, maps = map(np.stack, zip(*progress(stream, total=clip.n_frames, desc="translate", unit="frame")))
    if speckle is None:
        speckle = clip.n_frames == 1
    if speckle:
        from ...preprocess.sector import sector_mask
        from .texture import add_speckle

        image = sector_mask(clip)
        rebuilt = np.stack([add_speckle(f, h, image) for f, h in zip(rebuilt, holes)])
    if rim is not None:
        kept = clean_rim(clip.frames, grey, rebuilt, rim)
        rebuilt = np.where(kept, grey, rebuilt)
        maps[kept] = KEPT
    out = clip.with_frames(output_frames(clip, rebuilt, holes), derivation=describe(tr), synthetic=True)
    return (out, maps) if provenance else out


def describe(tr: Translator) -> str:
    card = tr.meta.get("card", {})
    name = card.get("name", "translate")
    mode = "temporal" if tr.temporal else "frame-by-frame"
    return f"sonosynth CFD-to-greyscale translation ({name}, {mode}); colour-Doppler pixels replaced by synthesised B-mode"


def resize_for_display(frames: np.ndarray, width: int) -> np.ndarray:
    """Resize a (T,H,W[,3]) uint8 stack to a given width (for side-by-side previews)."""
    h = max(2, round(frames.shape[1] * width / frames.shape[2]))
    return np.stack([cv2.resize(f, (width, h), interpolation=cv2.INTER_AREA) for f in frames])
