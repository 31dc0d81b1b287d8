"""The page's layout in a real browser: A | B side by side on a wide screen, stacked on a narrow one.

Each network's view (settings, diagram with its unit heat maps and links, output heat map, loss
chart, diagnostics) must be whole and inside its half of the window; boxes are read with
getBoundingClientRect. Screenshots go to tests/artifacts/ (NEURALAB_DOC_FIGURES=1 also refreshes
docs/figures/serve-compare.png, the A | B figure of docs/serve.md).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

from browser_fixtures import screenshot

DOC_FIGURE = Path(__file__).resolve().parents[1] / "docs" / "figures" / "serve-compare.png"
# the course's initialization exercise as a link: A (init small) stalls, B learns
COMPARE = (
    "hidden=8,8,8&activation=relu&output=sigmoid&loss=bce&init=small&lr=0.1&iterations=250"
    "&ab=1&b.init=appropriate"
)
PARTS = {
    "section": "",
    "settings": ".settings",
    "diagram": ".diagram",
    "links": "svg.links",
    "heat": "canvas.heat",
    "chart": "svg.chart",
    "legend": ".legend-bar",
    "switches": ".switches",
    "table": "table.diagnostics",
}
# every box of both networks, and the window's sizes: [left, right, top, bottom] in CSS pixels
BOXES = """(parts) => {
  const box = (e) => { const r = e.getBoundingClientRect(); return [r.left, r.right, r.top, r.bottom]; };
  const net = (id) => {
    const section = document.querySelector(`.net[data-net=${id}]`);
    const out = {};
    for (const [name, selector] of Object.entries(parts)) {
      out[name] = box(selector ? section.querySelector(selector) : section);
    }
    out.nodes = [...section.querySelectorAll('.node, .bias, .node-label, .output-node-label')].map(box);
    out.layerControls = [...section.querySelectorAll('.layer-control')].map(box);
    out.network = box(section.querySelector('.network'));
    out.controls = [...section.querySelectorAll('.settings .control:not([hidden])')].map(box);
    return out;
  };
  return {
    a: net('a'), b: net('b'), width: innerWidth, height: innerHeight,
    scrollWidth: document.documentElement.scrollWidth,
  };
}"""


def boxes(page: Any) -> dict[str, Any]:
    return page.evaluate(BOXES, PARTS)


def inside(inner: list[float], outer: list[float], slack: float = 1.0) -> bool:
    """Whether box ``inner`` lies horizontally within ``outer`` (to ``slack`` px)."""
    return inner[0] >= outer[0] - slack and inner[1] <= outer[1] + slack


def check_whole(net: dict[str, Any], width: float) -> None:
    """Each part of one network's view is drawn, inside its section and inside the window."""
    section = net["section"]
    assert 0 <= section[0] and section[1] <= width, (section, width)
    for name in PARTS:
        left, right, top, bottom = net[name]
        assert right - left > 20 and bottom - top > 10, (name, net[name])  # drawn, not collapsed
        assert inside(net[name], section), (name, net[name], section)
    assert net["nodes"] and all(inside(box, net["network"]) for box in net["nodes"])
    assert all(inside(box, section) for box in net["controls"]), net["controls"]
    # the layers' +/- and activation menus stand apart
    controls = sorted(net["layerControls"])
    assert all(a[1] <= b[0] for a, b in zip(controls, controls[1:], strict=False)), controls
    # the map is square and at least 240 px (the points stay readable)
    left, right, top, bottom = net["heat"]
    assert right - left >= 240 and abs((right - left) - (bottom - top)) < 1


def side_by_side(found: dict[str, Any]) -> bool:
    a, b = found["a"]["heat"], found["b"]["heat"]
    return b[0] > a[1] and b[2] < a[3] and a[2] < b[3]  # B right of A, vertical ranges overlap


