"""The view in a real browser: Debian's Chromium at /usr/bin/chromium driven by Playwright.

Screenshots and the 5,000/20,000 render time go to test-artifacts/ (KGC_TEST_ARTIFACTS overrides).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kgc.pipeline import build
from kgc.resources import demo_corpus
from kgc.testing.scripted_server import ScriptedServer
from kgc.view import write_view
from tests.support.browser import CHROMIUM, CHROMIUM_FLAGS, wait_for_view
from tests.support.synthetic_run import write_synthetic_run
from tests.test_pipeline import server_config

pytestmark = pytest.mark.slow

ARTIFACTS = Path(
    os.environ.get("KGC_TEST_ARTIFACTS", Path(__file__).resolve().parent.parent / "test-artifacts")
)
LOCAL_SCHEMES = ("file:", "blob:", "data:")  # the layout worker starts from a blob: URL


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed (.ci/setup installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        yield b
        b.close()


class Page:
    """A page of the view with what it logged and requested."""

    def __init__(self, browser: Any, html: Path):
        self.page = browser.new_page(viewport={"width": 1400, "height": 900})
        self.errors: list[str] = []
        self.requests: list[str] = []
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.page.goto(html.as_uri())
        wait_for_view(self.page)

    def js(self, expression: str, arg: Any = None) -> Any:
        return self.page.evaluate(expression, arg)

    def click_node(self, node: str) -> None:
        """A real mouse click at the node's place on the canvas."""
        x, y = self.js(
            """(id) => {
                const r = window.kgcView.renderer;
                const p = r.framedGraphToViewport(r.getNodeDisplayData(id));
                const box = r.getContainer().getBoundingClientRect();
                return [p.x + box.left, p.y + box.top];
            }""",
            node,
        )
        self.page.mouse.click(x, y)


