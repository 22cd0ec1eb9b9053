"""See a run: an interactive HTML view of the graph (`kgc view`) and an HTML run report (`kgc report`).

Both pages are single self-contained files: their scripts, styles and charts are inlined, so they
open offline and load nothing from the network.
"""

from kgc.view.graph_view import write_view
from kgc.view.report import write_report

__all__ = ["write_report", "write_view"]
