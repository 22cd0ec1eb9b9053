"""Resolve one job of bench_resolve_quality.py with whichever kgc is first on PYTHONPATH.

Reads {"records": [[name, count, [docs]]...], "texts": {doc: text} | null, "queries": [[name, doc]...]}
from stdin; writes {"entities": [...], "clusters": n, "seconds": s} to stdout, one entity id (or
null) per query. The benchmark runs it once with this checkout and once with a baseline commit
unpacked by `git archive`, so both are measured in the same run on the same machine.
"""

from __future__ import annotations

import json
import sys
import time


def main() -> None:
    from kgc.resolve import NameRecord, resolve_names

    job = json.load(sys.stdin)
    records = [NameRecord(name, count, tuple(docs)) for name, count, docs in job["records"]]
    start = time.perf_counter()
    r = resolve_names(records, texts=job["texts"])
    seconds = time.perf_counter() - start
    entities = [r.lookup(name, doc) for name, doc in job["queries"]]
    if hasattr(r, "cluster_of_surface"):  # before NameIndex, lookup took exact surface forms only
        from kgc.resolve.keys import name_key

        by_key = {name_key(s): e for s, e in r.cluster_of_surface.items()}
        queries = job["queries"]
        entities = [e or by_key.get(name_key(q[0])) for e, q in zip(entities, queries, strict=True)]
    json.dump({"entities": entities, "clusters": len(r.clusters), "seconds": round(seconds, 1)}, sys.stdout)


if __name__ == "__main__":
    main()
