"""Backprop you can step through: one picture and one caption per backward step.

``backward_frames`` gives the pictures (graphviz.Digraph objects), ``step_through`` shows them in
Jupyter behind a slider and prev/next buttons, ``export_html`` writes them as one self-contained page
(inline SVG, a few lines of script, no network) with the same controls and the arrow keys. Frame 0 is
the graph before the pass, frame k the graph after op step k. When no recorded pass reached the graph,
the pass is recorded here without touching any ``.grad`` (see ``record_backward``).
"""

from __future__ import annotations

import html
import itertools
import os
import re

from ..debug import BackwardTrace
from ..graph import Node, _mode, grad, topological_order
from .draw import draw_graph
from .flow import PATTERNS, Arrivals
from .labels import quantity_text
from ..files import write_atomically

__all__ = ["backward_frames", "record_backward", "step_captions", "step_through", "export_html", "StepThrough"]

MAX_STEPS = 100  # one Graphviz run per frame: past this, a page or widget takes minutes to build
_SMALL = 6


def record_backward(root: Node, gradient=None) -> BackwardTrace:
    """Record the backward pass of ``root`` as ``autograd.grad`` runs it: the graph is retained and no
    ``.grad`` changes (nothing accumulates, so calling this twice changes nothing); gradient hooks run
    as in any backward. The caller's ``autograd`` state is left alone: draw_graph's default trace (the
    last ``trace_backward``) stays what it was."""
    leaves = [node for node in topological_order([root]) if not node.parents and node.requires_grad]
    saved = _mode.last_trace
    try:
        with BackwardTrace() as trace:
            grad(root, leaves, grad_outputs=gradient, retain_graph=True, allow_unused=True)
    except RuntimeError as error:
        raise RuntimeError(f"backward_frames: no recorded backward pass reached this graph and recording one "
                           f"failed: {error}") from error
    finally:
        _mode.last_trace = saved
    return trace


def _trace_for(root: Node, trace, gradient) -> BackwardTrace:
    """The given trace, else the last ``trace_backward`` if it reached ``root``, else one recorded now."""
    if trace is not None:
        return trace
    last = _mode.last_trace
    return last if last is not None and root in last.step_of else record_backward(root, gradient)


def backward_frames(root: Node, trace=None, *, gradient=None, **options) -> list:
    """One picture per step of the backward pass (frame 0: before it, frame k: after op step k), for
    stepping through it in a notebook; ``options`` go to draw_graph.

    The pass is ``trace`` if given, else the last ``trace_backward`` if it reached ``root``, else it is
    recorded here with ``record_backward(root, gradient)``: ``.grad`` is left as it was."""
    trace = _trace_for(root, trace, gradient)
    return [draw_graph(root, show_local=True, upto_step=k, trace=trace, **options)
            for k in range(len(Arrivals(trace).ops) + 1)]


def step_captions(root: Node, trace=None, *, gradient=None) -> list[str]:
    """One sentence per frame of ``backward_frames``: what the step's op received and sent to each input,
    and which gradients are final after it."""
    trace = _trace_for(root, trace, gradient)
    arrivals, names = Arrivals(trace), trace.names().get  # the picture's names: labels, parameter names

    def name(node) -> str:
        return names(node) or (f"the {node.op} result" if node.parents else "a leaf")

    show = lambda x: quantity_text(x, _SMALL)
    total = len(arrivals.ops)
    roots = [s["node"] for s in trace.steps if arrivals.final.get(s["node"]) == 0]
    seeds = ", ".join(f"{name(r)} starts with gradient {show(trace.steps[trace.step_of[r] - 1]['upstream'])}"
                      for r in roots)
    captions = [f"Before the backward pass ({total} step{'s' * (total != 1)}): {seeds} "
                f"(the derivative of the output with respect to itself)."]
    final_after: dict = {}
    for node, k in arrivals.final.items():
        final_after.setdefault(k, []).append(node)
    for k, s in enumerate(arrivals.ops, 1):
        node, local = s["node"], s["local"]
        sent = []
        for i, (parent, c) in enumerate(zip(node.parents, s["contributions"])):
            if c is None:
                continue
            how = f"{show(s['upstream'])} \u00d7 local {show(local[i])} = " if local is not None else ""
            sent.append(f"input {i} ({name(parent)}) gets {how}{show(c)}")
        pattern = f" ({node.op} {PATTERNS[node.op]})" if node.op in PATTERNS else ""
        maker = f"the {node.op} that made {name(node)}" if names(node) else f"the {node.op} op"
        text = (f"Step {k} of {total}: {maker} passes on its gradient "
                f"{show(s['upstream'])}{pattern}: " + ("; ".join(sent) or "no input needs a gradient") + ".")
        done = [name(n) for n in final_after.get(k, ())]
        if done:
            text += " Final now: " + ", ".join(done) + "."
        captions.append(text)
    return captions


def _inline_svg(svg: str, k: int) -> str:
    """Graphviz's SVG document as an element to inline: no XML prolog, ids unique per frame."""
    svg = svg[svg.find("<svg"):]
    return re.sub(r' id="', f' id="f{k}-', svg)


