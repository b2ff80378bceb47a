"""Tests of nnbook.widgets: slider panels in live (ipywidgets) and static (precomputed HTML) mode."""
import base64
import io
import json
import re
import shutil
import subprocess

import numpy as np
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from PIL import Image

from nnbook import widgets
from nnbook.widgets import Choice, Panel, Slider

X = np.linspace(-3, 3, 50)


def line_setup(fig):
    ax = fig.add_subplot()
    line, = ax.plot([], [], label="w·x + b")
    ax.set(xlim=(-3, 3), ylim=(-8, 8), title="A neuron with one input",
           xlabel="input x", ylabel="weighted sum")
    ax.legend(loc="upper left")
    return line


def line_update(line, w, b):
    line.set_data(X, w * X + b)


def line_panel(**kw):
    kw.setdefault("mode", "live")
    return Panel(line_setup, line_update,
                 [Slider("w", -2, 2, 0.1, value=1.0), Slider("b", -2, 2, 0.1, value=0.0)], **kw)


G = np.linspace(-3, 3, 150)
GX, GY = np.meshgrid(G, G)
PTS = np.random.default_rng(0).normal(size=(60, 2))


def boundary_setup(fig):
    ax = fig.add_subplot()
    im = ax.imshow(np.zeros((150, 150)), extent=(-3, 3, -3, 3), origin="lower", cmap="RdBu",
                   vmin=0, vmax=1, alpha=0.6)
    ax.scatter(PTS[:, 0], PTS[:, 1], c=(PTS[:, 0] > 0).astype(int), cmap="RdBu",
               edgecolors="k", label="samples")
    title = ax.set_title("")
    ax.set(xlabel="$x_1$", ylabel="$x_2$")
    ax.legend(loc="lower right")
    fig.colorbar(im, ax=ax, label="P(class 1)")
    return im, title


def boundary_update(state, w, act):
    im, title = state
    z = w * GX + GY
    im.set_data(1 / (1 + np.exp(-z)) if act == "sigmoid" else (z > 0).astype(float))
    title.set_text(f"{act} neuron, w = {w:.1f}")


def boundary_panel(**kw):
    kw.setdefault("mode", "live")
    return Panel(boundary_setup, boundary_update,
                 [Slider("w", -1, 1, 0.5, value=0.0), Choice("act", ["step", "sigmoid"], "sigmoid")],
                 figsize=(5, 4), **kw)


@pytest.fixture(scope="module")
def typical_html():
    """The static export of the chapter-1 line panel (two sliders of 41 values)."""
    return line_panel(mode="static").export()