@pytest.fixture(scope="module")
def demo_view(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo corpus with topic seeds against the scripted server, like `kgc demo` without the model."""
    run = tmp_path_factory.mktemp("demo") / "run"
    with ScriptedServer() as server:
        build(demo_corpus(), run, server_config(server, **{"fusion.max_neighbourhoods": 10}))
    return write_view(run, undirected={"Compare", "Conjunction"})


def test_demo_view_searches_shows_evidence_and_filters(browser: Any, demo_view: Path) -> None:
    view = Page(browser, demo_view)
    view.js("window.kgcView.layoutDone")
    data = json.loads(view.page.inner_text("#kgc-data"))
    assert view.js("window.kgcView.graph.order") == len(data["nodes"]) > 20
    assert view.js("window.kgcView.visibleEdgeCount()") == len(data["edges"])

    # Search by a word of the name: the entity is highlighted and the camera goes to it.
    target = max(data["nodes"], key=lambda n: (len(n["evidence"]) > 0, n["degree"]))
    view.page.fill("#search", target["name"][:-1].upper())
    first = view.page.locator("#search-results button").first
    assert first.get_attribute("data-id") == target["id"]
    first.click()
    assert view.js("window.kgcView.highlighted()") == target["id"]
    assert view.js("(id) => window.kgcView.renderer.getNodeDisplayData(id).highlighted", target["id"]) is True

    # Clicking it on the canvas opens its details: evidence sentences with their document ids.
    view.page.wait_for_timeout(400)  # the camera's move to the entity takes 300 ms
    view.click_node(target["id"])
    details = view.page.locator("#details")
    details.wait_for(state="visible")
    assert details.get_attribute("data-id") == target["id"]
    doc, chunk, text, _ = (data["strings"][k] for k in data["evidence"][target["evidence"][0]])
    evidence = details.locator(".evidence").first
    assert evidence.locator(".doc").inner_text().startswith(f"{doc} · {chunk}")
    assert text in evidence.inner_text()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    view.page.screenshot(path=ARTIFACTS / "view-demo.png")

    # Unticking the most frequent relation type hides exactly its edges.
    most = data["relation_types"][0]
    expected = sum(1 for e in data["edges"] if e["relation"] != most)
    view.page.locator(f'#relation-filters input[value="{most}"]').uncheck()
    assert view.js("window.kgcView.visibleEdgeCount()") == expected
    assert view.page.locator("#status").get_attribute("data-visible-edges") == str(expected)
    view.page.check("#hide-inferred")
    assert view.js("window.kgcView.visibleEdgeCount()") == sum(
        1 for e in data["edges"] if e["relation"] != most and not e["inferred"]
    )

    assert view.errors == []
    assert [u for u in view.requests if not u.startswith(LOCAL_SCHEMES)] == []


def test_clicking_an_edge_shows_its_sources_and_conflict(browser: Any, demo_view: Path) -> None:
    view = Page(browser, demo_view)
    view.js("window.kgcView.layoutDone")
    data = json.loads(view.page.inner_text("#kgc-data"))
    edge = next(e for e in data["edges"] if e["conflict"] and e["sources"])
    # Click a pixel of the edge's line, away from both ends: sigma picks edges on a half-resolution
    # buffer, so the pixel is one where the page itself finds the edge.
    x, y = view.js(
        """(key) => {
            const r = window.kgcView.renderer, g = window.kgcView.graph;
            const a = r.framedGraphToViewport(r.getNodeDisplayData(g.source(key)));
            const b = r.framedGraphToViewport(r.getNodeDisplayData(g.target(key)));
            const box = r.getContainer().getBoundingClientRect();
            for (const t of [0.5, 0.4, 0.6, 0.3, 0.7])
              for (let dx = -2; dx <= 2; dx++)
                for (let dy = -2; dy <= 2; dy++) {
                  const x = Math.round(a.x + t * (b.x - a.x)) + dx, y = Math.round(a.y + t * (b.y - a.y)) + dy;
                  if (r.getEdgeAtPoint(x, y) === key) return [x + box.left, y + box.top];
                }
            return null;
        }""",
        edge["id"],
    )
    view.page.mouse.click(x, y)
    details = view.page.locator("#details")
    details.wait_for(state="visible")
    assert details.get_attribute("data-kind") == "edge"
    assert details.get_attribute("data-id") == edge["id"]
    text = details.inner_text()
    assert ", ".join(edge["sources"]) in text
    assert f"Conflict: decided by {edge['conflict']['decided_by']}" in text

    # Dragging a node moves it where the mouse goes, and does not open its details.
    node = edge["head"]
    before = view.js("(id) => window.kgcView.graph.getNodeAttributes(id)", node)
    x, y = view.js(
        """(id) => { const r = window.kgcView.renderer;
            const p = r.framedGraphToViewport(r.getNodeDisplayData(id));
            const box = r.getContainer().getBoundingClientRect(); return [p.x + box.left, p.y + box.top]; }""",
        node,
    )
    view.page.mouse.move(x, y)
    view.page.mouse.down()
    view.page.mouse.move(x + 60, y + 40, steps=5)
    view.page.mouse.up()
    after = view.js("(id) => window.kgcView.graph.getNodeAttributes(id)", node)
    assert (after["x"], after["y"]) != (before["x"], before["y"])
    assert details.get_attribute("data-id") == edge["id"]
    assert view.errors == []


def test_a_script_that_slipped_into_the_page_does_not_run(
    browser: Any, demo_view: Path, tmp_path: Path
) -> None:
    """As if escaping ever failed: an inline script and an event handler added to the page are blocked by
    its policy, while the view's own scripts run."""
    html = demo_view.read_text(encoding="utf-8")
    injected = '<script>window.kgcInjected = "script";</script><img src="data:," onerror="window.kgcInjected = \'handler\'">'
    page = tmp_path / "injected.html"
    page.write_text(html.replace("</body>", injected + "</body>"), encoding="utf-8")
    view = Page(browser, page)
    assert view.js("window.kgcView.graph.order") > 20
    view.page.wait_for_timeout(300)
    assert view.js("window.kgcInjected === undefined") is True
    blocked = [e for e in view.errors if "Content Security Policy" in e]
    assert len(blocked) == 2 and blocked == view.errors


def test_a_5000_entity_20000_relation_graph_renders(browser: Any, tmp_path: Path) -> None:
    write_synthetic_run(tmp_path / "big", entities=5000, relations=20000)
    html = write_view(tmp_path / "big")
    view = Page(browser, html)
    first_render_ms = view.js("window.kgcView.firstRenderMs()")
    timings = view.js("window.kgcView.timings")
    assert view.js("window.kgcView.graph.order") == 5000
    assert view.js("window.kgcView.visibleEdgeCount()") == view.js("window.kgcView.graph.size") > 19_000
    view.page.fill("#search", "concept 42")
    view.page.keyboard.press("Enter")
    assert view.js("window.kgcView.highlighted()") == "concept-42"
    view.js("window.kgcView.stopLayout()")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    view.page.screenshot(path=ARTIFACTS / "view-5000.png")
    record = {
        "entities": 5000,
        "relations": view.js("window.kgcView.graph.size"),
        "first_render_ms": first_render_ms,
    }
    record["timings_ms"] = timings
    (ARTIFACTS / "view-5000-render.json").write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    print(f"5,000 entities / 20,000 relations: first render after {first_render_ms:.0f} ms")  # reported only
    assert view.errors == []
    assert [u for u in view.requests if not u.startswith(LOCAL_SCHEMES)] == []


def test_a_linked_run_shows_each_entitys_vocabulary_link(browser: Any, tmp_path: Path) -> None:
    vocabulary = Path(__file__).resolve().parents[1] / "data" / "vocabulary" / "nlp_concepts.csv"
    run = tmp_path / "run"
    with ScriptedServer() as server:
        build(
            demo_corpus(),
            run,
            server_config(server, **{"fusion.max_neighbourhoods": 5, "link.vocabulary": str(vocabulary)}),
        )
    view = Page(browser, write_view(run, undirected={"Compare", "Conjunction"}))
    data = json.loads(view.page.inner_text("#kgc-data"))
    linked = [n for n in data["nodes"] if n["vocab"] and n["vocab"]["id"]]
    assert linked and all(n["vocab"]["match"] in ("exactMatch", "broadMatch") for n in linked)
    target = linked[0]
    view.js("window.kgcView.layoutDone")
    view.page.fill("#search", target["name"])
    view.page.locator(f'#search-results button[data-id="{target["id"]}"]').first.click()
    view.page.wait_for_timeout(400)
    view.click_node(target["id"])
    details = view.page.locator("#details")
    details.wait_for(state="visible")
    assert details.get_attribute("data-id") == target["id"]
    text = details.locator(".vocab").inner_text()
    assert target["vocab"]["id"] in text and target["vocab"]["match"] in text
    assert view.errors == []
