"""A W3C Entity Reconciliation API (v0.2) service over one vocabulary, with kgc's linker behind it.

OpenRefine (or any client of the API) reconciles a column against the same vocabulary and decisions
as `kgc link`: GET /reconcile is the service manifest; GET or POST /reconcile with `queries` (a JSON
object of queries) answers a batch; /suggest/entity?prefix= completes names; /preview?id= shows a
concept. JSONP (`callback`) and CORS are supported, as OpenRefine's browser side needs them.

Python's standard ThreadingHTTPServer is enough for a local service (one user, a few requests a
second, bound to 127.0.0.1 by default) and costs no dependency; the linking work per batch is one
call into kgc.link.
"""

from __future__ import annotations

import bisect
import html
import json
import re
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from kgc.config import LinkConfig
from kgc.link.index import VocabIndex
from kgc.link.linker import link
from kgc.resolve import NameRecord

MAX_QUERIES = 1000  # a batch larger than this is refused (OpenRefine sends 10 by default)
_CALLBACK = re.compile(r"^[A-Za-z_$][\w$.]{0,100}$")


class ReconcileError(ValueError):
    """A request the service cannot answer; its message goes back with HTTP 400."""


class Reconciler:
    """The API's answers as plain dicts, apart from HTTP."""

    def __init__(self, index: VocabIndex, cfg: LinkConfig | None = None, name: str | None = None):
        self.index = index
        self.cfg = cfg or LinkConfig()
        self.name = name or f"kgc vocabulary {index.vocab.source or ''}".strip()
        concepts = index.vocab.concepts
        self.types = sorted({c.type for c in concepts if c.type})
        # (lower-case label or synonym, concept index), sorted: prefix search by bisection
        self.prefixes = sorted(
            (text.lower(), i)
            for i, c in enumerate(concepts)
            for text, strength in c.names()
            if strength != "broad"
        )

    def manifest(self, base: str) -> dict[str, Any]:
        space = f"{base}/concept/"
        out: dict[str, Any] = {
            "versions": ["0.2"],
            "name": self.name,
            "identifierSpace": space,
            "schemaSpace": f"{base}/type/",
            "view": {"url": f"{base}/preview?id={{{{id}}}}"},
            "preview": {"url": f"{base}/preview?id={{{{id}}}}", "width": 400, "height": 120},
            "suggest": {"entity": {"service_url": base, "service_path": "/suggest/entity"}},
            "batchSize": 50,
        }
        if self.types:
            out["defaultTypes"] = [{"id": t, "name": t} for t in self.types]
        return out

    def reconcile(self, queries: Any) -> dict[str, Any]:
        if not isinstance(queries, dict) or not queries:
            raise ReconcileError("'queries' must be a non-empty JSON object of queries")
        if len(queries) > MAX_QUERIES:
            raise ReconcileError(f"at most {MAX_QUERIES} queries in one batch")
        asked: dict[str, tuple[str, str | None, int]] = {}
        for key, q in queries.items():
            if not isinstance(q, dict) or not isinstance(q.get("query"), str):
                raise ReconcileError(f"query {key!r} needs a 'query' string")
            limit = q.get("limit", 5)
            if not isinstance(limit, int) or limit < 1:
                raise ReconcileError(f"query {key!r}: 'limit' must be a positive integer")
            qtype = q.get("type")
            asked[key] = (q["query"].strip(), qtype if isinstance(qtype, str) else None, min(limit, 50))
        names = [NameRecord(text) for text, _, _ in asked.values() if text]
        result = link(names, self.index, self.cfg)
        out: dict[str, Any] = {}
        for key, (text, qtype, limit) in asked.items():
            found = result.get(text) if text else None
            rows = []
            for c in found.candidates if found is not None else []:
                concept = self.index.vocab.by_id[c.id]
                if qtype and concept.type != qtype:
                    continue
                features = c.features
                score = 1.0 if {"key", "definition"} & set(features) else features.get("string", 0.0)
                rows.append(
                    {
                        "id": c.id,
                        "name": c.label,
                        "type": [{"id": concept.type, "name": concept.type}] if concept.type else [],
                        "score": round(100 * score, 1),
                        "match": bool(found and found.match == "exactMatch" and found.id == c.id),
                        "description": (concept.definition or "")[:200],
                    }
                )
            out[key] = {"result": rows[:limit]}
        return out

    def suggest(self, prefix: str, cursor: int = 0, limit: int = 10) -> dict[str, Any]:
        p = prefix.strip().lower()
        if not p:
            return {"result": []}
        start = bisect.bisect_left(self.prefixes, (p, -1))
        seen: dict[int, None] = {}
        for text, i in self.prefixes[start:]:
            if not text.startswith(p):
                break
            seen.setdefault(i)
        concepts = self.index.vocab.concepts
        picked = list(seen)[cursor : cursor + limit]
        return {
            "result": [
                {
                    "id": concepts[i].id,
                    "name": concepts[i].label,
                    "description": (concepts[i].definition or "")[:200],
                }
                for i in picked
            ]
        }

    def preview(self, cid: str) -> str | None:
        c = self.index.vocab.by_id.get(cid)
        if c is None:
            return None
        e = html.escape
        synonyms = ", ".join(e(s.text) for s in c.synonyms)
        parents = ", ".join(
            e(self.index.vocab.by_id[p].label if p in self.index.vocab.by_id else p) for p in c.parents
        )
        rows = [f"<b>{e(c.label)}</b> <small>{e(c.id)}</small>"]
        rows += [f"<div>{e(text)}</div>" for text in (c.definition,) if text]
        rows += [f"<div><i>also:</i> {synonyms}</div>"] if synonyms else []
        rows += [f"<div><i>broader:</i> {parents}</div>"] if parents else []
        return (
            '<html><head><meta charset="utf-8"></head>'
            f'<body style="margin:4px;font:13px sans-serif">{"".join(rows)}</body></html>'
        )


