"""The reconciliation service over real HTTP: the W3C Reconciliation API v0.2 shapes."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from kgc.link import open_index
from kgc.link.service import make_server

BUNDLED = Path(__file__).resolve().parents[1] / "data" / "vocabulary" / "nlp_concepts.csv"


@dataclass
class Reply:
    status_code: int
    text: str
    headers: dict[str, str]

    def json(self) -> dict[str, Any]:
        return json.loads(self.text)


def _request(url: str, params: dict[str, object] | None = None, data: dict[str, str] | None = None) -> Reply:
    """A real HTTP request with the standard library's client (GET, or POST of a form)."""
    if params:
        url += "?" + urllib.parse.urlencode(params)
    body = urllib.parse.urlencode(data).encode() if data is not None else None
    try:
        with urllib.request.urlopen(urllib.request.Request(url, data=body), timeout=30) as r:
            return Reply(r.status, r.read().decode(), {k.lower(): v for k, v in r.headers.items()})
    except urllib.error.HTTPError as e:
        return Reply(e.code, e.read().decode(), {k.lower(): v for k, v in e.headers.items()})


def get(url: str, params: dict[str, object] | None = None) -> Reply:
    return _request(url, params)


def post(url: str, data: dict[str, str]) -> Reply:
    return _request(url, data=data)


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    mp = pytest.MonkeyPatch()
    mp.setenv("KGC_HOME", str(tmp_path_factory.mktemp("home")))
    server = make_server(open_index(BUNDLED), port=0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    host, port = server.server_address[:2]
    assert isinstance(host, str)
    yield f"http://{host}:{port}"
    server.shutdown()
    server.server_close()
    mp.undo()


def test_binds_to_loopback_by_default() -> None:
    server = make_server(open_index(BUNDLED), port=0)
    try:
        assert server.server_address[0] == "127.0.0.1"
    finally:
        server.server_close()


def test_manifest(base: str) -> None:
    r = get(f"{base}/reconcile")
    assert r.status_code == 200 and r.headers["access-control-allow-origin"] == "*"
    m = r.json()
    assert m["versions"] == ["0.2"] and m["identifierSpace"] and m["schemaSpace"]
    assert "{{id}}" in m["preview"]["url"] and m["suggest"]["entity"]["service_path"] == "/suggest/entity"
    assert {"id": "task", "name": "task"} in m["defaultTypes"]
    jsonp = get(f"{base}/reconcile", params={"callback": "cb"})
    assert jsonp.text.startswith("cb({") and jsonp.text.endswith(");")
    assert get(f"{base}/reconcile", params={"callback": "alert(1)//"}).status_code == 400


def test_batch_of_queries_post_form(base: str) -> None:
    queries = {
        "q0": {"query": "NMT"},
        "q1": {"query": "banana bread"},
        "q2": {"query": "neural translation", "limit": 2},
        "q3": {"query": "machine translation", "type": "model"},
    }
    r = post(f"{base}/reconcile", data={"queries": json.dumps(queries)})
    assert r.status_code == 200
    out = r.json()
    assert set(out) == {"q0", "q1", "q2", "q3"}
    top = out["q0"]["result"][0]
    assert top["id"] == "nlp:neural-machine-translation" and top["match"] is True and top["score"] == 100.0
    assert top["name"] == "neural machine translation" and top["type"] == [{"id": "task", "name": "task"}]
    assert not any(x["match"] for x in out["q1"]["result"])
    assert len(out["q2"]["result"]) <= 2 and not any(x["match"] for x in out["q2"]["result"])
    assert all(
        x["type"] == [{"id": "model", "name": "model"}] for x in out["q3"]["result"]
    )  # filtered by type


def test_queries_by_get_and_bad_requests(base: str) -> None:
    r = get(f"{base}/reconcile", params={"queries": json.dumps({"a": {"query": "BERT"}})})
    assert r.json()["a"]["result"][0]["id"] == "nlp:bert"
    assert post(f"{base}/reconcile", data={"queries": "{not json"}).status_code == 400
    assert post(f"{base}/reconcile", data={"queries": json.dumps({"a": {"q": 1}})}).status_code == 400
    assert get(f"{base}/nothing").status_code == 404


def test_suggest_and_preview(base: str) -> None:
    got = get(f"{base}/suggest/entity", params={"prefix": "neural"}).json()["result"]
    assert [x["id"] for x in got] == ["nlp:neural-machine-translation", "nlp:neural-network"]
    assert (
        get(f"{base}/suggest/entity", params={"prefix": "neural", "cursor": 1}).json()["result"][0]["id"]
        == "nlp:neural-network"
    )
    page = get(f"{base}/preview", params={"id": "nlp:lstm"})
    assert (
        page.status_code == 200
        and "long short-term memory" in page.text
        and "recurrent neural network" in page.text
    )
    assert get(f"{base}/preview", params={"id": "nlp:none"}).status_code == 404