_STYLE = """
.cr-player{font-family:system-ui,sans-serif;max-width:100%}
.cr-player:focus{outline:none}
.cr-controls{display:flex;gap:.5em;align-items:center;flex-wrap:wrap;margin:.3em 0}
.cr-controls input[type=range]{flex:1;min-width:8em}
.cr-steps{display:flex;flex-wrap:wrap;gap:.25em;list-style:none;padding:0;margin:.3em 0}
.cr-steps button{border:1px solid #bbb;background:#fff;border-radius:3px;padding:0 .4em;cursor:pointer}
.cr-steps .current button{background:#fff2a8;border-color:#b59a00;font-weight:bold}
.cr-caption{min-height:2.6em;margin:.3em 0}
.cr-frame svg{max-width:100%;height:auto}
"""

# show(k) moves every control to frame k; the arrow keys listen on the page, or in a notebook on the player.
_SCRIPT = """(function(){
var box=document.getElementById("%(id)s"),frames=box.querySelectorAll(".cr-frame"),
 items=box.querySelectorAll(".cr-steps li"),slider=box.querySelector(".cr-slider"),k=0;
function show(n){k=Math.max(0,Math.min(frames.length-1,n));
 for(var i=0;i<frames.length;i++){frames[i].hidden=i!==k;items[i].classList.toggle("current",i===k);
  if(i===k)items[i].setAttribute("aria-current","step");else items[i].removeAttribute("aria-current");}
 slider.value=k;box.querySelector(".cr-caption").textContent=frames[k].getAttribute("data-caption");
 box.querySelector(".cr-count").textContent="step "+k+" of "+(frames.length-1);}
box.querySelector(".cr-prev").onclick=function(){show(k-1)};
box.querySelector(".cr-next").onclick=function(){show(k+1)};
slider.oninput=function(){show(+slider.value)};
items.forEach(function(item,i){item.querySelector("button").onclick=function(){show(i)}});
%(keys)s.addEventListener("keydown",function(e){var to={ArrowRight:k+1,ArrowLeft:k-1,Home:0,
 End:frames.length-1}[e.key];if(to!==undefined){show(to);e.preventDefault();}});
show(0);})();"""

_ids = itertools.count()


def _player(svgs: list, captions: list, ops: list, page: bool) -> str:
    """The player's HTML: controls, step list, caption, one frame per step (all but the first hidden)."""
    uid = f"cr-steps-{os.getpid()}-{next(_ids)}"
    last = len(svgs) - 1
    items = "".join(
        f'<li{" class=current aria-current=step" if k == 0 else ""}><button type="button" '
        f'title="{html.escape(c)}">{k}{" " + html.escape(str(op)) if op else ""}</button></li>'
        for k, (c, op) in enumerate(zip(captions, ["start", *ops])))
    frames = "".join(f'<div class="cr-frame" data-step="{k}" data-caption="{html.escape(c)}"'
                     f'{" hidden" if k else ""}>{svg}</div>' for k, (svg, c) in enumerate(zip(svgs, captions)))
    return (f'<div class="cr-player" id="{uid}" tabindex="0"><style>{_STYLE}</style>'
            f'<div class="cr-controls"><button type="button" class="cr-prev">\u25c0 prev</button>'
            f'<input type="range" class="cr-slider" min="0" max="{last}" value="0" aria-label="backward step">'
            f'<button type="button" class="cr-next">next \u25b6</button><span class="cr-count">step 0 of {last}'
            f'</span></div><ol class="cr-steps">{items}</ol><p class="cr-caption">{html.escape(captions[0])}</p>'
            f'{frames}<script>{_SCRIPT % {"id": uid, "keys": "document" if page else "box"}}</script></div>')


class StepThrough:
    """The backward pass as an HTML player (Jupyter shows it through ``_repr_html_``); ``save(path)``
    writes it as a page of its own."""

    def __init__(self, svgs: list, captions: list, ops: list):
        self.svgs, self.captions, self.ops = svgs, captions, ops

    def __len__(self) -> int:
        return len(self.svgs)

    def _repr_html_(self) -> str:
        return _player(self.svgs, self.captions, self.ops, page=False)

    def page(self, title: str = "Backpropagation, step by step") -> str:
        """The whole self-contained HTML document."""
        return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}'
                f'</title><meta name="viewport" content="width=device-width, initial-scale=1"></head>\n<body>'
                f'<h1 style="font:600 1.3em system-ui,sans-serif">{html.escape(title)}</h1>'
                f'<p style="font:.9em system-ui,sans-serif;color:#555">Use the buttons, the slider or the '
                f'\u2190 \u2192 keys. The highlighted node is the one whose backward runs at this step.</p>\n'
                f'{_player(self.svgs, self.captions, self.ops, page=True)}\n</body></html>\n')

    def save(self, path: str | os.PathLike, title: str = "Backpropagation, step by step") -> str:
        """Write ``page()`` to ``path`` (.html or .htm) as ``export_html`` does; return the path written."""
        path = _html_path(path)
        write_atomically(path, self.page(title).encode("utf-8"), "export_html")  # its errors name the path as given
        written = os.path.abspath(path)
        print(f"export_html: wrote {written} ({len(self.svgs) - 1} backward steps)")
        return written


