"""The view and the report's charts inline in Jupyter, without importing IPython: Jupyter shows any
object with a `_repr_html_` method as HTML."""

from __future__ import annotations

import html
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path

from kgc.view.graph_view import write_view


@dataclass(frozen=True)
class InlineHtml:
    """HTML that a notebook shows inline; `framed` pages get an iframe of their own (their scripts
    and styles stay out of the notebook's page)."""

    html: str
    framed: bool = False
    height: int = 640

    def _repr_html_(self) -> str:
        if not self.framed:
            return self.html
        return (
            f'<iframe srcdoc="{html.escape(self.html, quote=True)}" '
            f'style="width:100%;height:{self.height}px;border:1px solid #ddd"></iframe>'
        )


def show_view(run_dir: str | Path, undirected: Collection[str] = ()) -> InlineHtml:
    """Write RUN_DIR/graph.html and return it for a notebook to show inline."""
    path = write_view(run_dir, undirected=undirected)
    return InlineHtml(path.read_text(encoding="utf-8"), framed=True)
