"""Screenshots of a run's view and report for the README, taken in Debian's headless Chromium.

    .venv/bin/python docs/make_screenshots.py RUN_DIR NAME [ENTITY]

writes docs/view-NAME-overview.png (the whole graph), docs/view-NAME.png (the view with ENTITY, or
the best-connected entity, selected) and docs/report-NAME.png (the whole report). Both pages are written into RUN_DIR first.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

from kgc.view import write_report, write_view

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests.support, beside kgc

from tests.support.browser import CHROMIUM, CHROMIUM_FLAGS, wait_for_view

DOCS = Path(__file__).resolve().parent


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("run_dir", type=Path)
    ap.add_argument("name")
    ap.add_argument("entity", nargs="?", help="entity id to select (default: the best-connected one)")
    args = ap.parse_args()
    view = write_view(args.run_dir, undirected={"Compare", "Conjunction"})
    report = write_report(args.run_dir)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        page = browser.new_page(viewport={"width": 1400, "height": 860})
        page.goto(view.as_uri())
        wait_for_view(page)
        page.evaluate("window.kgcView.layoutDone")
        page.wait_for_timeout(300)
        page.screenshot(path=DOCS / f"view-{args.name}-overview.png")
        data = json.loads(page.inner_text("#kgc-data"))
        entity = args.entity or max(data["nodes"], key=lambda n: n["degree"])["id"]
        name = next(n["name"] for n in data["nodes"] if n["id"] == entity)
        page.fill("#search", name)
        page.locator(f'#search-results button[data-id="{entity}"]').click()
        page.wait_for_timeout(500)
        x, y = page.evaluate(
            """(id) => { const r = window.kgcView.renderer;
                const p = r.framedGraphToViewport(r.getNodeDisplayData(id));
                const box = r.getContainer().getBoundingClientRect(); return [p.x + box.left, p.y + box.top]; }""",
            entity,
        )
        page.mouse.click(x, y)
        page.wait_for_timeout(300)
        page.screenshot(path=DOCS / f"view-{args.name}.png")
        page = browser.new_page(viewport={"width": 1150, "height": 900})
        page.goto(report.as_uri())
        page.screenshot(path=DOCS / f"report-{args.name}.png", full_page=True)
        browser.close()
    print(*(DOCS / f"{page}-{args.name}.png" for page in ("view", "report")))


if __name__ == "__main__":
    main()
