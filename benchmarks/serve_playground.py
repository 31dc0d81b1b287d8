"""Benchmark: the browser playground end to end, as a person sees it in the page.

Starts ``neuralab serve``'s app on a thread, drives the page in headless Chromium (the system's,
through Playwright), and measures on the default network (circle, 500 points, hidden 4,4,
batch 10: 25 updates and one history row per epoch):

- epochs per second, read off the page's epoch counter, and frames per second, counted as the
  page draws them (heat maps, links, chart, diagnostics);
- the same for A | B (two networks in lockstep), per network;
- pause latency: from the click on pause to the page knowing training stopped, over repeats;
- page load: from navigation to the first frame drawn, for the first tab after the server
  started (cold: nothing of the engine imported by a tab before) and for later tabs.

The baseline, measured in the same run, is the engine alone in this process (a
``PlaygroundSession`` stepped in a loop, one torch thread): the ratio says what the server, the
frames and the browser cost; A | B is also compared with one network (two networks need twice
the arithmetic, so 0.5x is the most it can reach). Targets on the 2-core machine: >= 30 epochs/s
and >= 20 frames/s for one network, A | B at no less than half of that (15 epochs/s per network,
10 frames/s), a pause within 100 ms.

    python benchmarks/serve_playground.py [--seconds 8] [--pauses 10]

Writes benchmarks/results/serve_playground.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from pathlib import Path
from typing import Any

import torch

from neuralab.atomic import write_text
from neuralab.playground.config import MAX_EPOCHS, PlaygroundConfig
from neuralab.playground.session import PlaygroundSession
from neuralab.web.server import CHROMIUM_ARGS, chromium_executable, serve_in_background

RESULT = Path(__file__).resolve().parent / "results" / "serve_playground.json"
DEFAULT = PlaygroundConfig(n=500, hidden=(4, 4), batch_size=10, epochs=MAX_EPOCHS)
LINK = f"n=500&hidden=4,4&epochs={MAX_EPOCHS}"  # the same config as a link (circle, batch 10)


def engine_epochs_per_second(seconds: float) -> float:
    """Return epochs/s of the engine alone on the default network (the baseline)."""
    torch.set_num_threads(1)
    session = PlaygroundSession(DEFAULT)
    session.run_epoch()
    start, epochs = time.perf_counter(), 0
    while time.perf_counter() - start < seconds:
        session.run_epoch()
        epochs += 1
    return epochs / (time.perf_counter() - start)


def counters(page: Any) -> dict[str, float]:
    return page.evaluate(
        """() => ({
            now: performance.now(),
            drawn: neuralab.stats.framesDrawn,
            epochs: neuralab.views.map((v) => Number(v.section.dataset.epoch || 0)),
        })"""
    )


def measure_running(page: Any, url: str, query: str, seconds: float) -> dict[str, Any]:
    """Open ``query``, press play, and return epochs/s per network and frames/s drawn."""
    page.goto(f"{url}?{query}")
    page.wait_for_function(
        "() => window.neuralab && neuralab.views.length && neuralab.views.every((v) => v.lastFrame)"
    )
    page.click("#play")
    page.wait_for_timeout(1500)  # warm-up: the first frames pay one-off costs
    first = counters(page)
    page.wait_for_timeout(seconds * 1000)
    last = counters(page)
    elapsed = (last["now"] - first["now"]) / 1000
    page.click("#play")
    page.wait_for_function("() => !document.body.classList.contains('playing')")
    return {
        "seconds": elapsed,
        "epochs_per_second": [
            (b - a) / elapsed for a, b in zip(first["epochs"], last["epochs"], strict=True)
        ],
        "frames_per_second": (last["drawn"] - first["drawn"]) / elapsed,
    }


def measure_load(page: Any, url: str, repeats: int = 5) -> dict[str, Any]:
    """Return ms from navigation to the first frame drawn (page, modules, socket, first network);
    the first of ``repeats`` is the cold one when this is the server's first tab."""
    times = []
    for _ in range(repeats):
        page.goto(f"{url}?{LINK}")
        page.wait_for_function("() => window.neuralab && neuralab.stats.firstFrameAt")
        times.append(page.evaluate("() => neuralab.stats.firstFrameAt"))
    return {
        "first_frame_ms": times,
        "cold_ms": times[0],
        "median_ms": statistics.median(times),
        "max_ms": max(times),
    }


