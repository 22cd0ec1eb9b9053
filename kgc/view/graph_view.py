"""`kgc view`: one self-contained HTML page showing a run's graph with its provenance."""

from __future__ import annotations

from collections.abc import Collection
from pathlib import Path

from kgc.artifacts import VIEW
from kgc.view.graph_data import view_payload
from kgc.view.page import asset, inline_json, inline_script, render, script_hash, write_page
from kgc.view.run_data import RunData, load_run

# Vendored npm builds first (see assets/vendor/VERSIONS.md), then the page's own script.
SCRIPTS = (
    "vendor/graphology.umd.min.js",
    "vendor/graphology-library.min.js",
    "vendor/sigma.min.js",
    "dashed_edges.js",
    "view.js",
)


def view_html(run: RunData, undirected: Collection[str] = ()) -> str:
    scripts = [inline_script(asset(name)) for name in SCRIPTS]
    return render(
        "view.html.j2",
        title=run.path.name,
        css=asset("view.css"),
        data=inline_json(view_payload(run, undirected)),
        scripts=scripts,
        script_sources=" ".join(script_hash(script) for script in scripts),
    )


def write_view(run_dir: str | Path, out: str | Path | None = None, undirected: Collection[str] = ()) -> Path:
    """Write the view of `run_dir` to `out` (default RUN_DIR/graph.html) and return its path."""
    run = load_run(run_dir)
    path = Path(out) if out is not None else run.path / VIEW.name
    return write_page(path, view_html(run, undirected))