def pixels(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGBA"))


def full_draw(setup, update, figsize=(6, 4), dpi=80, **values) -> np.ndarray:
    """Reference: a fresh figure drawn once, the plain matplotlib way (no caching)."""
    fig = Figure(figsize=figsize, dpi=dpi)
    FigureCanvasAgg(fig)
    state = setup(fig)
    update(state, **values)
    fig.canvas.draw()
    return np.array(fig.canvas.buffer_rgba())


def embedded(html: str) -> dict:
    """The JSON data block of a static panel's script."""
    return json.loads(re.search(r"var d = (\{.*?\});\n", html).group(1))


def frame_of(html: str, key: str) -> bytes:
    d = embedded(html)
    f = d["keys"][key]
    if d["frames"][f]:
        return base64.b64decode(d["frames"][f])
    src = re.search(r'<img id="[^"]+" src="data:image/png;base64,([^"]+)"', html).group(1)
    return base64.b64decode(src)


# ------------------------------------------------------------------ controls and validation
def test_slider_grid_is_exact_and_typed():
    s = Slider("w", -2, 2, 0.1, value=1.0)
    assert len(s) == 41
    assert s.values[0] == -2.0 and s.values[-1] == 2.0
    assert s.values[23] == 0.3 and s.values[20] == 0.0
    assert str(s.values[20]) == "0.0"          # no negative zero
    assert s.snap(0.1 * 3) == 0.3
    assert s.format(0.3) == "0.3"
    k = Slider("hidden", 1, 9, 2, value=3)
    assert k.is_int and k.values == [1, 3, 5, 7, 9] and all(type(v) is int for v in k.values)
    assert Slider("lr", 0.001, 0.01, 0.001, value=0.005).format(0.005) == "0.005"


@pytest.mark.parametrize("args, match", [
    (("w", 2, -2, 0.1, 0.0), "smaller than max"),
    (("w", -2, 2, 0, 0.0), "step must be positive"),
    (("w", -2, 2, -0.5, 0.0), "step must be positive"),
    (("w", 0, 1, 0.3, 0.3), "whole number of steps"),
    (("w", -2, 2, 0.1, 3.0), "outside"),
    (("w", -2, 2, 0.5, 0.2), "not one of its values"),
    (("2w", -2, 2, 0.5, 0.0), "identifier"),
])
def test_slider_validation(args, match):
    with pytest.raises(ValueError, match=match):
        Slider(*args)


def test_slider_type_errors():
    with pytest.raises(TypeError, match="finite number"):
        Slider("w", "0", 1, 0.1, 0.5)
    with pytest.raises(TypeError, match="finite number"):
        Slider("w", 0, float("inf"), 0.1, 0.5)


def test_choice_validation():
    c = Choice("act", ["relu", "tanh"], "tanh")
    assert c.value == "tanh" and c.index("tanh") == 1 and len(c) == 2
    assert Choice("act", ("a", "b")).value == "a"
    with pytest.raises(ValueError, match="at least one"):
        Choice("act", [])
    with pytest.raises(ValueError, match="distinct"):
        Choice("act", ["a", "a"])
    with pytest.raises(ValueError, match="not one of the options"):
        Choice("act", ["a", "b"], "c")
    with pytest.raises(TypeError, match="list or tuple"):
        Choice("act", "relu")


def test_panel_validation(monkeypatch):
    s = Slider("w", -1, 1, 0.5, value=0.0)
    with pytest.raises(ValueError, match="distinct"):
        Panel(line_setup, line_update, [s, Slider("w", 0, 1, 0.5, value=0.0)], mode="live")
    with pytest.raises(ValueError, match="at least one"):
        Panel(line_setup, line_update, [], mode="live")
    with pytest.raises(TypeError, match="Slider or Choice"):
        Panel(line_setup, line_update, [("w", -1, 1)], mode="live")
    with pytest.raises(TypeError, match="functions"):
        Panel(None, line_update, [s], mode="live")
    with pytest.raises(ValueError, match="mode must be one of"):
        Panel(line_setup, line_update, [s], mode="interactive")
    with pytest.raises(ValueError, match="figsize"):
        Panel(line_setup, line_update, [s], figsize=(0, 3), mode="live")
    with pytest.raises(ValueError, match="not a control"):
        Panel(line_setup, line_update, [s], static_values={"b": [0]}, mode="live")
    with pytest.raises(ValueError, match="not one of its values"):
        Panel(line_setup, line_update, [s], static_values={"w": [0.25]}, mode="live")
    monkeypatch.setenv("NNLIB_WIDGETS", "dynamic")
    with pytest.raises(ValueError, match="NNLIB_WIDGETS"):
        Panel(line_setup, line_update, [s])
    p = line_panel()
    with pytest.raises(ValueError, match="unknown control"):
        p.render(v=1.0)
    with pytest.raises(ValueError, match="not one of its values"):
        p.render(w=0.05)


def test_mode_from_environment(monkeypatch):
    monkeypatch.delenv("NNLIB_WIDGETS", raising=False)
    assert line_panel(mode=None).mode == "live"
    monkeypatch.setenv("NNLIB_WIDGETS", "static")
    assert widgets.widget_mode() == "static"
    assert line_panel(mode=None).mode == "static"
    assert line_panel(mode="live").mode == "live"      # explicit override wins


# ------------------------------------------------------------------ rendering
def test_render_equals_a_plain_full_draw():
    """The cached-background redraw gives exactly the pixels of an ordinary full draw."""
    p = line_panel()
    for w, b in [(1.0, 0.0), (-1.5, 0.7), (0.3, -2.0)]:
        assert np.array_equal(p.render_rgba(w=w, b=b),
                              full_draw(line_setup, line_update, w=w, b=b))


def test_frames_do_not_depend_on_history():
    p = boundary_panel()
    a1 = p.render_rgba(w=0.5, act="step")
    p.render_rgba(w=-1.0, act="sigmoid")
    p.render_rgba(w=1.0, act="step")
    assert np.array_equal(a1, p.render_rgba(w=0.5, act="step"))
    assert np.array_equal(a1, boundary_panel().render_rgba(w=0.5, act="step"))
    assert not np.array_equal(a1, p.render_rgba(w=0.5, act="sigmoid"))


def test_changes_outside_the_dynamic_artists_are_drawn():
    """An update that also moves an axis limit (not touched at setup) still renders correctly."""
    def setup(fig):
        ax = fig.add_subplot()
        line, = ax.plot(X, X, label="line")
        ax.set(title="scaled", xlabel="x", ylabel="y")
        ax.legend()
        return ax, line

    def update(state, s):
        ax, line = state
        line.set_ydata(s * X)
        if s > 2:
            ax.set_ylim(-3 * s, 3 * s)
        else:
            ax.set_ylim(-6, 6)

    p = Panel(setup, update, [Slider("s", 1, 4, 1, value=1)], mode="live")
    for s in (1, 3, 2, 4, 1):
        assert np.array_equal(p.render_rgba(s=s), full_draw(setup, update, s=s))


def test_figure_texts_are_redrawn_without_a_full_redraw():
    """A suptitle changed by update is a dynamic artist: exact pixels, background drawn once."""
    def setup(fig):
        ax = fig.add_subplot()
        line, = ax.plot([], [], label="w·x")
        ax.set(xlim=(-3, 3), ylim=(-6, 6), title="line", xlabel="x", ylabel="w·x")
        ax.legend()
        return line, fig.suptitle("")

    def update(state, w):
        line, sup = state
        line.set_data(X, w * X)
        sup.set_text(f"w = {w:.1f}")

    p = Panel(setup, update, [Slider("w", -2, 2, 0.5, value=1.0)], mode="live")
    for w in (1.0, -2.0, 0.5, 2.0):
        assert np.array_equal(p.render_rgba(w=w), full_draw(setup, update, w=w))
    assert p._redraw.rebuilds == 1


def test_two_axes_panel():
    """Two subplots: history-independent frames that match a full redraw (up to a few edge
    pixels where one axes' redrawn spine touches the other's tick labels)."""
    def setup(fig):
        ax1, ax2 = fig.subplots(1, 2)
        l1, = ax1.plot([], [], label="w·x")
        l2, = ax2.semilogy([], [], color="C3", label="|w|·x²")
        ax1.set(xlim=(-3, 3), ylim=(-6, 6), title="line", xlabel="x", ylabel="w·x")
        ax2.set(xlim=(0, 3), ylim=(1e-3, 1e2), title="log", xlabel="x", ylabel="|w|·x²")
        ax1.legend(), ax2.legend()
        return l1, l2

    def update(state, w):
        l1, l2 = state
        l1.set_data(X, w * X)
        l2.set_data(X[X > 0], abs(w) * X[X > 0] ** 2 + 1e-3)

    p = Panel(setup, update, [Slider("w", -2, 2, 0.5, value=1.0)], mode="live")
    first = p.render_rgba(w=-2.0)
    for w in (1.0, 0.5, 2.0):
        frame = p.render_rgba(w=w)
        ref = full_draw(setup, update, w=w)
        assert np.mean(np.any(frame != ref, axis=2)) < 1e-3
        assert np.abs(frame.astype(int) - ref).max() < 128
    assert np.array_equal(p.render_rgba(w=-2.0), first)
    assert p._redraw.rebuilds == 1


def test_update_that_replaces_artists_is_drawn_correctly():
    """Removing and re-adding an artist in update (fill_between) is slower but still exact."""
    def setup(fig):
        ax = fig.add_subplot()
        line, = ax.plot([], [], color="k", label="boundary")
        ax.set(xlim=(-3, 3), ylim=(-3, 3), title="half-plane", xlabel="x", ylabel="y")
        ax.legend(loc="upper left")
        return {"ax": ax, "line": line, "fill": None}

    def update(st, w):
        if st["fill"] is not None:
            st["fill"].remove()
        st["line"].set_data(X, w * X)
        st["fill"] = st["ax"].fill_between(X, w * X, 3, color="C1", alpha=0.3, label="class 1")

    p = Panel(setup, update, [Slider("w", -1, 1, 0.5, value=0.5)], mode="live")
    for w in (0.5, -1.0, 1.0, 0.5):
        assert np.array_equal(p.render_rgba(w=w), full_draw(setup, update, w=w))


def test_png_has_no_metadata_and_is_deterministic():
    a = line_panel().render(w=0.5, b=0.5)
    b = line_panel().render(w=0.5, b=0.5)
    assert a == b
    pos, chunks = 8, []
    while pos < len(a):
        n = int.from_bytes(a[pos:pos + 4], "big")
        chunks.append(a[pos + 4:pos + 8].decode())
        pos += 12 + n
    assert chunks[0] == "IHDR" and chunks[-1] == "IEND"
    assert not {"tEXt", "iTXt", "zTXt", "tIME"} & set(chunks)
    assert Image.open(io.BytesIO(a)).size == (480, 320)


# ------------------------------------------------------------------ live mode
def test_live_widget_redraws_for_slider_values():
    p = line_panel()
    box = p.widget()
    assert set(box.controls) == {"w", "b"}
    assert type(box.controls["w"]).__name__ == "FloatSlider"
    assert box.controls["w"].value == 1.0
    box.controls["w"].value = 0.1 * 3          # float noise from the slider is snapped to 0.3
    box.controls["b"].value = -1.2
    line = p._state
    assert np.allclose(line.get_ydata(), 0.3 * X - 1.2)
    assert p.values == {"w": 0.3, "b": -1.2}
    assert np.array_equal(pixels(box.image.value),
                          full_draw(line_setup, line_update, w=0.3, b=-1.2))


def test_live_choice_and_int_slider():
    seen = []

    def setup(fig):
        ax = fig.add_subplot()
        ax.set(title="t", xlabel="x", ylabel="y")
        return ax.plot([0, 1], [0, 1], label="l")[0]

    def update(line, n, act):
        seen.append((n, act))
        line.set_ydata([0, n])

    p = Panel(setup, update, [Slider("n", 1, 5, 1, value=2), Choice("act", ["relu", "tanh"])],
              mode="live")
    box = p.widget()
    assert type(box.controls["n"]).__name__ == "IntSlider"
    assert type(box.controls["act"]).__name__ == "Dropdown"
    box.controls["act"].value = 1
    box.controls["n"].value = 4
    assert seen[-2:] == [(2, "tanh"), (4, "tanh")]
    assert type(seen[-1][0]) is int


def test_live_errors_are_shown_not_raised():
    def update(line, w, b):
        if w < 0:
            raise ValueError("negative weights are not drawn here")
        line_update(line, w, b)

    p = Panel(line_setup, update, [Slider("w", -2, 2, 0.1, value=1.0),
                                   Slider("b", -2, 2, 0.1, value=0.0)], mode="live")
    box = p.widget()
    before = box.image.value
    box.controls["w"].value = -1.0
    errors = box.children[-1]
    assert "negative weights" in errors.outputs[0]["text"]
    assert box.image.value == before
    box.controls["w"].value = 0.5
    assert errors.outputs == ()


def test_show_uses_the_mode(monkeypatch):
    import IPython.display
    shown = []
    monkeypatch.setattr(IPython.display, "display", lambda obj: shown.append(obj))
    line_panel(mode="static", max_frames=10, static_values={"w": [0, 1]}).show()
    line_panel(mode="live").show()
    assert type(shown[0]).__name__ == "HTML" and 'class="nnlib-panel"' in shown[0].data
    assert type(shown[1]).__name__ == "VBox"


def test_no_pyplot_figures_are_created():
    import matplotlib.pyplot as plt
    before = plt.get_fignums()
    p = line_panel()
    p.widget()
    line_panel(mode="static", static_values={"w": [0, 1], "b": [0]}).to_html()
    assert plt.get_fignums() == before


# ------------------------------------------------------------------ static mode
def test_static_grid_has_every_combination():
    p = Panel(line_setup, line_update,
              [Slider("w", -1, 1, 0.5, value=0.0), Slider("b", -1, 2, 1, value=0)], mode="static")
    e = p.export()
    assert e.layout == "grid" and e.note == ""
    assert len(e.index) == 5 * 4 and len(e.frames) == 20       # all frames differ
    d = embedded(e.html)
    assert len(d["keys"]) == 20 and len(d["frames"]) == 20 and not d["oneAtATime"]
    assert d["labels"] == [["-1.0", "-0.5", "0.0", "0.5", "1.0"], ["-1", "0", "1", "2"]]
    assert d["start"] == [2, 1]


def test_static_one_at_a_time_for_large_grids():
    p = Panel(line_setup, lambda line, w, b, c: line_update(line, w * c, b),
              [Slider("w", -2, 2, 0.1, value=1.0), Slider("b", -2, 2, 0.1, value=0.0),
               Slider("c", 0, 1, 0.5, value=1.0)], mode="static", max_frames=31)
    e = p.export()
    assert e.layout == "one-at-a-time"
    n = [len(v) for v in e.values.values()]
    assert len(e.index) == 1 + sum(k - 1 for k in n) <= 31
    assert n[2] == 3                                          # short sliders are kept whole
    assert n[0] < 41 and e.values["w"][0] == -2.0 and e.values["w"][-1] == 2.0
    assert 1.0 in e.values["w"] and 0.0 in e.values["b"]      # defaults are always offered
    assert "one control moves at a time" in e.html
    assert "offers" in e.note
    d = embedded(e.html)
    assert d["oneAtATime"] and len(d["keys"]) == len(e.index)
    # every key has exactly one control away from its default
    for key in d["keys"]:
        pos = [int(i) for i in key.split(",")]
        assert sum(p != s for p, s in zip(pos, d["start"])) <= 1


def test_static_full_grid_is_used_when_small_enough():
    p = line_panel(mode="static", static_values={"w": [-2, -1, 0, 1, 2], "b": [-1, 0, 1]})
    e = p.export()
    assert e.layout == "grid" and len(e.index) == 15
    assert e.values["w"] == [-2.0, -1.0, 0.0, 1.0, 2.0]


def test_static_frame_equals_live_rendering():
    p = boundary_panel(mode="static")
    e = p.export()
    assert e.layout == "grid" and len(e.index) == 10
    live = boundary_panel()
    box = live.widget()
    box.controls["w"].value = -0.5
    box.controls["act"].value = 0          # "step"
    html_frame = frame_of(e.html, "1,0")   # w index 1 (-0.5), act index 0 ("step")
    assert np.array_equal(pixels(html_frame), pixels(box.image.value))
    assert np.array_equal(pixels(e.frame(w=-0.5, act="step")), pixels(box.image.value))
    # the default frame (shown before any move) is the live first frame
    assert np.array_equal(pixels(frame_of(e.html, "2,1")), pixels(live.render()))


def test_static_line_frames_equal_live_frames(typical_html):
    e = typical_html
    live = line_panel()
    for w, b in [(1.0, 0.0), (-1.0, 0.0), (1.0, 1.8)]:
        assert np.array_equal(pixels(e.frame(w=w, b=b)), pixels(live.render(w=w, b=b)))


def test_static_html_size_and_unique_ids(typical_html):
    assert len(typical_html.html.encode()) < 2_000_000
    assert len(typical_html.index) == 81
    # the same panel twice on one page still gets distinct ids
    h1 = line_panel(mode="static", static_values={"w": [0, 1], "b": [0]}).to_html()
    h2 = line_panel(mode="static", static_values={"w": [0, 1], "b": [0]}).to_html()
    ids = re.findall(r'\bid="([^"]+)"', h1 + h2)
    assert len(ids) == len(set(ids)) == 2 * (1 + 2 + 2 + 1)   # root, inputs, outputs, img
    assert "<script src" not in h1 and "http" not in h1
    assert h1.count("<script>") == 1 and h1.count("</script>") == 1


def test_static_size_limit_is_enforced():
    with pytest.raises(ValueError, match="static_values"):
        line_panel(mode="static", max_bytes=10_000).export()


def test_static_choice_uses_a_select():
    html = boundary_panel(mode="static").to_html()
    assert re.search(r'<select id="[^"]+-c1"><option value="0">step</option>'
                     r'<option value="1" selected>sigmoid</option></select>', html)


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
@pytest.mark.parametrize("layout", ["grid", "one-at-a-time"])
def test_static_script_swaps_frames(layout, tmp_path, typical_html):
    """Run the page script in node against a minimal DOM: moving a slider swaps the image."""
    if layout == "grid":
        html = line_panel(mode="static", static_values={"w": [0, 1, 2], "b": [-1, 0, 1]}).to_html()
    else:
        html = typical_html.html
    script = re.search(r"<script>(.*)</script>", html, re.S).group(1)
    elements = {}
    for m in re.finditer(r'<(input|output|img|div|select)\b[^>]*\bid="([^"]+)"([^>]*)>', html):
        tag, eid, rest = m.groups()
        value = re.search(r'value="([^"]*)"', m.group(0))
        src = re.search(r'src="([^"]*)"', m.group(0))
        elements[eid] = {"tag": tag, "value": value.group(1) if value else "",
                         "src": src.group(1) if src else ""}
    d = embedded(html)
    pid = re.search(r'id="(nnlib-panel-[^"]+)"', html).group(1)
    harness = """
const els = %s;
const nodes = {};
for (const [id, e] of Object.entries(els)) {
  const attrs = {src: e.src};
  nodes[id] = {value: e.value, textContent: "", listeners: {},
    getAttribute(n) { return attrs[n]; }, setAttribute(n, v) { attrs[n] = v; },
    addEventListener(t, f) { (this.listeners[t] = this.listeners[t] || []).push(f); }};
}
globalThis.document = {getElementById: (id) => nodes[id] || null};
%s
const pid = %s, out = [];
function move(k, v) {
  const el = nodes[pid + "-c" + k]; el.value = String(v);
  el.listeners.input.forEach((f) => f());
  out.push({src: nodes[pid + "-img"].getAttribute("src"),
            values: [0, 1].map((j) => nodes[pid + "-c" + j].value),
            labels: [0, 1].map((j) => nodes[pid + "-o" + j].textContent)});
}
move(0, 0); move(1, 2); move(0, %d);
console.log(JSON.stringify(out));
""" % (json.dumps(elements), script, json.dumps(pid), d["start"][0])
    js = tmp_path / "run.js"
    js.write_text(harness)
    res = subprocess.run(["node", str(js)], capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stderr
    steps = json.loads(res.stdout)
    first_src = elements[pid + "-img"]["src"]

    def src_of(key):
        f = d["keys"][key]
        return "data:image/png;base64," + d["frames"][f] if d["frames"][f] else first_src

    s0, s1 = d["start"]
    assert steps[0]["src"] == src_of(f"0,{s1}")
    assert steps[0]["labels"] == [d["labels"][0][0], d["labels"][1][s1]]
    if layout == "grid":
        assert steps[1]["src"] == src_of("0,2") and steps[1]["values"] == ["0", "2"]
    else:   # moving b puts w back to its default
        assert steps[1]["src"] == src_of(f"{s0},2") and steps[1]["values"] == [str(s0), "2"]
        assert steps[1]["labels"][0] == "1.0"
    back = src_of(f"{s0},{2 if layout == 'grid' else s1}")
    assert steps[2]["src"] == back


def test_two_static_panels_work_in_chromium(typical_html, browser):
    """Two panels on one page: keys move each slider, frames swap, no console errors."""
    small = boundary_panel(mode="static").to_html()
    page_html = ("<!doctype html><html><head><meta charset='utf-8'><title>panels</title></head>"
                 f"<body>{typical_html.html}<hr>{small}</body></html>")
    page = browser.new_page()
    try:
        errors = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.set_content(page_html)
        panels = page.locator(".nnlib-panel")
        assert panels.count() == 2
        line, boundary = panels.nth(0), panels.nth(1)
        img = line.locator("img")
        start = img.get_attribute("src")
        w, b = line.locator("input[type=range]").nth(0), line.locator("input[type=range]").nth(1)
        w.focus()
        w.press("Home")                           # w = -2.0
        assert line.locator("output").nth(0).text_content() == "-2.0"
        assert base64.b64decode(img.get_attribute("src").split(",", 1)[1]) == \
            typical_html.frame(w=-2.0)
        b.focus()
        b.press("End")                            # b = 2.0, and w returns to 1.0
        assert line.locator("output").nth(0).text_content() == "1.0"
        assert line.locator("output").nth(1).text_content() == "2.0"
        assert base64.b64decode(img.get_attribute("src").split(",", 1)[1]) == \
            typical_html.frame(b=2.0)
        b.press("Home")
        for _ in range(20):
            b.press("ArrowRight")                 # back to b = 0.0: the first frame again
        assert img.get_attribute("src") == start
        assert img.evaluate("i => i.complete && i.naturalWidth === 480")
        # the second panel: a dropdown and a slider, untouched by the first panel's moves
        bimg = boundary.locator("img")
        before = bimg.get_attribute("src")
        boundary.locator("select").select_option("0")
        assert bimg.get_attribute("src") != before
        assert bimg.evaluate("i => i.complete && i.naturalWidth > 0")
        assert not errors, errors
    finally:
        page.close()
