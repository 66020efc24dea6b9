"""Stepping through the backward pass: the wording of the frames, frames recorded on demand, captions,
and the notebook player (ipywidgets, or plain HTML)."""

import importlib.util
import pathlib
import re

import numpy as np
import pytest

import autograd
from autograd import Tensor, Value, backward_frames, draw_graph, step_through, trace_backward
from autograd.graph import _mode
from autograd.viz.steps import StepThrough, record_backward, step_captions


def records(source: str) -> dict:
    """A labelled node's label -> its record fields."""
    found = {}
    for body in re.findall(r'^\t+v\d+ \[label="(.*?)"', source, flags=re.MULTILINE):
        fields = body.strip("{ }").split(" | ")
        found[fields[0]] = fields
    return found


_spec = importlib.util.spec_from_file_location("viz_lecture", pathlib.Path(__file__).with_name("_lecture.py"))
_examples = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_examples)


def lecture(traced: bool = True):
    """f = (x + y) z at x=-2, y=5, z=-4: grads -4, -4, 3; f and its inputs (x, y, z, q)."""
    f = _examples.lecture(traced)
    q, z = f._a, f._b
    return f, (q._a, q._b, z, q)


def test_leaves_get_no_step_of_their_own_and_gradients_say_final():
    f, _ = lecture()
    frames = backward_frames(f)
    assert len(frames) == 3  # two ops, two steps: the leaves x, y, z run no backward
    full = records(draw_graph(f, show_local=True).source)
    assert full["z"] == ["z", "data -4", "grad 3"] and full["q"] == ["q", "data 3", "grad -4", "step 2"]
    after_mul = records(frames[1].source)
    assert after_mul["z"][2] == "grad 3 (final)"  # z's gradient arrived at the step of the * node
    assert after_mul["q"][2] == "grad -4 (final)"  # one consumer: complete, not "grad so far"
    assert after_mul["x"][2] == "grad pending" and after_mul["f"][2] == "grad 1 (seed)"
    assert "backward step 1 of 2: f" in frames[1].source
    assert "backward step 0 of 2 (before backward)" in frames[0].source
    assert [records(frame.source)["x"][2] for frame in frames] == ["grad pending", "grad pending", "grad -4 (final)"]
    with pytest.raises(ValueError, match="upto_step must be an int from 0 to 2"):
        draw_graph(f, upto_step=3)


def test_fan_out_is_so_far_until_the_last_contribution_then_final():
    x = Value(2.0, label="x")
    f = x * 3.0 + x
    f.label = "f"
    trace_backward(f, show=False)
    texts = [records(frame.source)["x"][2] for frame in backward_frames(f)]
    assert texts == ["grad pending", "grad so far 1", "grad 4 = 1 + 3 (final)"]


def test_a_one_consumer_weight_is_final_after_its_consumer():
    w1, w2, x = Value(0.5, label="w1"), Value(-1.5, label="w2"), Value(2.0, label="x")
    h = (w1 * x).tanh()
    h.label = "h"
    out = w2 * h
    out.label = "out"
    trace_backward(out, show=False)
    first = records(backward_frames(out)[1].source)
    assert first["w2"][2].endswith("(final)") and "so far" not in first["w2"][2]
    assert first["h"][2].endswith("(final)") and first["w1"][2] == "grad pending"


def test_backward_frames_records_the_pass_itself_and_leaves_grad_alone():
    f, (x, y, z, _) = lecture(traced=False)
    x.grad = 10.0  # accumulated by the user earlier: must survive
    before = _mode.last_trace
    frames = backward_frames(f)
    assert len(frames) == 3 and "grad 3 (final)" in frames[1].source
    assert (x.grad, y.grad, z.grad) == (10.0, 0.0, 0.0)
    assert _mode.last_trace is before  # draw_graph's default trace is still the user's
    assert len(backward_frames(f)) == 3  # the graph was retained: again, same result
    f.backward()
    assert (x.grad, y.grad, z.grad) == (6.0, -4.0, 3.0)


def test_backward_frames_of_a_tensor_graph_leaves_grad_none():
    w = Tensor(np.array([[1.0, 2.0]]), requires_grad=True, label="w")
    out = (w * 3.0).sum()
    frames = backward_frames(out)
    assert len(frames) == 3 and w.grad is None
    assert "grad [[3, 3]] (final)" in records(frames[2].source)["w\\n(1, 2) float64"][2]


def test_recording_a_freed_graph_says_what_happened():
    f, _ = lecture(traced=False)
    f.backward()  # frees the graph
    with pytest.raises(RuntimeError, match="backward_frames: no recorded backward pass reached this graph"):
        record_backward(f)


def test_captions_say_what_each_step_sends_and_what_is_final():
    f, _ = lecture()
    captions = step_captions(f)
    assert len(captions) == 3
    assert captions[0].startswith("Before the backward pass (2 steps): f starts with gradient 1")
    assert captions[1] == ("Step 1 of 2: the * that made f passes on its gradient 1 (* swaps): input 0 (q) gets "
                           "1 \u00d7 local -4 = -4; input 1 (z) gets 1 \u00d7 local 3 = 3. Final now: q, z.")
    assert captions[2].endswith("Final now: x, y.")


def test_step_through_is_a_widget_with_a_slider_and_buttons():
    pytest.importorskip("ipywidgets")
    f, (x, _, _, _) = lecture(traced=False)
    box = step_through(f)
    assert (box.slider.min, box.slider.max, box.slider.value) == (0, 2, 0)
    assert box.prev.disabled and "Before the backward pass" in box.caption.value and "<svg" in box.frame.value
    box.next.click()
    assert box.slider.value == 1 and "Step 1 of 2" in box.caption.value and not box.prev.disabled
    assert "grad 3 (final)" in box.frame.value
    box.next.click()
    box.next.click()  # stays on the last step
    assert box.slider.value == 2 and box.next.disabled
    box.slider.value = 0
    assert "Before the backward pass" in box.caption.value
    assert x.grad == 0.0


def test_step_through_without_widgets_is_html_with_its_own_controls():
    f, _ = lecture()
    player = step_through(f, widget=False)
    assert isinstance(player, StepThrough) and len(player) == 3
    page = player._repr_html_()
    assert page.count('class="cr-frame"') == 3 and page.count("<svg") == 3
    assert 'class="cr-prev"' in page and 'class="cr-next"' in page and 'type="range"' in page
    assert 'box.addEventListener("keydown"' in page  # in a notebook the arrows belong to the player only
    ids = re.findall(r'id="(cr-steps-[^"]+)"', page)
    assert ids and ids[0] not in step_through(f, widget=False)._repr_html_()  # two players, two ids


def test_step_through_refuses_a_pass_too_long_to_draw_frame_by_frame():
    y = Value(0.5, label="y")
    for _ in range(30):
        y = y * 1.01
    with pytest.raises(ValueError, match=r"step_through: the backward pass has 30 steps.*max_steps=10"):
        step_through(y, widget=False, max_steps=10)


def test_names_are_exported():
    assert autograd.step_through is step_through and callable(autograd.export_html)
    assert {"step_through", "export_html", "backward_frames"} <= set(autograd.__all__)
