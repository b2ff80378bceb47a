"""Tests of nnbook.widgets: slider panels in live (ipywidgets) and static (frame files) mode."""
import io
import json
import os
import re
import time

import numpy as np
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from PIL import Image

from nnbook import widgets
from nnbook.widgets import Panel

X = np.linspace(-3, 3, 50)


def draw_line(fig, w=1.0, b=0.0):
    ax = fig.add_subplot()
    ax.plot(X, w * X + b, label="w·x + b")
    ax.set(xlim=(-3, 3), ylim=(-8, 8), title="A neuron with one input",
           xlabel="input x", ylabel="weighted sum")
    ax.legend(loc="upper left")


def line_panel(**kw):
    kw = {"mode": "live", "w": (-2, 2, 0.1), "b": (-2, 2, 0.1), **kw}
    return Panel(draw_line, **kw)


G = np.linspace(-3, 3, 150)
GX, GY = np.meshgrid(G, G)
PTS = np.random.default_rng(0).normal(size=(60, 2))


def draw_boundary(fig, w=0.0, act="sigmoid"):
    ax = fig.add_subplot()
    z = w * GX + GY
    im = ax.imshow(1 / (1 + np.exp(-z)) if act == "sigmoid" else (z > 0).astype(float),
                   extent=(-3, 3, -3, 3), origin="lower", cmap="RdBu", vmin=0, vmax=1)
    ax.scatter(PTS[:, 0], PTS[:, 1], c=(PTS[:, 0] > 0).astype(int), cmap="RdBu",
               edgecolors="k", label="samples")
    ax.set(xlabel="$x_1$", ylabel="$x_2$", title=f"{act} neuron, w = {w:.1f}")
    ax.legend(loc="lower right")
    fig.colorbar(im, ax=ax, label="P(class 1)")


def boundary_panel(**kw):
    kw.setdefault("mode", "live")
    return Panel(draw_boundary, w=(-1, 1, 0.5), act=["step", "sigmoid"], figsize=(5, 4), **kw)


@pytest.fixture(scope="module", autouse=True)
def frames_dir(tmp_path_factory):
    """Static frames go to <tmp>/panel-frames (a page in <tmp>/chapters/ finds them at ../)."""
    root = tmp_path_factory.mktemp("site")
    old, widgets.FRAMES_DIR = widgets.FRAMES_DIR, str(root / "panel-frames")
    (root / "chapters").mkdir()
    yield root
    widgets.FRAMES_DIR = old


@pytest.fixture(scope="module")
def typical():
    """A static line panel with two sliders of 17 values: every combination, 289 frames."""
    return line_panel(mode="static", w=(-2, 2, 0.25), b=(-2, 2, 0.25)).export()