def _html_path(filename) -> str:
    """The path to write, after refusing an empty name, a folder, a read-only file and a suffix
    other than .html / .htm (nothing is written then)."""
    path = os.fspath(filename)
    if not str(path).strip():
        raise ValueError("export_html: the file name is empty; give a path such as backprop.html")
    if path.endswith((os.sep, "/")) or os.path.isdir(path):
        raise IsADirectoryError(f"export_html: {path!r} is a folder; give a file name such as "
                                f"{os.path.join(path, 'backprop.html')!r}")
    suffix = os.path.splitext(path)[1]
    if suffix.lower() not in (".html", ".htm"):
        raise ValueError(f"export_html: {path!r} " + (f"ends in {suffix}" if suffix else "has no suffix") +
                         "; the page is HTML, so name it ....html or ....htm (nothing was written)")
    if os.path.exists(path) and not os.access(path, os.W_OK):
        raise PermissionError(f"export_html: {path!r} is read-only; it was left as it is")
    return path


def _player_parts(root: Node, trace, gradient, max_steps: int, options: dict, who: str) -> StepThrough:
    """SVG text, caption and op per frame, refusing passes too long to draw one picture per step."""
    trace = _trace_for(root, trace, gradient)
    ops = [s["op"] for s in Arrivals(trace).ops]
    if len(ops) > max_steps:
        raise ValueError(f"{who}: the backward pass has {len(ops)} steps, one picture each, more than "
                         f"max_steps={max_steps}; step through a smaller graph or raise max_steps")
    frames = backward_frames(root, trace, **options)
    svgs = [_inline_svg(frame.pipe(format="svg", encoding="utf-8"), k) for k, frame in enumerate(frames)]
    return StepThrough(svgs, step_captions(root, trace), ops)


def step_through(root: Node, trace=None, *, gradient=None, widget: bool | None = None,
                 max_steps: int = MAX_STEPS, **options):
    """Step through the backward pass of ``root`` in Jupyter: a slider and prev/next buttons over the
    frames of ``backward_frames`` (SVG), with a caption per step.

    ``widget=None`` gives an ipywidgets box when ipywidgets is installed (the notebooks extra has it),
    else a ``StepThrough`` (plain HTML and script, also works where no kernel runs); ``widget=False``
    always gives the ``StepThrough``. The pass is recorded as in ``backward_frames``, ``.grad`` untouched.
    ``options`` go to draw_graph."""
    if widget is not False:
        try:
            import ipywidgets
        except ImportError:
            if widget:
                raise ImportError("step_through(widget=True) needs ipywidgets: pip install ipywidgets "
                                  "(or pip install -e '.[notebooks]')") from None
            ipywidgets = None
    player = _player_parts(root, trace, gradient, max_steps, options, "step_through")
    if widget is False or ipywidgets is None:
        return player
    return _widget(ipywidgets, player)


def _widget(widgets, player: StepThrough):
    """An ipywidgets VBox: prev, slider, next; the caption; the frame."""
    last = len(player) - 1
    slider = widgets.IntSlider(value=0, min=0, max=last, description="step", continuous_update=True)
    prev, after = widgets.Button(description="\u25c0 prev"), widgets.Button(description="next \u25b6")
    caption, frame = widgets.HTML(), widgets.HTML()

    def show(change=None) -> None:
        k = slider.value
        caption.value = f"<p>{html.escape(player.captions[k])}</p>"
        frame.value = f'<div style="max-width:100%;overflow:auto">{player.svgs[k]}</div>'
        prev.disabled, after.disabled = k == 0, k == last

    def move(by: int):
        return lambda _: setattr(slider, "value", max(0, min(last, slider.value + by)))

    prev.on_click(move(-1))
    after.on_click(move(1))
    slider.observe(show, names="value")
    show()
    box = widgets.VBox([widgets.HBox([prev, slider, after]), caption, frame])
    box.slider, box.prev, box.next, box.caption, box.frame = slider, prev, after, caption, frame
    return box


def export_html(root: Node, filename: str | os.PathLike, trace=None, *, gradient=None,
                title: str = "Backpropagation, step by step", max_steps: int = MAX_STEPS, **options) -> str:
    """Write the backward pass of ``root`` as one self-contained HTML page and return its absolute path.

    The page holds every frame as inline SVG, a caption per step and a few lines of script (no network):
    prev/next buttons, a slider, a clickable step list and the arrow keys. The name must end in .html or
    .htm; missing folders are made; the file is written whole or not at all (a temporary file in the same
    folder, renamed), with the user's umask. The pass is recorded as in ``backward_frames``, ``.grad``
    untouched. ``options`` go to draw_graph."""
    _html_path(filename)  # refuse a bad name before drawing anything
    return _player_parts(root, trace, gradient, max_steps, options, "export_html").save(filename, title)
