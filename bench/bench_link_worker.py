"""Link one job of bench_link_quality.py with whichever kgc is first on sys.path.

Reads {"vocab": path, "names": [...], "dense": bool} from stdin and writes {"links": [NameLink as JSON],
"seconds": s, "cpu_seconds": s} to stdout. The benchmark runs it once with this checkout and once with a
baseline commit unpacked by `git archive`, so both are measured in the same run on the same machine.
"""

from __future__ import annotations

import json
import sys
import time


def main() -> None:
    from kgc.config import LinkConfig
    from kgc.link import link_names, load_vocabulary

    job = json.load(sys.stdin)
    vocab = load_vocabulary(job["vocab"], cache=False)
    embed = None
    if job.get("dense"):
        from kgc.embeddings import load_embedder

        embed = load_embedder().encode
    wall, cpu = time.perf_counter(), time.process_time()
    result = link_names(job["names"], vocab, LinkConfig(dense=bool(job.get("dense"))), embed=embed)
    out = {
        "links": [x.model_dump(mode="json") for x in result.links],
        "seconds": round(time.perf_counter() - wall, 2),
        "cpu_seconds": round(time.process_time() - cpu, 2),
    }
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