def measure_pauses(page: Any, url: str, repeats: int) -> dict[str, Any]:
    """Return pause latencies (ms): click to the page's 'paused', and epochs trained after it."""
    page.goto(f"{url}?{LINK}")
    page.wait_for_function(
        "() => window.neuralab && neuralab.views.length && neuralab.views[0].lastFrame"
    )
    latencies, late_epochs = [], []
    for _ in range(repeats):
        page.click("#play")
        page.wait_for_timeout(700)
        latency = page.evaluate(
            """async () => {
                const start = performance.now();
                document.querySelector('#play').click();
                while (!neuralab.stats.playingChanges.some((c) => !c.playing && c.at >= start)) {
                    await new Promise((r) => setTimeout(r, 0));
                }
                return neuralab.stats.playingChanges.find((c) => !c.playing && c.at >= start).at - start;
            }"""
        )
        # the server answers a pause with 'paused' and the frame of where it stopped (frames
        # shown while playing may lag it by the ones coalesced); after that, nothing may train
        page.wait_for_timeout(150)
        at_pause = page.evaluate("() => neuralab.views[0].lastFrame.epoch")
        page.wait_for_timeout(400)
        after = page.evaluate("() => neuralab.views[0].lastFrame.epoch")
        latencies.append(latency)
        late_epochs.append(after - at_pause)
    return {
        "latency_ms": latencies,
        "median_ms": statistics.median(latencies),
        "max_ms": max(latencies),
        "epochs_trained_after_the_pause": late_epochs,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=8.0, help="measuring time per case")
    parser.add_argument("--pauses", type=int, default=10, help="pause clicks to time")
    args = parser.parse_args()
    chromium = chromium_executable()
    if chromium is None:
        raise SystemExit("no Chromium found (scripts/install-system-deps.sh installs it)")
    from playwright.sync_api import sync_playwright

    baseline = engine_epochs_per_second(args.seconds)
    with serve_in_background() as url, sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(chromium), args=list(CHROMIUM_ARGS)
        )
        page = browser.new_page(viewport={"width": 1440, "height": 1000})
        load = measure_load(page, url)  # first: its first tab is the server's first
        single = measure_running(page, url, LINK, args.seconds)
        compare = measure_running(page, url, LINK + "&ab=1", args.seconds)
        pauses = measure_pauses(page, url, args.pauses)
        browser.close()

    one = single["epochs_per_second"][0]
    pair = min(compare["epochs_per_second"])
    result = {
        "machine": {
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "torch": torch.__version__,
        },
        "network": "circle, n=500, hidden 4,4, batch 10 (25 updates and one history row per epoch)",
        "engine_alone_epochs_per_second": baseline,
        "page_single": single,
        "page_compare": compare,
        "pause": pauses,
        "load": load,
        "ratios": {
            "page_vs_engine": one / baseline,
            "compare_per_network_vs_single": pair / one,
            "compare_frames_vs_single": compare["frames_per_second"] / single["frames_per_second"],
        },
        "targets": {
            "epochs_per_second >= 30": one >= 30,
            "frames_per_second >= 20": single["frames_per_second"] >= 20,
            "A | B: each network >= 15 epochs/s (half the target)": pair >= 15,
            "A | B: frames_per_second >= 10 (half the target)": compare["frames_per_second"] >= 10,
            "pause <= 100 ms (max)": pauses["max_ms"] <= 100,
            "pause: no epoch trained after it": max(pauses["epochs_trained_after_the_pause"]) == 0,
            "page loads in under a second (every load, the first tab's too)": load["max_ms"] < 1000,
        },
    }
    RESULT.parent.mkdir(exist_ok=True)
    write_text(RESULT, json.dumps(result, indent=2) + "\n")
    print(f"engine alone (baseline)   {baseline:6.1f} epochs/s")
    print(
        f"page, one network         {one:6.1f} epochs/s  {single['frames_per_second']:5.1f} frames/s  ({one / baseline:.2f}x the engine alone)"
    )
    a, b = compare["epochs_per_second"]
    print(
        f"page, A | B               {a:6.1f} + {b:.1f} epochs/s  {compare['frames_per_second']:5.1f} frames/s  ({pair / one:.2f}x one network, per network)"
    )
    print(
        f"pause latency             median {pauses['median_ms']:.1f} ms, max {pauses['max_ms']:.1f} ms over {len(pauses['latency_ms'])} clicks; epochs trained after it: {max(pauses['epochs_trained_after_the_pause'])}"
    )
    print(
        f"page load to first frame  median {load['median_ms']:.0f} ms, max {load['max_ms']:.0f} ms (the server's first tab: {load['cold_ms']:.0f} ms)"
    )
    for target, met in result["targets"].items():
        print(f"  {'met' if met else 'MISSED'}: {target}")
    print(f"wrote {RESULT}")


if __name__ == "__main__":
    main()
