"""The quick-start notebook's code runs as written (against the scripted server instead of the model)."""

import json
from pathlib import Path

import pytest

from kgc.testing.scripted_server import ScriptedServer


@pytest.mark.slow
def test_quickstart_notebook_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    nb = json.loads(
        (Path(__file__).resolve().parents[1] / "notebooks" / "quickstart.ipynb").read_text(encoding="utf-8")
    )
    cells = ["".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code"]
    assert len(cells) == 7
    monkeypatch.chdir(tmp_path)
    with ScriptedServer() as server:
        monkeypatch.setenv("KGC_LLM__BACKEND", "openai")
        monkeypatch.setenv("KGC_LLM__BASE_URL", server.base_url)
        namespace: dict[str, object] = {}
        for code in cells:
            exec(compile(code, "quickstart.ipynb", "exec"), namespace)
    graph = namespace["graph"]
    assert (tmp_path / "runs" / "notebook" / "graph.graphml").is_file()
    assert len(graph.relations) > 0  # type: ignore[attr-defined]
    assert namespace["g"].number_of_edges() == len(graph.relations)  # type: ignore[attr-defined]
    assert (tmp_path / "runs" / "notebook" / "graph.html").is_file()
    assert namespace["view"]._repr_html_().startswith("<iframe srcdoc=")  # type: ignore[attr-defined]
    assert namespace["degrees"]._repr_html_().startswith("<svg")  # type: ignore[attr-defined]