def pixels(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGBA"))


def full_draw(draw, figsize=(6, 4), dpi=80, **values) -> np.ndarray:
    """Reference: a fresh figure drawn once, the plain matplotlib way."""
    fig = Figure(figsize=figsize, dpi=dpi)
    FigureCanvasAgg(fig)
    draw(fig, **values)
    fig.canvas.draw()
    return np.array(fig.canvas.buffer_rgba())


def embedded(html: str) -> dict:
    """The JSON data block of a static panel's script."""
    return json.loads(re.search(r"var d = (\{.*?\});\n", html).group(1))


def file_of(html: str, pos: list[int]) -> str:
    """The frame file the page shows for the value positions ``pos`` (row-major order)."""
    d, f = embedded(html), 0
    for k, p in enumerate(pos):
        f = f * len(d["labels"][k]) + p
    return d["url"] + d["files"][d["flat"][f]]


def frame_file(root, src: str) -> bytes:
    return (root / "chapters" / src).resolve().read_bytes()


# ------------------------------------------------------------------ controls and validation
def test_control_forms_and_starting_values():
    def draw(fig, w=1.0, n=3, act="tanh", data=2, *, lr):
        pass

    p = Panel(draw, w=(-2, 2, 0.1), n=(1, 9, 2), act=["relu", "tanh"], lr=(0.001, 0.01, 0.001),
              data=[("moons", 1), ("circles", 2)], labels={"w": "weight w"}, mode="live")
    w, n, act, lr, data = p.controls
    assert len(w) == 41 and w.options[23] == 0.3 and str(w.options[20]) == "0.0"  # no -0.0
    assert n.is_int and n.options == [1, 3, 5, 7, 9] and all(type(v) is int for v in n.options)
    assert not act.is_slider and data.labels == ["moons", "circles"]
    assert lr.labels[4] == "0.005" and w.label == "weight w" and n.label == "n"
    # draw's defaults are the starting values; without one, the middle value or the first option
    assert p.values == {"w": 1.0, "n": 3, "act": "tanh", "lr": 0.005, "data": 2}


@pytest.mark.parametrize("controls, error, match", [
    ({"w": (2, -2, 0.1)}, ValueError, "min < max"),
    ({"w": (-2, 2, 0)}, ValueError, "step must be positive"),
    ({"w": (0, 1, 0.3)}, ValueError, "whole number of steps"),
    ({"w": (0, 1, 1e-12)}, ValueError, "1e\\+12 steps.*choose a larger step"),
    ({"w": (-2, 2, 0.3)}, ValueError, "whole number of steps"),
    ({"w": (-1, 1, 0.5), "v": (0, 1, 1)}, TypeError, "accept the control 'v'"),
    ({"w": []}, TypeError, "slider or a non-empty list"),
    ({"w": "relu"}, TypeError, "slider or a non-empty list"),
    ({"w": ["a", "a"]}, ValueError, "distinct labels"),
    ({"w": (0, 3, 0.5)}, ValueError, "default of w in draw is 1.25"),
    ({}, ValueError, "at least one control"),
])
def test_control_validation(controls, error, match):
    def draw(fig, w=1.25):
        pass

    with pytest.raises(error, match=match):
        Panel(draw, mode="live", **controls)


def test_panel_validation(monkeypatch):
    with pytest.raises(TypeError, match="draw"):
        Panel(None, w=(0, 1, 1))
    with pytest.raises(TypeError, match="accept the control 'w'"):
        Panel(lambda fig, w=0, /: None, w=(0, 1, 1))
    with pytest.raises(TypeError, match=r"\['data'\] are not controls"):
        Panel(lambda fig, data, w=0: None, w=(0, 1, 1))
    with pytest.raises(ValueError, match="unknown mode 'interactive'"):
        line_panel(mode="interactive")
    with pytest.raises(ValueError, match="figsize must be positive"):
        line_panel(figsize=(0, 3))
    with pytest.raises(ValueError, match="unknown control in static 'c'"):
        line_panel(static={"c": [0]})
    with pytest.raises(ValueError, match="static value of w is 0.25"):
        line_panel(static={"w": [0.25]})
    with pytest.raises(ValueError, match="unknown control in labels"):
        line_panel(labels={"v": "v"})
    monkeypatch.setenv("NNBOOK_WIDGETS", "dynamic")
    with pytest.raises(ValueError, match="NNBOOK_WIDGETS"):
        line_panel(mode=None)
    p = line_panel()
    with pytest.raises(ValueError, match="unknown control 'v'"):
        p.render(v=1.0)
    with pytest.raises(ValueError, match="value of w is 0.05, not one of the slider's values"):
        p.render(w=0.05)


def test_mode_from_environment(monkeypatch):
    monkeypatch.delenv("NNBOOK_WIDGETS", raising=False)
    assert line_panel(mode=None).mode == "live"
    monkeypatch.setenv("NNBOOK_WIDGETS", "static")
    assert widgets.widget_mode() == "static"
    assert line_panel(mode=None).mode == "static"
    assert line_panel(mode="live").mode == "live"      # explicit override wins


# ------------------------------------------------------------------ rendering
def test_render_is_a_plain_draw_and_history_free():
    p = boundary_panel()
    first = p.render_rgba(w=0.5, act="step")
    assert np.array_equal(first, full_draw(draw_boundary, figsize=(5, 4), w=0.5, act="step"))
    # later frames reuse the canvas (and matplotlib's text caches): still a plain fresh draw
    assert np.array_equal(p.render_rgba(w=-1.0, act="sigmoid"),
                          full_draw(draw_boundary, figsize=(5, 4), w=-1.0, act="sigmoid"))
    assert np.array_equal(first, p.render_rgba(w=0.5, act="step"))
    assert not np.array_equal(first, p.render_rgba(w=0.5, act="sigmoid"))
    assert np.array_equal(line_panel().render_rgba(w=0.1 * 3), full_draw(draw_line, w=0.3))


def test_png_has_no_metadata_and_is_deterministic():
    a = line_panel().render(w=0.5, b=0.5)
    assert a == line_panel().render(w=0.5, b=0.5)
    pos, chunks = 8, []
    while pos < len(a):
        n = int.from_bytes(a[pos:pos + 4], "big")
        chunks.append(a[pos + 4:pos + 8].decode())
        pos += 12 + n
    assert chunks[0] == "IHDR" and chunks[-1] == "IEND"
    assert not {"tEXt", "iTXt", "zTXt", "tIME"} & set(chunks)
    assert Image.open(io.BytesIO(a)).size == (480, 320)


def test_no_pyplot_figures_are_created():
    import matplotlib.pyplot as plt
    before = plt.get_fignums()
    line_panel().widget()
    line_panel(mode="static", static={"w": [0, 1], "b": [0]}).export()
    assert plt.get_fignums() == before


# ------------------------------------------------------------------ live mode
def test_live_widget_redraws_for_slider_values():
    p = line_panel(labels={"w": "weight w"})
    box = p.widget()
    w, b = box.controls["w"], box.controls["b"]
    assert type(w).__name__ == "FloatSlider" and w.value == 1.0 and w.description == "weight w"
    w.value = 0.1 * 3                           # float noise from the slider is snapped to 0.3
    b.value = -1.2
    assert p.values == {"w": 0.3, "b": -1.2}
    assert np.array_equal(pixels(box.image.value), full_draw(draw_line, w=0.3, b=-1.2))


def test_live_dropdown_and_int_slider():
    seen = []

    def draw(fig, n=2, act="relu"):
        seen.append((n, act))
        fig.add_subplot().set(title="t")

    box = Panel(draw, n=(1, 5, 1), act=[("ReLU", "relu"), ("tanh", "tanh")], mode="live").widget()
    assert type(box.controls["n"]).__name__ == "IntSlider"
    assert box.controls["act"].options == (("ReLU", 0), ("tanh", 1))
    box.controls["act"].value = 1
    box.controls["n"].value = 4
    assert seen[-2:] == [(2, "tanh"), (4, "tanh")] and type(seen[-1][0]) is int


def test_slow_frames_update_on_release():
    def draw(fig, w=0):
        time.sleep(0.11)

    assert not Panel(draw, w=(0, 2, 1), mode="live").widget().controls["w"].continuous_update


def test_live_errors_are_shown_not_raised():
    def draw(fig, w=1.0, b=0.0):
        if w < 0:
            raise ValueError("negative weights are not drawn here")
        draw_line(fig, w, b)

    box = Panel(draw, w=(-2, 2, 0.1), b=(-2, 2, 0.1), mode="live").widget()
    before = box.image.value
    box.controls["w"].value = -1.0
    errors = box.children[-1]
    assert "negative weights" in errors.outputs[0]["text"]
    assert box.image.value == before
    box.controls["w"].value = 0.5
    assert errors.outputs == ()


def test_display_uses_the_mode(monkeypatch):
    import IPython.display
    shown = []
    monkeypatch.setattr(IPython.display, "display", lambda obj: shown.append(obj))
    line_panel(mode="static", static={"w": [0, 1], "b": [0]}, max_frames=10)._ipython_display_()
    line_panel(mode="live").show()
    assert type(shown[0]).__name__ == "HTML" and 'class="nnbook-panel"' in shown[0].data
    assert type(shown[1]).__name__ == "VBox"


# ------------------------------------------------------------------ static mode
def test_static_grid_has_every_combination(frames_dir):
    e = Panel(draw_line, w=(-1, 1, 0.5), b=(-1, 2, 1), mode="static").export()
    assert e.note == "" and len(e.index) == 5 * 4 == len(e.frames)     # all frames differ
    d = embedded(e.html)
    assert len(d["flat"]) == 20 and len(d["files"]) == 20 and d["url"] == "../panel-frames/"
    assert d["labels"] == [["-1.0", "-0.5", "0.0", "0.5", "1.0"], ["-1", "0", "1", "2"]]
    assert d["start"] == [4, 1]                             # w=1.0 and b=0 (draw's defaults)
    for (w, b), f in e.index.items():                       # one file per frame, named by content
        assert frame_file(frames_dir, d["url"] + widgets._frame_name(e.frames[f])) == e.frames[f]
    assert frame_file(frames_dir, file_of(e.html, [0, 3])) == e.frame(w=-1.0, b=2)
    assert f'src="{file_of(e.html, [4, 1])}"' in e.html     # the starting frame


def test_static_grid_over_the_budget_fails_naming_the_panel():
    with pytest.raises(ValueError, match=r"panel draw_line\(w, b\) needs 1681 frames \(41 x 41\), "
                                         r"over its build budget max_frames=1000"):
        line_panel(mode="static").export()
    with pytest.raises(ValueError, match=r"needs 6 frames \(3 x 2\).*max_frames=5"):
        line_panel(mode="static", static={"w": [0, 2], "b": [0, 1]}, max_frames=5).export()


def test_static_values_chosen_by_hand():
    e = line_panel(mode="static", static={"w": [-2, -1, 0, 2], "b": [-1, 0, 1]}).export()
    assert len(e.index) == 15 and "offers 5 of its 41 values" in e.note
    assert e.values["w"] == [-2.0, -1.0, 0.0, 1.0, 2.0]     # the starting 1.0 is added


def test_static_frames_equal_live_frames(typical):
    live = boundary_panel()
    box = live.widget()
    box.controls["w"].value = -0.5
    box.controls["act"].value = 0                           # "step"
    e = boundary_panel(mode="static").export()
    assert len(e.index) == 10
    assert np.array_equal(pixels(e.frame(w=-0.5, act="step")), pixels(box.image.value))
    line = line_panel(w=(-2, 2, 0.25), b=(-2, 2, 0.25))
    for w, b in [(1.0, 0.0), (-1.0, 0.5), (1.75, -2.0)]:
        assert np.array_equal(pixels(typical.frame(w=w, b=b)), pixels(line.render(w=w, b=b)))


@pytest.mark.skipif(widgets.PROCESSES < 2, reason="needs two CPUs and fork")
def test_large_grids_render_in_forked_processes_frame_for_frame(tmp_path, monkeypatch):
    """A grid of POOL_MIN frames or more is rendered by forked processes: the same PNGs as one
    process renders, in the same order, and each run of the last control (one training run's
    epochs, say) in one process, so that its caches serve the whole run."""
    log = tmp_path / "pids"

    def draw(fig, b=0.0, w=1.0):
        with open(log, "a") as fh:
            fh.write(f"{os.getpid()} {b}\n")
        draw_line(fig, w=w, b=b)

    def export():
        return Panel(draw, b=(-2, 2, 0.25), w=(-1, 1, 0.25), mode="static", alt="a line").export()

    pooled = export()                                       # 17 x 9 = 153 frames
    assert len(pooled.index) == 153 >= widgets.POOL_MIN
    by_b = {}
    for row in log.read_text().splitlines():
        pid, b = row.split()
        by_b.setdefault(b, set()).add(int(pid))
    assert len(by_b) == 17 and all(len(pids) == 1 for pids in by_b.values())
    assert os.getpid() not in set.union(*by_b.values())   # rendered by the forked processes
    monkeypatch.setattr(widgets, "PROCESSES", 1)
    serial = export()
    assert serial.frames == pooled.frames and serial.index == pooled.index
    assert embedded(serial.html) == embedded(pooled.html)


@pytest.mark.skipif(widgets.PROCESSES < 2, reason="needs two CPUs and fork")
def test_forked_processes_do_not_share_the_kernels_fonts(monkeypatch):
    """Math text the kernel has already drawn (its parsed glyphs keep their font files open) is
    drawn again by both forked processes at once: each reads its own copy of the font, so the
    frames equal those of one process instead of failing with corrupted glyphs."""
    texts = [rf"$\sum_{{i={k}}}^{{n}} w_{{{k}i}} x_i + b_{k} \geq \theta_{k}$" for k in range(12)]

    def draw(fig, a=0, b=0):
        ax = fig.add_axes((0, 0, 1, 1))
        ax.set_axis_off()
        for k, t in enumerate(texts):
            ax.text(0.02 + 0.01 * a, k / 12 + 0.005 * b, t, fontsize=8 + k % 3)

    panel = Panel(draw, a=(0, 9, 1), b=(0, 9, 1), mode="static", alt="sums", figsize=(3, 3), dpi=50)
    panel.render()                                          # the kernel parses the math first
    pooled = panel.export()                                 # 100 frames: two forked processes
    monkeypatch.setattr(widgets, "PROCESSES", 1)
    assert panel.export().frames == pooled.frames


def test_static_html_accessibility_and_ids(typical):
    assert len(typical.index) == 289 and len(typical.html.encode()) < 20_000
    # the text alternative names what is shown and the frame's values (the page's script updates it)
    assert re.search(r'alt="A neuron with one input for w = [^,"]+, b = [^"]+"', typical.html)
    assert re.search(r'type="range" [^>]*aria-valuetext="[^"]+"', typical.html)
    h1 = line_panel(mode="static", static={"w": [0, 1], "b": [0]}, alt="a line").export().html
    h2 = line_panel(mode="static", static={"w": [0, 1], "b": [0]}).export().html
    ids = re.findall(r'\bid="([^"]+)"', h1 + h2)
    assert len(ids) == len(set(ids)) == 2 * (1 + 2 + 2 + 1 + 1)   # root, inputs, outputs, img, err
    assert re.search(r'<label for="(nnbook-panel-[^"]+-c0)"[^>]*>w</label><input type="range" '
                     r'id="\1"', h1) and re.search(r'<output id="[^"]+" for="[^"]+-c1"', h1)
    assert 'alt="a line for w = 1.0, b = 0.0"' in h1 and "<script src" not in h1 and "http" not in h1
    assert h1.count("<script>") == 1 and h1.count("</script>") == 1
    html = boundary_panel(mode="static").export().html
    assert re.search(r'<select id="[^"]+-c1"><option value="0">step</option>'
                     r'<option value="1" selected>sigmoid</option></select>', html)


def _write_page(root, name, *panels) -> str:
    page = root / "chapters" / name
    page.write_text("<!doctype html><html><head><meta charset='utf-8'><title>panels</title>"
                    f"</head><body>{'<hr>'.join(panels)}</body></html>", encoding="utf-8")
    return page.as_uri()


def _shown(img, root) -> bytes:
    """The bytes of the frame file the browser shows (its src, loaded: naturalWidth > 0)."""
    img.page.wait_for_function("i => i.complete && i.naturalWidth > 0", arg=img.element_handle())
    return frame_file(root, img.get_attribute("src"))


def test_two_static_panels_work_in_chromium_from_file_urls(typical, browser, frames_dir):
    """Two panels on a file:// page: two controls moved, the shown frame is Python's render."""
    small = boundary_panel(mode="static").export().html
    page = browser.new_page()
    try:
        errors = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.goto(_write_page(frames_dir, "two.html", typical.html, small))
        panels = page.locator(".nnbook-panel")
        assert panels.count() == 2
        line, boundary = panels.nth(0), panels.nth(1)
        img = line.locator("img")
        start = img.get_attribute("src")
        w, b = line.locator("input[type=range]").nth(0), line.locator("input[type=range]").nth(1)
        w.focus()
        w.press("Home")                           # w = -2.0
        b.focus()
        b.press("End")                            # b = 2.0, and w stays at -2.0
        assert [line.locator("output").nth(k).text_content() for k in (0, 1)] == ["-2.00", "2.00"]
        ref = line_panel(w=(-2, 2, 0.25), b=(-2, 2, 0.25))
        assert np.array_equal(pixels(_shown(img, frames_dir)), ref.render_rgba(w=-2.0, b=2.0))
        b.press("Home")
        w.focus()
        for _ in range(12):
            w.press("ArrowRight")                 # w = 1.0
        for _ in range(8):
            b.focus()
            b.press("ArrowRight")                 # back to b = 0.0: the first frame again
        assert img.get_attribute("src") == start
        assert img.evaluate("i => i.complete && i.naturalWidth === 480")
        bimg = boundary.locator("img")            # the second panel is untouched by the first
        before = bimg.get_attribute("src")
        boundary.locator("select").select_option("0")
        boundary.locator("input[type=range]").press("Home")
        assert bimg.get_attribute("src") != before
        assert np.array_equal(pixels(_shown(bimg, frames_dir)),
                              boundary_panel().render_rgba(w=-1.0, act="step"))
        assert not errors, errors
    finally:
        page.close()


def test_missing_frame_shows_a_message(browser, frames_dir):
    e = line_panel(mode="static", static={"w": [0, 2], "b": [0]}, alt="gone").export()
    d = embedded(e.html)
    missing = file_of(e.html, [2, 0])                        # w = 2.0
    (frames_dir / "chapters" / missing).resolve().unlink()
    page = browser.new_page()
    try:
        page.goto(_write_page(frames_dir, "missing.html", e.html))
        page.locator("input[type=range]").first.press("End")
        err = page.locator("[role=alert]")
        err.wait_for(state="visible", timeout=5000)
        assert err.text_content() == "frame not built: " + missing
        assert page.locator("img").is_hidden()
        page.locator("input[type=range]").first.press("Home")  # a built frame comes back
        page.locator("img").wait_for(state="visible", timeout=5000)
        assert err.is_hidden() and d["start"] == [1, 0]
    finally:
        page.close()