def handler_for(service: Reconciler) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "kgc-reconcile"

        def log_message(self, format: str, *args: Any) -> None:  # quiet: a request line per query
            pass

        def do_GET(self) -> None:
            self._answer(parse_qs(urlsplit(self.path).query))

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(min(length, 10_000_000)).decode("utf-8", "replace")
            params = parse_qs(urlsplit(self.path).query)
            if self.headers.get("Content-Type", "").startswith("application/json"):
                params["queries"] = [body]
            else:
                params.update(parse_qs(body))
            self._answer(params)

        def do_OPTIONS(self) -> None:
            self.send_response(204)
            self._cors()
            self.send_header("Access-Control-Allow-Methods", "GET, POST, OPTIONS")
            self.send_header("Access-Control-Allow-Headers", "Content-Type")
            self.end_headers()

        def _answer(self, params: dict[str, list[str]]) -> None:
            path = urlsplit(self.path).path.rstrip("/") or "/"
            one = {k: v[-1] for k, v in params.items()}
            base = f"http://{self.headers.get('Host') or address(self.server)}"
            try:
                if path == "/reconcile" and "queries" in one:
                    try:
                        queries = json.loads(one["queries"])
                    except json.JSONDecodeError as e:
                        raise ReconcileError(f"'queries' is not JSON: {e}") from None
                    self._json(service.reconcile(queries), one.get("callback"))
                elif path == "/reconcile":
                    self._json(service.manifest(base), one.get("callback"))
                elif path == "/suggest/entity":
                    cursor = int(one.get("cursor", "0") or 0)
                    self._json(service.suggest(one.get("prefix", ""), max(cursor, 0)), one.get("callback"))
                elif path == "/preview":
                    page = service.preview(one.get("id", ""))
                    if page is None:
                        self._send(404, "text/plain; charset=utf-8", b"no such concept")
                    else:
                        self._send(200, "text/html; charset=utf-8", page.encode())
                else:
                    self._send(404, "text/plain; charset=utf-8", b"see /reconcile for the service manifest")
            except (ReconcileError, ValueError) as e:
                self._send(400, "application/json", json.dumps({"error": str(e)}).encode())

        def _json(self, data: dict[str, Any], callback: str | None) -> None:
            text = json.dumps(data, ensure_ascii=False)
            if callback:
                if not _CALLBACK.match(callback):
                    raise ReconcileError("'callback' must be a JavaScript identifier")
                self._send(200, "application/javascript; charset=utf-8", f"{callback}({text});".encode())
            else:
                self._send(200, "application/json; charset=utf-8", text.encode())

        def _cors(self) -> None:
            self.send_header("Access-Control-Allow-Origin", "*")

        def _send(self, status: int, ctype: str, body: bytes) -> None:
            self.send_response(status)
            self._cors()
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    return Handler


def address(server: object) -> str:
    """'host:port' a server listens on."""
    host, port = getattr(server, "server_address", ("127.0.0.1", 0))[:2]
    return f"{host}:{port}"


def make_server(
    index: VocabIndex, cfg: LinkConfig | None = None, host: str = "127.0.0.1", port: int = 8000
) -> ThreadingHTTPServer:
    server = ThreadingHTTPServer((host, port), handler_for(Reconciler(index, cfg)))
    server.daemon_threads = True
    return server


def serve(
    index: VocabIndex,
    cfg: LinkConfig | None = None,
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    announce: Callable[[str], None] = print,
) -> None:
    """Serve until interrupted (Ctrl-C)."""
    server = make_server(index, cfg, host, port)
    announce(f"http://{address(server)}/reconcile (reconciliation service; Ctrl-C stops it)")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
