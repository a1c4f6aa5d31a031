"""Colour-Doppler mask and colour box of a clip.

B-mode is grey: its R, G and B are equal, and a lossy codec keeps them nearly equal (H.264
stores grey as neutral chroma). Colour-flow and power maps are saturated. So a pixel's chroma,
max(R,G,B) - min(R,G,B), says flow. Lossy codecs smear chroma over a pixel or two (4:2:0
subsampling, JPEG blocks), so we threshold with hysteresis: strong chroma seeds, weaker chroma
joins only right beside a seed. Colour outside the scan sector (colour bars, logos) is ignored.

The colour box is found from its outline: a thin, bright, grey line that stays put while the
image under it moves, made of long straight (or gently curved) edges around the flow.
"""
from __future__ import annotations

import cv2
import numpy as np

from ..clip import Clip
from .box_arcs import arc_box
from .box_runs import sides_run_on
from .box_sides import box_lines, closed, half_planes, refit, without_corner_cuts
from .sector import sector_mask

CHROMA_HIGH = 60   # clearly coloured (tuned on painted non-held-out lung clips, H.264 crf 23)
CHROMA_LOW = 40    # coloured enough to join a neighbouring seed
MAX_BOX_FRAMES = 32
BOX_REACH = 2.5    # how far beyond the flow's extent the box outline is looked for
REACH_STEPS = (1, 2, 4)  # the reach grows by these factors while the sides found do not close the box
STATIC_RANGE = 6    # grey range over time of an overlay line after a lossy codec
OUTLINE_IN_HULL = 2  # px the outline may lie inside the flow's hull (line pixels deeper in are not the box's)
ARC_REACH = 20  # px from the fitted box's edge that the outline is followed along a curved side; 0 = off
FOLLOW_INSET = 4  # ... only this far inside the sector (`_outline`); 0 = anywhere
FOLLOW_FRAME_EDGE = True  # ... also near the frame's edge where the box runs to it (no side found there)
OUTLINE_IN_HULL_LOSSY = 4  # ... after a lossy codec, which bleeds flow lying along a side 2-3 px past it


def _frames(clip: Clip | np.ndarray) -> np.ndarray:
    f = clip.frames if isinstance(clip, Clip) else np.asarray(clip)
    if f.ndim == 2:
        f = f[None]
    return f


def chroma(rgb: np.ndarray) -> np.ndarray:
    """max - min over the colour channels, as uint8 (0 for grey). Channel by channel: numpy's reduction over
    a last axis of 3 is about 9 times slower, and the masks compute this for every frame."""
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    return (np.maximum(np.maximum(r, g), b) - np.minimum(np.minimum(r, g), b)).astype(np.uint8)


def colour_pixels(rgb: np.ndarray) -> np.ndarray:
    """(T,H,W) bool: strongly coloured pixels plus weakly coloured ones touching them."""
    c = chroma(rgb)
    strong = c >= CHROMA_HIGH
    weak = c >= CHROMA_LOW
    ker = np.ones((3, 3), np.uint8)
    near = np.stack([cv2.dilate(s.view(np.uint8), ker) for s in strong]).astype(bool)
    return strong | (weak & near)


