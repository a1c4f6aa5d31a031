"""Dense optical flow for frames of any size.

OpenCV's DIS flow builds an image pyramid from the frame's size and fails on small frames: an
error for a side under 12 px, and a crash of the whole process (segmentation fault) for a short
side of 12-15 px beside a long one of 40 px or more (swept on OpenCV 5.1). A network crop scaled
down to 256 px on its long side can be that thin, and so can a user's clip. Frames are padded by
repeating their edge up to `MIN_SIDE`, where every size tried worked, and the flow is cut back.
"""
from __future__ import annotations

import cv2
import numpy as np

MIN_SIDE = 32  # px; every size with both sides ≥ 16 worked in the sweep, this keeps a margin


def dis_flow(first: np.ndarray, second: np.ndarray, preset: int = cv2.DISOPTICAL_FLOW_PRESET_MEDIUM,
             dis: cv2.DISOpticalFlow | None = None) -> np.ndarray:
    """(h,w,2) float32 flow on `first`'s grid: first(p) shows what second(p + flow(p)) shows.
    `first`, `second`: (h,w) uint8; `dis` reuses a DIS object made with `preset`."""
    h, w = first.shape
    pad_y, pad_x = max(0, MIN_SIDE - h), max(0, MIN_SIDE - w)
    if pad_y or pad_x:
        first, second = (cv2.copyMakeBorder(np.ascontiguousarray(f), 0, pad_y, 0, pad_x, cv2.BORDER_REPLICATE)
                         for f in (first, second))
    dis = dis or cv2.DISOpticalFlow_create(preset)
    flow = dis.calc(np.ascontiguousarray(first), np.ascontiguousarray(second), None)
    return flow[:h, :w]
