"""Benchmark: how large a graph the `kgc view` page draws smoothly, in headless Chromium.

For synthetic runs of growing size (tests.support.synthetic_run, scale-free, 4 relations per entity) it
measures the page's size, the time to the first painted frame, and the frame rate and render time
while the camera zooms (after the layout stopped). Chromium runs headless with --disable-gpu, so
WebGL is software-rendered (SwiftShader): a desktop browser with a GPU draws faster than this.

    .venv/bin/python bench/bench_view.py     # writes bench/results/view.json and view.md
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from playwright.sync_api import sync_playwright

from kgc.view import write_view

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests.support, beside kgc

from tests.support.browser import CHROMIUM, CHROMIUM_FLAGS, wait_for_view
from tests.support.synthetic_run import write_synthetic_run

RESULTS = Path(__file__).resolve().parent / "results"
SIZES = [(500, 2000), (1000, 4000), (2000, 8000), (5000, 20000), (10000, 40000), (20000, 80000)]
SMOOTH_FPS = 30  # "smooth": the camera moves at 30 frames a second or more
# Counts frames (requestAnimationFrame) and sigma's render time while the camera zooms in and out.
ZOOM_PROBE = """() => new Promise((done) => {
  const r = window.kgcView.renderer, camera = r.getCamera();
  const renders = []; let begun = 0;
  r.on("beforeRender", () => { begun = performance.now(); });
  r.on("afterRender", () => { renders.push(performance.now() - begun); });
  const frames = []; const start = performance.now();
  function tick(now) { frames.push(now); if (now - start < 3000) requestAnimationFrame(tick); else done({frames, renders}); }
  camera.animate({ ratio: 0.25 }, { duration: 1500 }, () => camera.animate({ ratio: 1 }, { duration: 1500 }));
  requestAnimationFrame(tick);
})"""


def measure(browser: Any, html: Path) -> dict[str, Any]:
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    started = time.perf_counter()
    page.goto(html.as_uri(), timeout=300_000)
    wait_for_view(page, timeout=600)
    first_render_ms = page.evaluate("window.kgcView.firstRenderMs()")
    timings = page.evaluate("window.kgcView.timings")
    page.evaluate("window.kgcView.layoutDone")
    layout_s = time.perf_counter() - started
    page.wait_for_timeout(500)
    probe = page.evaluate(ZOOM_PROBE)
    # The page's own work when a filter changes (reducers over every edge, then a render).
    filter_ms = page.evaluate(
        """() => { const t = performance.now();
            document.querySelector('#relation-filters input').click();
            window.kgcView.renderer.render(); return performance.now() - t; }"""
    )
    page.close()
    frames = probe["frames"]
    seconds = (frames[-1] - frames[0]) / 1000
    gaps = sorted(b - a for a, b in itertools.pairwise(frames))
    return {
        "html_mb": round(html.stat().st_size / 1e6, 2),
        "first_render_ms": round(first_render_ms),
        "script_ready_ms": round(timings["sigma"]),
        "layout_done_s": round(layout_s, 1),
        "zoom_fps": round((len(frames) - 1) / seconds, 1),
        "zoom_frame_ms_p90": round(gaps[int(len(gaps) * 0.9)], 1),
        "zoom_render_ms_median": round(statistics.median(probe["renders"]), 1) if probe["renders"] else None,
        "filter_ms": round(filter_ms, 1),
        "load_average": round(os.getloadavg()[0], 1),
        "errors": errors,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--max-entities", type=int, default=20000)
    args = ap.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        for entities, relations in SIZES:
            if entities > args.max_entities:
                continue
            run = write_synthetic_run(Path(tmp) / f"run{entities}", entities, relations)
            started = time.perf_counter()
            html = write_view(run.path)
            row = {
                "entities": entities,
                "relations": relations,
                "write_view_s": round(time.perf_counter() - started, 1),
                **measure(browser, html),
            }
            print(row, flush=True)
            rows.append(row)
        browser.close()
    smooth = [r for r in rows if r["zoom_fps"] >= SMOOTH_FPS and not r["errors"]]
    result = {
        "browser": "Debian chromium, headless, --disable-gpu (software WebGL)",
        "load_average_at_end": os.getloadavg()[0],
        "smooth_fps_threshold": SMOOTH_FPS,
        "largest_smooth": max(smooth, key=lambda r: r["entities"]) if smooth else None,
        "rows": rows,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "view.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    lines = [
        "# `kgc view` in headless Chromium (software WebGL), synthetic scale-free graphs",
        "",
        "| entities | relations | page MB | write s | first frame ms | layout done s | zoom fps | frame p90 ms "
        "| render ms | filter ms | load |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['entities']:,} | {r['relations']:,} | {r['html_mb']} | {r['write_view_s']} | "
            f"{r['first_render_ms']:,} | {r['layout_done_s']} | {r['zoom_fps']} | {r['zoom_frame_ms_p90']} | "
            f"{r['zoom_render_ms_median']} | {r['filter_ms']} | {r['load_average']} |"
        )
    lines += [
        "",
        "first frame: from navigation to the first painted frame (page parsing, graph, communities, first draw);",
        "zoom fps / frame p90: frames per second and 90th-percentile frame time while the camera zooms (edges",
        "hidden while it moves); render ms: sigma's own work per frame (median); filter ms: unticking a relation",
        "type, reducers and one render; load: the machine's 1-minute load average (2 cores, shared by other jobs).",
    ]
    (RESULTS / "view.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