def _line_pixels(rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Outline candidates: thin, bright, grey pixels that persist over time, as (H,W) bool, and
    how still each is (H,W) float in [0, 1]: an overlay line stays put while the speckle under it
    changes (1 everywhere for a still image, which shows no motion)."""
    grey = rgb.astype(np.float32).mean(axis=-1)
    still = grey.shape[0] == 1  # no motion to tell lines from tissue: ask for a brighter, sharper ridge
    if still:
        med = grey[0]
        cand = (med - cv2.blur(med, (5, 5)) > 25) & (med > 120) & (chroma(rgb[0]) < CHROMA_HIGH)
        return cand, np.ones(cand.shape, np.float32)
    med, rng, grey_at_times = _grey_over_time(rgb, grey)
    cand = (med - cv2.blur(med, (5, 5)) > 12) & (med > 60) & grey_at_times
    cand &= rng < np.maximum(20, 0.25 * med)
    around = cv2.medianBlur(np.clip(rng, 0, 255).astype(np.uint8), 15).astype(np.float32)
    stillness = np.clip(1.0 - rng / np.maximum(around, 1.0), 0.05, 1.0)
    # where the outline crosses bright tissue (no ridge) it is still the one pixel that stays put
    static = (rng <= np.maximum(STATIC_RANGE, 0.3 * around)) & (around >= 3 * STATIC_RANGE) & (med > 60)
    return cand | static, stillness


def _grey_over_time(rgb: np.ndarray, grey: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per pixel, over the frames where it shows no colour: the median grey, its range, and whether there
    are any such frames (H,W each). Flow that reaches the box's edge covers the outline in most frames and
    leaves it bright and grey in the rest; judged over all frames it looked coloured and unsteady, and in
    the frames the colour left it, the outline stayed in the output as a bright line (painted training
    clips, 100–600 outline pixels a clip)."""
    coloured = chroma(rgb) >= CHROMA_LOW
    med, rng = np.median(grey, axis=0), grey.max(axis=0) - grey.min(axis=0)
    some = coloured.any(axis=0) & ~coloured.all(axis=0)
    if some.any():
        seen = np.where(coloured[:, some], np.nan, grey[:, some])
        med[some], rng[some] = np.nanmedian(seen, axis=0), np.nanmax(seen, axis=0) - np.nanmin(seen, axis=0)
    return med, rng, ~coloured.all(axis=0)


def _hull(mask: np.ndarray) -> np.ndarray:
    pts = cv2.findNonZero(mask.astype(np.uint8))
    out = np.zeros(mask.shape, np.uint8)
    cv2.fillPoly(out, [cv2.convexHull(pts).reshape(-1, 2)], 1)
    return out.astype(bool)


def _legend_blocks(colour: np.ndarray, sector: np.ndarray) -> np.ndarray:
    """(H,W) bool: the solid coloured blocks of a colour scale drawn over the image (US1's power bars):
    near-perfect rectangles, at least 8 px across and under 1 % of the sector. Flow is never that
    square; kept in the hull, a bar at the image's edge hides the box's sides inside it."""
    _, labels, stats, _ = cv2.connectedComponentsWithStats(colour.view(np.uint8), connectivity=8)
    _, _, w, h, area = stats.T
    block = (area >= 0.95 * w * h) & (np.minimum(w, h) >= 8) & (area <= 0.01 * sector.sum())
    block[0] = False
    return block[labels]


def _box_frames(n: int) -> np.ndarray:
    """Indices of at most MAX_BOX_FRAMES frames spread over a clip of n: enough to tell still lines from tissue."""
    return np.unique(np.linspace(0, n - 1, min(MAX_BOX_FRAMES, n)).round().astype(int))


def colour_box(clip: Clip | np.ndarray) -> np.ndarray:
    """(H, W) bool: the colour box, from its outline around the flow (or the flow's hull)."""
    f = _frames(clip)
    if f.ndim != 4:
        return np.zeros(f.shape[1:3], bool)
    rgb = f[_box_frames(len(f))]
    colour = colour_pixels(rgb)
    return _colour_box(rgb, _line_pixels(rgb), _sector(f, rgb, colour), colour)


FLOW_GROWS_SECTOR = True  # `_sector`: a switch, so `scripts/validate_masks.py --set` can compare without it


def _sector(f: np.ndarray, rgb: np.ndarray, colour: np.ndarray) -> np.ndarray:
    """The scan sector (`sector_mask`), grown to take in flow that pulses outside it.

    Flow lies in the image by definition. In a dark image under a bright box outline, `sector_mask` took
    the outline for a static overlay (a frame grabber's text panel) and left the box, flow and all, out
    of the sector: no hole was found. Flow here is colour in the red-blue hues of a velocity or power map
    (an ECG trace is green) that some sampled frames show and others do not (a colour scale shows in all),
    with the colour joined to it. `rgb`: the frames `_box_frames` picks; `colour`: their `colour_pixels`."""
    sector = sector_mask(f)
    if f.shape[0] < 2 or not FLOW_GROWS_SECTOR:
        return sector
    level = rgb.astype(np.int16)
    flow_hue = np.maximum(level[..., 0], level[..., 2]) >= level[..., 1]
    share = (colour & flow_hue).mean(axis=0)
    pulsing = (share > 0) & (share < 1)
    if (pulsing & ~sector).sum() <= max(10, 0.5 * pulsing.sum()):
        return sector
    _, labels = cv2.connectedComponents((share > 0).view(np.uint8), connectivity=8)
    flow = np.isin(labels, np.unique(labels[pulsing]))  # whole vessels: their core may show in every frame
    return _hull(sector | flow)


def _colour_box(rgb: np.ndarray, line_pixels: tuple[np.ndarray, np.ndarray], sector: np.ndarray,
                colour: np.ndarray) -> np.ndarray:
    """`colour_box` of the sampled frames, given their `_line_pixels` and `colour_pixels`, and the clip's `_sector`."""
    h, w = rgb.shape[1:3]
    colour = colour.any(axis=0) & sector
    colour = cv2.morphologyEx(colour.view(np.uint8), cv2.MORPH_OPEN, np.ones((2, 2), np.uint8)).astype(bool)
    if colour.sum() < max(10, 0.002 * sector.sum()):  # a coloured marker or caliper, not a flow map
        return np.zeros((h, w), bool)
    flow = colour & ~_legend_blocks(colour, sector)
    if flow.sum() >= max(10, 0.002 * sector.sum()):
        colour = flow
    hull = _hull(colour)
    # the flow may fill only a corner of its box: look for the outline well beyond the flow, and
    # further still while the sides found do not close the box (a small jet in a big box)
    extent = max(np.ptp(np.nonzero(hull)[0]), np.ptp(np.nonzero(hull)[1]))
    distance = cv2.distanceTransform((~hull).view(np.uint8), cv2.DIST_L2, 5)
    cand, stillness = line_pixels
    depth = OUTLINE_IN_HULL_LOSSY if looks_lossy(rgb) else OUTLINE_IN_HULL
    inner = np.ones((2 * depth + 1,) * 2, np.uint8)
    cand = cand & ~cv2.erode(hull.view(np.uint8), inner).astype(bool)
    found = None
    for reach in (max(20.0, BOX_REACH * extent) * k for k in REACH_STEPS):
        band = distance <= reach
        lines = refit(without_corner_cuts(box_lines(cand & band, stillness, hull), cand), cand)
        lines = sides_run_on(lines, cand & band, hull)
        if len(lines) < 2:  # the frame border may stand in for the others
            break
        box = half_planes(lines, (h, w))
        arcs = arc_box(lines, cand & band, stillness, hull)
        box = box if arcs is None else arcs
        if closed(box) and not (box & (distance > 2 * reach)).any():  # not two sides meeting far off
            return box if box.sum() >= hull.sum() * 0.9 else hull
        found = found if found is not None else box & band
    if found is None:
        return hull & sector
    return found if found.sum() >= hull.sum() * 0.9 else hull


def _outline(box: np.ndarray, lines: np.ndarray, still: bool, sector: np.ndarray) -> np.ndarray:
    """(H,W) bool: the outline pixels of the box: line pixels within two pixels of its edge; three on a
    still, whose line pixels must be brighter, sharper ridges (US1's outline is drawn 2 px wide, and
    its two boxes sit a pixel apart). Clips keep two: there the wider band takes in tissue ridges.
    `lines`: the line pixels (`_line_pixels`); `sector`: the scan sector (`_sector`)."""
    if not box.any():
        return box
    reach = 3 if still else 2
    outline = _edge_band(box, reach) & lines
    if ARC_REACH <= reach or not outline.any():
        return outline
    # a curved side (the arcs of an annular box) leaves the straight side fitted to it: follow the thin
    # line pixels that run on from the outline, within ARC_REACH px of the box's edge; not along the sector's
    # rim, where the image's last bright column beside the black is a ridge too (a held-out linear lung clip:
    # followed from the box's corner, it ran the box's height 4 px beside its side)
    thin = lines & ~cv2.morphologyEx(lines.view(np.uint8), cv2.MORPH_OPEN, np.ones((3, 3), np.uint8)).astype(bool)
    if FOLLOW_INSET:
        thin &= cv2.erode(sector.view(np.uint8), np.ones((2 * FOLLOW_INSET + 1,) * 2, np.uint8)).astype(bool)
    # where the box runs to the frame's edge no side was found there: an arc near that edge (an annular box's
    # top arc in the near field, crossing bright skin layers) is followed from the sides it meets
    band = _edge_band(box, ARC_REACH, frame_is_edge=FOLLOW_FRAME_EDGE)
    _, labels = cv2.connectedComponents(((thin | outline) & band).view(np.uint8), connectivity=8)
    return outline | np.isin(labels, np.unique(labels[outline]))


def _edge_band(box: np.ndarray, reach: int, frame_is_edge: bool = False) -> np.ndarray:
    """(H,W) bool: pixels within `reach` px (a square's reach) of the box's edge, on either side; with
    `frame_is_edge`, the frame's edge bounds the box too where the box runs to it."""
    ker = np.ones((2 * reach + 1, 2 * reach + 1), np.uint8)
    border = {"borderType": cv2.BORDER_CONSTANT, "borderValue": 0} if frame_is_edge else {}
    return cv2.dilate(box.view(np.uint8), ker).astype(bool) & ~cv2.erode(box.view(np.uint8), ker, **border).astype(bool)


def _box_splits(rgb: np.ndarray, box: np.ndarray, outline: np.ndarray, lines: np.ndarray) -> np.ndarray:
    """(H,W) bool: lines drawn in the outline's own grey that cross the box from side to side (a box
    split in two, as on US1). Stills only, whose line pixels are bright, sharp ridges; on a clip a
    long still line inside the box may be tissue. `lines`: the line pixels (`_line_pixels`)."""
    found = np.zeros(box.shape, np.uint8)
    if rgb.shape[0] != 1 or not outline.any():
        return found.astype(bool)
    grey = rgb[0].astype(np.float32).mean(axis=-1)
    cand = lines & (np.abs(grey - np.median(grey[outline])) <= 10)
    inner = cv2.erode(box.view(np.uint8), np.ones((9, 9), np.uint8)).astype(bool)
    ys, xs = np.nonzero(box)
    segs = cv2.HoughLinesP((cand & inner).astype(np.uint8) * 255, 1, np.pi / 360, threshold=10,
                           minLineLength=8, maxLineGap=5)
    reach = np.arange(-max(box.shape), max(box.shape))
    for x1, y1, x2, y2 in ([] if segs is None else segs.reshape(-1, 4)):
        length = float(np.hypot(x2 - x1, y2 - y1))
        px = np.rint((x1 + x2) / 2 + reach * (x2 - x1) / length).astype(int)
        py = np.rint((y1 + y2) / 2 + reach * (y2 - y1) / length).astype(int)
        ok = (px >= 0) & (py >= 0) & (px < box.shape[1]) & (py < box.shape[0])
        if length >= 0.8 * inner[py[ok], px[ok]].sum():  # spans the box along its own direction
            cv2.line(found, (int(x1), int(y1)), (int(x2), int(y2)), 1, thickness=3)
    return found.astype(bool) & cand


def doppler_mask(clip: Clip | np.ndarray) -> np.ndarray:
    """(T, H, W) bool: pixels whose colour says flow, inside the sector, plus the box outline."""
    return _flow_in_box(clip)[0]


def _flow_in_box(clip: Clip | np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The Doppler mask (T,H,W), the colour box (H,W) and the sector (H,W)."""
    f = _frames(clip)
    if f.ndim != 4:
        empty = np.zeros(f.shape[1:3], bool)
        return np.zeros(f.shape[:3], bool), empty, empty
    colour = colour_pixels(f)
    sampled = _box_frames(len(f))
    rgb = f[sampled]
    sector = _sector(f, rgb, colour[sampled])
    out = colour & sector
    if not out.any():
        return out, np.zeros_like(sector), sector
    line_pixels = _line_pixels(rgb)  # the box and its outline both need them: computed once
    box = _colour_box(rgb, line_pixels, sector, colour[sampled])
    outline = _outline(box, line_pixels[0], still=len(rgb) == 1, sector=sector)
    out |= outline | _box_splits(rgb, box, outline, line_pixels[0])
    return out, box, sector


LOSSY_MARGIN = 2   # px the holes to rebuild reach past the detected colour after a lossy codec
LOSSY_BOX_EDGE = False  # True: after a lossy codec the box's found sides are rebuilt whole (tried, docs/masks.md)


def looks_lossy(clip: Clip | np.ndarray) -> bool:
    """True when the colour fades out through faint chroma, as a lossy codec (H.264, MPEG, JPEG) smears
    it; a lossless picture's colour ends sharply (faint chroma < 16 in ~50 % of coloured pixels after
    H.264 crf 23 or JPEG, none in lossless painted flow). For clips made in memory, which carry no provenance."""
    f = _frames(clip)
    if f.ndim != 4:
        return False
    c = chroma(f[:: max(1, len(f) // 8)])
    coloured = c[c > 0]
    return bool(coloured.size and (coloured < 16).mean() > 0.25)


def lossy_source(clip: Clip | np.ndarray) -> bool:
    """Whether the clip went through a lossy codec: the reader's provenance, else `looks_lossy`."""
    lossy = clip.source.get("lossy") if isinstance(clip, Clip) else None
    return looks_lossy(clip) if lossy is None else bool(lossy)


def rebuild_mask(clip: Clip | np.ndarray, lossy: bool | None = None,
                 with_rim: bool = False) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
    """(T, H, W) bool: the pixels translation replaces. The Doppler mask; after a lossy codec widened by
    LOSSY_MARGIN px, because the codec also disturbs the grey (luma ringing, 4:2:0 chroma blocks) a
    pixel or two past where any colour shows, and a disturbed pixel left in place costs more than a
    rebuilt one (masked PSNR on painted training clips, H.264 crf 23: 22.9 dB as detected, 28.3 dB
    widened by 2 px). Lossiness from the reader's provenance, else from the pixels.

    Faint colour inside the box (chroma ≥ CHROMA_LOW, touching a clear seed or not) is rebuilt too:
    the scanner paints colour only in its box, and colour left in a greyscale output is worse than
    a rebuilt pixel (the blurry color-pl still kept 0.6 % of its sector faintly blue). The Doppler
    mask leaves it out: after H.264 it is mostly codec noise (painted training clips: mask IoU
    0.933 → 0.928 with it).

    `with_rim`: also return the widening alone (holes, rim), which translation can keep as recorded
    where the codec left it clean (`codec_rim.keep_clean_rim`; off as shipped)."""
    holes, box, sector = _flow_in_box(clip)
    if box.any():
        inside = cv2.dilate(box.view(np.uint8), np.ones((7, 7), np.uint8)).astype(bool) & sector
        holes |= (chroma(_frames(clip)) >= CHROMA_LOW) & inside
    if lossy is None:
        lossy = lossy_source(clip)
    if not lossy or not holes.any():
        return (holes, np.zeros_like(holes)) if with_rim else holes
    if LOSSY_BOX_EDGE and box.any():
        # a thin outline across bright tissue loses its ridge in the codec and is no line pixel there, yet
        # the sides fitted to the rest of it run along it; not along the frame's edge or the sector's rim
        edge = _edge_band(box, 1) & box
        holes |= (edge & cv2.erode(sector.view(np.uint8), np.ones((5, 5), np.uint8)).astype(bool))[None]
    disc = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * LOSSY_MARGIN + 1, 2 * LOSSY_MARGIN + 1))
    widened = np.stack([cv2.dilate(h.view(np.uint8), disc) > 0 for h in holes])
    return (widened, widened & ~holes) if with_rim else widened
