"""The translation model's parts: temporal prior, streaming inference, compositing, weights."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from sonosynth.clip import Clip
from sonosynth.errors import BadOption, MissingWeights, OutputExists
from sonosynth.methods.translate.config import TranslateConfig
from sonosynth.methods.translate.pipeline import Translator, enclosed_specks, translate
from sonosynth.methods.translate.temporal import nearest_visible, network_inputs
from sonosynth.methods.translate.weights import load_generator


def test_nearest_visible_takes_closest_uncovered_frame():
    frames = torch.arange(6, dtype=torch.float32).view(6, 1, 1).expand(6, 2, 2).clone()
    holes = torch.zeros(6, 2, 2, dtype=torch.bool)
    holes[1:4, 0, 0] = True  # pixel (0,0) hidden in frames 1,2,3
    past, past_d = nearest_visible(frames, holes, horizon=3, direction=-1)
    future, future_d = nearest_visible(frames, holes, horizon=3, direction=+1)
    assert past[3, 0, 0] == 0 and past_d[3, 0, 0] == pytest.approx(1.0)  # frame 0, 3 steps back
    assert future[1, 0, 0] == 4 and future_d[1, 0, 0] == pytest.approx(1.0)  # frame 4, 3 steps on
    assert future[2, 0, 0] == 4 and future_d[2, 0, 0] == pytest.approx(2 / 3)
    assert past[0, 1, 1] == 0 and past_d[0, 1, 1] == 1.0  # nothing before frame 0: 'none' marker
    assert past[5, 1, 1] == 4 and past_d[5, 1, 1] == pytest.approx(1 / 3)


def test_network_inputs_are_built_on_the_frames_device():
    """Training on a GPU once failed here (a mask made on the CPU met the frames on the GPU); the 'meta'
    device stands in for any device other than the CPU, so CI catches the same mistake."""
    frames = torch.zeros(2, 10, 16, 16, device="meta")
    holes = torch.zeros(2, 10, 16, 16, dtype=torch.bool, device="meta")
    for max_change in (None, 0.25):
        x = network_inputs(frames, holes, slice(4, 6), 3, temporal=True, max_change=max_change)
        assert x.device.type == "meta" and x.shape == (2, 2, 10, 16, 16)


def test_frame_by_frame_inputs_hide_every_other_frame():
    frames = torch.rand(1, 7, 8, 8) * 2 - 1
    holes = torch.rand(1, 7, 8, 8) > 0.7
    with_time = network_inputs(frames, holes, slice(3, 4), 3, temporal=True)
    without = network_inputs(frames, holes, slice(3, 4), 3, temporal=False)
    assert with_time.shape == without.shape == (1, 1, 10, 8, 8)
    assert torch.equal(with_time[:, :, :2], without[:, :, :2])
    assert torch.all(without[:, :, 2::2] == 0) and torch.all(without[:, :, 3::2] == 1)
    assert not torch.equal(with_time[:, :, 2:], without[:, :, 2:])


def _clip_with_holes(T=13, H=40, W=36, seed=0):
    rng = np.random.default_rng(seed)
    grey = rng.integers(0, 255, (T, H, W), dtype=np.uint8)
    holes = np.zeros((T, H, W), bool)
    holes[:, 10:22, 8:20] = rng.random((T, 12, 12)) > 0.3
    return grey, holes


def test_stream_result_does_not_depend_on_batch_and_keeps_memory_bounded(tiny_weights):
    grey, holes = _clip_with_holes()
    results = {}
    for batch in (1, 4):
        tr = Translator(tiny_weights, batch=batch)
        consumed = [0]

        def source():
            for g, h in zip(grey, holes):
                consumed[0] += 1
                yield g, h

        outs = []
        for out in tr.stream(source(), region=(0, 40, 0, 36)):
            # never more than batch + 2·horizon frames read ahead of what has been emitted
            assert consumed[0] - len(outs) <= batch + 2 * tr.horizon + 1
            outs.append(out)
        results[batch] = np.stack(outs)
    assert results[1].shape == grey.shape
    np.testing.assert_array_equal(results[1], results[4])


def test_translate_changes_only_hole_pixels_and_keeps_timing(tiny_weights):
    grey, holes = _clip_with_holes()
    grey[:] = grey[0]  # still tissue: other frames show what the colour hides (unrelated frames would not)
    rgb = np.repeat(grey[..., None], 3, axis=-1)
    rgb[holes] = (200, 30, 30)  # colour where the holes are
    clip = Clip(rgb, fps=24.0)
    out = translate(clip, weights=tiny_weights, holes=holes)
    assert out.frames.shape == grey.shape and out.fps == 24.0  # grey outside the holes: greyscale out
    np.testing.assert_array_equal(out.frames[~holes], grey[~holes])
    assert out.source["synthetic"] is True and "sonosynth" in out.source["derivation"]
    frame_by_frame = translate(clip, weights=tiny_weights, holes=holes, temporal=False)
    assert not np.array_equal(frame_by_frame.frames[holes], out.frames[holes])
    as_bytes = translate(clip, weights=tiny_weights, holes=holes.astype(np.uint8) * 255)  # a 0/255 mask image
    np.testing.assert_array_equal(as_bytes.frames, out.frames)
    with pytest.raises(BadOption, match="takes a sonosynth Clip"):
        translate(rgb, weights=tiny_weights)


def test_the_api_refuses_arguments_of_the_wrong_type_with_its_own_errors(tiny_weights):
    from sonosynth.errors import UserError
    from sonosynth.io import read_clip, write_clip

    clip = Clip(np.zeros((3, 16, 16), np.uint8))
    for call, reason in ((lambda: translate(clip, weights=tiny_weights, batch="8"), "--batch"),
                         (lambda: translate(clip, weights=tiny_weights, batch=True), "--batch"),
                         (lambda: translate(clip, weights=tiny_weights, device=None), "--device"),
                         (lambda: translate(clip, weights=5), "path to a .safetensors"),
                         (lambda: read_clip(None), "path to a file or folder"),
                         (lambda: write_clip(None, "x.npz"), "takes a sonosynth Clip"),
                         (lambda: write_clip(clip, None), "path to a file"),
                         (lambda: Clip(clip.frames, fps="abc"), "fps must be a number")):
        with pytest.raises(UserError, match=reason):
            call()


def test_a_clip_drops_a_pixel_size_or_rate_that_means_nothing():
    """A header's NaN or negative pixel size would reach a DICOM's PixelSpacing and a JSON report."""
    frames = np.zeros((2, 8, 8), np.uint8)
    for spacing in ((float("nan"), -1.0), (0.0, 0.2), (0.1,), "ab"):
        assert Clip(frames, spacing=spacing).spacing is None
    assert Clip(frames, spacing=np.array([0.1, 0.2])).spacing == (0.1, 0.2)
    assert [Clip(frames, fps=f).fps for f in (0, -5, float("nan"), None, 12)] == [30.0, 30.0, 30.0, 30.0, 12.0]


def test_weights_of_another_method_are_refused(tiny_weights, tmp_path):
    import json

    other = tmp_path / "other.safetensors"
    other.write_bytes(tiny_weights.read_bytes())
    other.with_suffix(".json").write_text(json.dumps({**json.loads(tiny_weights.with_suffix(".json").read_text()),
                                                      "method": "segment"}))
    with pytest.raises(MissingWeights, match="weights of 'segment', not of the translation networks"):
        load_generator(other)


def test_weights_that_do_not_match_their_config_are_refused(tiny_weights, tmp_path):
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(tiny_weights.read_bytes())
    meta = tiny_weights.with_suffix(".json").read_text().replace('"width": 4', '"width": 8')
    bad.with_suffix(".json").write_text(meta)
    with pytest.raises(MissingWeights, match="do not match"):
        load_generator(bad)
    with pytest.raises(MissingWeights, match="does not exist"):
        load_generator(tmp_path / "none.safetensors")
    (tmp_path / "junk.safetensors").write_bytes(b"not a safetensors file")
    (tmp_path / "junk.json").write_text(tiny_weights.with_suffix(".json").read_text())
    with pytest.raises(MissingWeights, match="cannot read"):
        load_generator(tmp_path / "junk.safetensors")


def test_streamed_video_translation_matches_in_memory_and_keeps_outside_pixels(tiny_weights, tmp_path):
    from sonosynth.io import read_clip, write_clip
    from sonosynth.methods.translate.streaming import translate_video_file
    from sonosynth.synth.overlay import paint_cfd

    rng = np.random.default_rng(1)
    base = rng.gamma(2.0, 35.0, (64, 64)).clip(0, 255)
    base[20:44, 16:48] *= 0.2
    grey = np.stack([np.roll(base, t % 5, axis=0) for t in range(40)]).astype(np.uint8)
    cfd, _, truth = paint_cfd(grey, seed=3, fps=25.0)
    src = tmp_path / "cfd.mkv"
    write_clip(Clip(cfd, fps=25.0), src)
    out = tmp_path / "grey.mkv"
    done = translate_video_file(src, out, Translator(tiny_weights, batch=3), chunk=7)
    assert done[:4] == (40, 25.0, 64, 64)
    streamed = read_clip(out).frames
    clip = read_clip(src)
    assert done.changed == np.count_nonzero(streamed != clip.grey()) > 0
    from sonosynth.preprocess.doppler import rebuild_mask

    holes = rebuild_mask(clip)
    assert streamed.shape == grey.shape
    np.testing.assert_array_equal(streamed[~holes], clip.grey()[~holes])
    # The stream finds the holes chunk by chunk; given those holes, the in-memory path agrees to the bit.
    chunk_holes = np.concatenate([rebuild_mask(Clip(clip.frames[t:t + 7], fps=25.0), lossy=False)
                                  for t in range(0, 40, 7)])
    in_memory = translate(clip, holes=chunk_holes, translator=Translator(tiny_weights, batch=3)).frames
    np.testing.assert_array_equal(streamed, in_memory)
    assert (streamed[chunk_holes] != clip.grey()[chunk_holes]).mean() > 0.5
    with pytest.raises(OutputExists, match="exists"):
        translate_video_file(src, out, Translator(tiny_weights))


def test_navier_stokes_base_fill_is_opencvs_on_the_holes_and_keeps_visible_pixels():
    import cv2

    from sonosynth.errors import BadOption
    from sonosynth.methods.translate.model import spatial_fill

    rng = np.random.default_rng(0)
    grey = rng.integers(0, 256, (2, 24, 28)).astype(np.uint8)
    holes = np.zeros(grey.shape, bool)
    holes[0, 8:14, 5:20] = True
    frames = torch.from_numpy(grey).float()[:, None] / 127.5 - 1.0
    filled = spatial_fill(frames, torch.from_numpy(holes)[:, None], "navier-stokes")
    as_uint8 = ((filled[:, 0] + 1) * 127.5).round().numpy().astype(np.uint8)
    np.testing.assert_array_equal(as_uint8[~holes], grey[~holes])
    np.testing.assert_array_equal(as_uint8[0], cv2.inpaint(grey[0], holes[0].astype(np.uint8), 3, cv2.INPAINT_NS))
    with pytest.raises(BadOption, match="base_fill"):
        TranslateConfig.tiny().override(base_fill="magic")


def test_stabiliser_averages_jittering_rebuilt_pixels_but_not_moving_tissue():
    from sonosynth.methods.translate.stabiliser import stabilise

    hole = np.zeros((40, 40), bool)
    hole[15:25, 15:25] = True
    before, frame, after = (np.full((40, 40), v, np.uint8) for v in (10, 100, 40))
    for f in (before, after):
        f[~hole] = 100  # the tissue around the hole stands still: the hole's change is jitter
    out = stabilise(frame, hole, [(before, hole), (after, hole)])
    assert np.all(out[hole] == 62)  # (2·100 + 10 + 40) / 4, rounded
    assert np.all(out[~hole] == 100) and np.all(frame == 100)  # outside untouched, input not modified
    assert np.all(stabilise(frame, hole, [(after, hole)])[hole] == 80)  # first frame: (2·100 + 40) / 3
    moving = [(np.full((40, 40), v, np.uint8), hole) for v in (10, 40)]  # the tissue changes as much as the hole
    assert stabilise(frame, hole, moving) is frame
    assert stabilise(frame, hole, []) is frame  # a still has nothing to average with


def test_temporal_output_is_the_stabilised_network_output(tiny_weights, monkeypatch):
    from sonosynth.methods.translate import pipeline, still
    from sonosynth.methods.translate.stabiliser import stabilise

    monkeypatch.setattr(pipeline, "CARRY_REPEATS", False)  # still tissue repeats its frames (tests/test_translate_repeats.py)
    monkeypatch.setattr(still, "STILL_RANGE", -1)  # and shows one value in every frame (tests/test_translate_still.py)
    grey, holes = _clip_with_holes()
    grey[:] = grey[0]  # still tissue, so the stabiliser has jitter to remove
    tr = Translator(tiny_weights, batch=len(grey))
    raw, _ = tr._translate_window(list(zip(grey, holes)), 0, 0, len(grey), (0, 40, 0, 36))
    out = np.stack(list(tr.stream(zip(grey, holes), region=(0, 40, 0, 36))))
    expected = [stabilise(raw[t], holes[t], [(raw[s], holes[s]) for s in (t - 1, t + 1) if 0 <= s < len(raw)])
                for t in range(len(raw))]
    np.testing.assert_array_equal(out, np.stack(expected))
    assert not np.array_equal(out, np.stack(raw))


def test_pixels_no_frame_shows_are_filled_frame_by_frame(tiny_weights, monkeypatch):
    """Where the colour never moves off a pixel, time holds nothing to copy: the temporal model gives the
    frame-by-frame estimate there (before the stabiliser), though its input also holds the neighbour frames."""
    from sonosynth.methods.translate import pipeline, stabiliser

    monkeypatch.setattr(stabiliser, "STABILISER_GAIN", 0.0)
    grey, holes = _clip_with_holes()
    holes[:] = holes[0]  # a hole that no frame uncovers
    clip = Clip(grey, fps=10.0)
    temporal = translate(clip, holes=holes, translator=Translator(tiny_weights)).frames
    alone = translate(clip, holes=holes, translator=Translator(tiny_weights, temporal=False)).frames
    np.testing.assert_array_equal(temporal, alone)
    monkeypatch.setattr(pipeline, "UNSEEN_FRAME_BY_FRAME", False)
    assert not np.array_equal(translate(clip, holes=holes, translator=Translator(tiny_weights)).frames, alone)


@pytest.mark.parametrize("size", [(41, 38), (300, 90)])  # sides not multiples of 4; a crop wider than max_side
def test_output_never_depends_on_what_the_colour_covered(tiny_weights, size):
    """The hidden pixels are colour, not tissue: whatever they hold, the result is the same — also where a
    hole touches the frame's edge and the network's input is padded or downscaled."""
    rng = np.random.default_rng(2)
    H, W = size
    grey = rng.integers(0, 255, (6, H, W), dtype=np.uint8)
    holes = np.zeros((6, H, W), bool)
    holes[:, H - 9:, W // 3: W // 3 + 12] = True  # flow reaching the bottom edge
    holes[2:4, 3:9, W - 7:] = True  # and the right edge
    tr = Translator(tiny_weights)
    outs = []
    for fill in (0, 255):
        covered = grey.copy()
        covered[holes] = fill
        outs.append(translate(Clip(covered, fps=10.0), holes=holes, translator=tr).frames)
    np.testing.assert_array_equal(outs[0], outs[1])


def test_pixels_are_copied_only_from_frames_that_show_the_same_tissue():
    frames = torch.tensor([0.0, 0.8, 0.05]).view(3, 1, 1).expand(3, 4, 4).clone()  # frame 1: other tissue
    holes = torch.zeros(3, 4, 4, dtype=torch.bool)
    holes[0, 0, 0] = True
    value, dist = nearest_visible(frames, holes, horizon=4, direction=+1)
    assert value[0, 0, 0] == pytest.approx(0.8) and dist[0, 0, 0] == pytest.approx(0.25)
    value, dist = nearest_visible(frames, holes, horizon=4, direction=+1, max_change=0.25)
    assert value[0, 0, 0] == pytest.approx(0.05) and dist[0, 0, 0] == pytest.approx(0.5)  # frame 1 skipped
    value, dist = nearest_visible(frames, holes, horizon=1, direction=+1, max_change=0.25)
    assert value[0, 0, 0] == 0 and dist[0, 0, 0] == 1.0  # nothing like it within the horizon


def test_enclosed_specks_are_small_visible_patches_inside_the_holes_only():
    holes = np.zeros((1, 30, 30), bool)
    holes[0, 5:25, 5:25] = True
    holes[0, 8:10, 8:10] = False     # a 4-px speck inside the hole
    holes[0, 12:22, 12:22] = False   # a 100-px patch inside the hole: over the limit asked for
    edge = np.zeros((1, 30, 30), bool)
    edge[0, :10, :10] = True
    edge[0, 0:2, 0:2] = False        # a small patch at the frame's edge: not known to be enclosed
    specks = enclosed_specks(holes, 64)
    assert specks[0].sum() == 4 and specks[0, 8:10, 8:10].all()
    assert not enclosed_specks(edge, 64).any()
    assert not enclosed_specks(holes, 0).any()


def test_a_bright_speck_inside_the_colour_stays_a_speck():
    """A drawn marker left inside the flow (the apical echo's white depth dot) is kept, but not spread over
    the dark chamber around it (the shipped model)."""
    rng = np.random.default_rng(3)
    grey = rng.integers(20, 41, (1, 96, 96)).astype(np.uint8)
    yy, xx = np.mgrid[:96, :96]
    holes = ((yy - 48) ** 2 + (xx - 48) ** 2 <= 25**2)[None]
    holes[0, 47:50, 47:50] = False
    grey[0, 47:50, 47:50] = 255
    out = translate(Clip(grey, fps=10.0), holes=holes).grey()
    assert (out[0, 47:50, 47:50] == 255).all()
    near = holes[0] & ((yy - 48) ** 2 + (xx - 48) ** 2 <= 10**2)
    assert out[0][near].mean() < 50, out[0][near].mean()


def test_mirrored_average_treats_a_mirrored_clip_as_the_mirror_of_the_clip(tiny_weights, monkeypatch):
    """With FLIP_AVERAGE the network's guess is the mean of its guesses on the input and on the input
    mirrored, so mirroring the input mirrors the output exactly; a single pass (untrained, asymmetric
    kernels) does not."""
    from sonosynth.methods.translate import pipeline

    tr = Translator(tiny_weights)
    x = torch.randn(3, 10, 24, 28, generator=torch.Generator().manual_seed(0))
    monkeypatch.setattr(pipeline, "FLIP_AVERAGE", True)
    with torch.no_grad():
        a, b = tr._network(x), tr._network(x.flip(-1))
        single = tr.generator(x)[1]
    torch.testing.assert_close(b, a.flip(-1), rtol=0, atol=1e-5)
    assert not torch.allclose(tr.generator(x.flip(-1))[1].detach(), single.flip(-1).detach(), atol=1e-3)
    with torch.no_grad():
        torch.testing.assert_close(Translator(tiny_weights, mirror=False)._network(x), single)  # --single-pass
    monkeypatch.setattr(pipeline, "FLIP_AVERAGE", False)
    with torch.no_grad():
        torch.testing.assert_close(tr._network(x), single)


def test_copies_are_blended_in_by_their_nearness_in_time():
    """blend_copies: a copy seen d frames away weighs weight / d against the network's 1; a side where no
    frame shows the pixel (distance channel 1) adds nothing."""
    from sonosynth.methods.translate.pipeline import blend_copies

    horizon = 4
    x = torch.zeros(1, 10, 1, 3)
    x[0, 6] = torch.tensor([0.8, 0.8, 0.8])          # past copy
    x[0, 7] = torch.tensor([1, 2, 1]) / horizon      # seen 1, 2, 1 frames back
    x[0, 8] = torch.tensor([-0.4, -0.4, 0.0])        # future copy
    x[0, 9] = torch.tensor([1 / horizon, 1, 1])      # seen 1 frame ahead, then nowhere
    refined = torch.full((1, 1, 1, 3), 0.2)
    out = blend_copies(refined, x, horizon, weight=1.0)[0, 0, 0]
    torch.testing.assert_close(out, torch.tensor([(0.2 + 0.8 - 0.4) / 3, (0.2 + 0.8 / 2) / 1.5, (0.2 + 0.8) / 2]))
    torch.testing.assert_close(blend_copies(refined, x, horizon, weight=0.5)[0, 0, 0, 2], torch.tensor((0.2 + 0.4) / 1.5))


def test_a_heavy_copy_weight_rebuilds_a_still_picture_from_its_copies(tiny_weights, monkeypatch):
    """Wired into `translate`: where tissue stands still, the copies are the truth, so with the copies
    weighing far more than the (untrained) network, every pixel some frame shows comes back within a level."""
    from sonosynth.methods.translate import pipeline, stabiliser, still

    monkeypatch.setattr(pipeline, "CARRY_REPEATS", False)  # these two would put the truth back by themselves
    monkeypatch.setattr(still, "STILL_RANGE", -1)
    monkeypatch.setattr(stabiliser, "STABILISER_GAIN", 0.0)  # it mixes in the neighbours' guesses at pixels they hide
    grey, holes = _clip_with_holes()
    grey[:] = grey[0]
    clip = Clip(grey, fps=10.0)
    tr = Translator(tiny_weights)
    R, hidden = tr.horizon, pipeline.hidden_from_network(holes)  # specks are no source
    # a copy at the horizon itself reads as none found (distance channel 1), as for `seen_elsewhere`
    seen = np.stack([holes[t] & (~hidden[max(0, t - R + 1):t + R]).any(axis=0) for t in range(len(holes))])
    errors = {}
    for weight in (0.0, 1000.0):
        monkeypatch.setattr(pipeline, "COPY_WEIGHT", weight)
        out = translate(clip, holes=holes, translator=tr).frames
        errors[weight] = np.abs(out[seen].astype(int) - grey[seen]).max()
        np.testing.assert_array_equal(out[~holes], grey[~holes])
    assert errors[1000.0] <= 1 < errors[0.0]


def test_after_a_lossy_codec_pixels_no_frame_shows_meet_telea_after_the_copies(tiny_weights, monkeypatch):
    """After a lossy codec a pixel hidden in every frame is mixed (`UNSEEN_LOSSY_TELEA`) with Telea on the frame
    whose other hidden pixels were copied from where they show; every other pixel is as without."""
    import cv2

    from sonosynth.methods.translate import pipeline, stabiliser, still

    monkeypatch.setattr(stabiliser, "STABILISER_GAIN", 0.0)
    monkeypatch.setattr(still, "STILL_RANGE", -1)
    monkeypatch.setattr(pipeline, "CARRY_REPEATS", False)
    monkeypatch.setattr(pipeline, "ALIGN_COPIES", False)  # still tissue: a copy is then the pixel itself
    grey, holes = _clip_with_holes()
    grey[:] = grey[0]
    holes[:, 13:19, 11:17] = True  # hidden in every frame; the rest of the hole pulses
    tr = Translator(tiny_weights, batch=4)
    R = tr.horizon - 1  # a copy at the horizon itself reads as none found (`seen_elsewhere`)
    hidden = pipeline.hidden_from_network(holes)  # specks enclosed by the holes are no source either
    unseen = np.stack([hidden[max(0, t - R):t + R + 1].all(axis=0) for t in range(len(holes))])
    never = holes & unseen
    assert never[:, 13:19, 11:17].all() and (holes & ~never).any()
    plain, lossy = (np.stack(list(tr.stream(zip(grey, holes), region=(0, 40, 0, 36), lossy=lossy)))
                    for lossy in (False, True))
    np.testing.assert_array_equal(lossy[~never], plain[~never])
    assert not np.array_equal(lossy[never], plain[never])
    telea = np.stack([cv2.inpaint(grey[0], (m & h).view(np.uint8), 3, cv2.INPAINT_TELEA) for m, h in zip(unseen, hidden)])
    expected = plain[never] + pipeline.UNSEEN_LOSSY_TELEA * (telea[never] - plain[never].astype(float))
    assert np.abs(lossy[never] - expected).max() <= 1.0  # mixed before the output is rounded
    monkeypatch.setattr(pipeline, "UNSEEN_LOSSY_TELEA", 0.0)
    np.testing.assert_array_equal(np.stack(list(tr.stream(zip(grey, holes), region=(0, 40, 0, 36), lossy=True))), plain)


def test_translate_knows_a_lossy_clip_from_its_reader(tiny_weights, tmp_path):
    """The rule above follows the file's codec: the same pictures read from H.264 and from FFV1 differ only
    in that, when the mask is given."""
    from sonosynth.io import read_clip, write_clip
    from sonosynth.methods.translate import pipeline

    grey, holes = _clip_with_holes(T=6, H=40, W=36)
    holes[:, 12:20, 10:18] = True
    write_clip(Clip(grey, fps=10.0), tmp_path / "c.mp4")
    coded = read_clip(tmp_path / "c.mp4")
    assert coded.source["lossy"] and pipeline.lossy_source(coded)
    as_lossless = Clip(coded.frames, fps=10.0, source={"lossy": False})
    tr = Translator(tiny_weights)
    a = translate(coded, holes=holes, translator=tr).frames
    b = translate(as_lossless, holes=holes, translator=tr).frames
    assert not np.array_equal(a[:, 12:20, 10:18], b[:, 12:20, 10:18])


def test_streamed_translation_of_a_lossy_file_applies_the_lossy_rule(tiny_weights, tmp_path, monkeypatch):
    """The streaming CLI path tells lossy files by their codec, as `translate` does: the rule for pixels no
    frame shows changes an H.264 file's output and leaves an FFV1 file's alone."""
    from sonosynth.io import read_clip, write_clip
    from sonosynth.methods.translate import pipeline
    from sonosynth.methods.translate.streaming import translate_video_file
    from sonosynth.synth.overlay import paint_cfd

    rng = np.random.default_rng(2)
    base = rng.gamma(2.0, 35.0, (64, 64)).clip(0, 255)
    grey = np.stack([np.roll(base, t % 3, axis=1) for t in range(12)]).astype(np.uint8)
    cfd, _, _ = paint_cfd(grey, seed=4, fps=20.0)
    outputs = {}
    for suffix in (".mp4", ".mkv"):
        write_clip(Clip(cfd, fps=20.0), tmp_path / f"cfd{suffix}")
        for weight in (0.0, 1 / 3):
            monkeypatch.setattr(pipeline, "UNSEEN_LOSSY_TELEA", weight)
            out = tmp_path / f"grey{suffix}-{weight:.2f}.mkv"
            translate_video_file(tmp_path / f"cfd{suffix}", out, Translator(tiny_weights, batch=4), chunk=5)
            outputs[suffix, weight] = read_clip(out).frames
    assert not np.array_equal(outputs[".mp4", 0.0], outputs[".mp4", 1 / 3])
    np.testing.assert_array_equal(outputs[".mkv", 0.0], outputs[".mkv", 1 / 3])


def test_bfloat16_networks_fill_as_float32_does_and_an_unknown_precision_is_refused(painted_speckle):
    """The shipped model under bfloat16 autocast: the same pixels kept, the fills a rounding apart."""
    _, cfd, mask, truth = painted_speckle(frames=10, seed=4, paint_seed=2)
    clip = Clip(cfd, fps=20.0)
    full = translate(clip, holes=mask).frames
    half = translate(clip, holes=mask, precision="bfloat16").frames
    np.testing.assert_array_equal(half[~mask], full[~mask])
    diff = half[mask].astype(float) - full[mask]
    assert np.abs(diff).max() > 0  # the option reaches the networks
    assert 10 * np.log10(255.0**2 / np.mean(diff**2)) > 40  # but moves the fill far less than its error does
    error = lambda out: np.mean((out[mask].astype(float) - truth[mask]) ** 2)  # noqa: E731
    assert abs(10 * np.log10(error(half) / error(full))) < 0.05
    with pytest.raises(BadOption, match="--precision must be one of float32, bfloat16"):
        Translator(precision="float16")