def test_a_and_b_stand_side_by_side_on_a_wide_screen_and_stack_on_a_narrow_one(page):
    page.set_viewport_size({"width": 1920, "height": 1080})
    page.goto(f"{page.server}?{COMPARE}")
    page.wait_for_function(
        "() => window.neuralab && neuralab.views.length === 2"
        " && neuralab.views.every((v) => v.lastFrame)"
    )
    page.click("#play")  # both stop after 250 updates
    page.wait_for_function(
        "() => [...document.querySelectorAll('.net')].every((n) => n.dataset.steps === '250')",
        timeout=60_000,
    )
    page.wait_for_function("() => !document.body.classList.contains('playing')")
    found = boxes(page)
    assert side_by_side(found), (found["a"]["heat"], found["b"]["heat"])
    assert found["a"]["section"][1] < found["b"]["section"][0]  # the two halves do not overlap
    assert found["scrollWidth"] <= found["width"]  # no horizontal scrolling
    for net in ("a", "b"):
        check_whole(found[net], found["width"])
        # on a 1920 x 1080 screen each network is whole without scrolling
        assert found[net]["table"][3] <= found["height"], found[net]["table"]
    # each network's own settings, side by side: the initializations the course contrasts
    assert page.input_value(".net[data-net=a] input[name=init]") == "small"
    assert page.input_value(".net[data-net=b] input[name=init]") == "appropriate"
    # the shared data settings once, above both networks
    data = page.evaluate("() => document.querySelector('.data').getBoundingClientRect().bottom")
    assert data <= found["a"]["section"][2] and data <= found["b"]["section"][2]
    path = screenshot(page, "compare-1920x1080")
    if os.environ.get("NEURALAB_DOC_FIGURES"):
        shutil.copy(path, DOC_FIGURE)

    # 1280 px: still side by side (each output below its diagram), the diagrams laid out anew
    page.set_viewport_size({"width": 1280, "height": 900})
    page.wait_for_function("() => neuralab.views.every((v) => v.diagram.builtWidth < 700)")
    found = boxes(page)
    assert side_by_side(found), (found["a"]["heat"], found["b"]["heat"])
    assert found["scrollWidth"] <= found["width"]
    for net in ("a", "b"):
        check_whole(found[net], found["width"])
    screenshot(page, "compare-1280x900", full_page=True)

    # under 1200 px: B below A, each as wide as the window allows
    page.set_viewport_size({"width": 1100, "height": 900})
    page.wait_for_function("() => neuralab.views.every((v) => v.diagram.builtWidth > 700)")
    found = boxes(page)
    assert found["b"]["section"][2] >= found["a"]["section"][3] - 1  # stacked
    assert found["scrollWidth"] <= found["width"]
    for net in ("a", "b"):
        check_whole(found[net], found["width"])
    screenshot(page, "compare-1100x900", full_page=True)


def test_one_network_keeps_its_layout(page):
    """Without A | B: the data column on the left, then settings, diagram and a 288 px map."""
    page.set_viewport_size({"width": 1920, "height": 1080})
    page.goto(f"{page.server}?{COMPARE}")
    page.wait_for_function("() => window.neuralab && neuralab.views.length === 2")
    page.uncheck("#compare")
    page.wait_for_function("() => !neuralab.state.compare && neuralab.views.length === 1")
    page.wait_for_function("() => neuralab.views[0].lastFrame")
    box = "(s) => { const r = document.querySelector(s).getBoundingClientRect(); return [r.left, r.right, r.top, r.bottom]; }"
    data = page.evaluate(box, ".data")
    settings = page.evaluate(box, ".net[data-net=a] .settings")
    network = page.evaluate(box, ".net[data-net=a] .network")
    heat = page.evaluate(box, ".net[data-net=a] canvas.heat")
    assert data[1] <= settings[0] + 1 and settings[1] <= network[0] + 1 and network[1] <= heat[0]
    assert heat[1] - heat[0] == 288 and heat[3] - heat[2] == 288
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 1920
    screenshot(page, "single-1920x1080")
