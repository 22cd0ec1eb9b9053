"""Name sets for the resolution benchmarks, built from the names in Graphusion's step-2 candidates.

Each base name yields systematic variants that a resolver should merge (case, plural, hyphenation,
a typo, an acronym defined as 'long form (LF)') and the set grows past the 18,846 real names by
composing two real names ('X for Y', 'X-based Y'), so larger sets keep the real vocabulary's shape.
The variant's base is kept, so recall on the variants can be measured too.
"""

from __future__ import annotations

import ast
import os
import random
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def data_dir() -> Path:
    for p in (
        os.environ.get("KGC_GRAPHUSION_DATA"),
        ROOT.parent / "shared" / "data" / "graphusion",
        Path("/work/shared/data/graphusion"),
    ):
        if p and Path(p, "candidates").is_dir():
            return Path(p)
    raise SystemExit("Graphusion data not found: set KGC_GRAPHUSION_DATA to its folder")


def step2_triplets(model: str | None = None) -> list[tuple[str, str, str]]:
    """The step-2 candidate triplets of one model (or all four)."""
    out = []
    for f in sorted((data_dir() / "candidates").glob("*.step2.txt")):
        if model is not None and not f.name.startswith(model):
            continue
        for line in f.read_text(encoding="utf-8").splitlines():
            try:
                h, r, t = ast.literal_eval(line.strip())
            except (ValueError, SyntaxError):
                continue
            out.append((str(h), str(r), str(t)))
    return out


def real_names() -> list[str]:
    return sorted({" ".join(n.split()) for h, _, t in step2_triplets() for n in (h, t) if n.strip()})


def _typo(name: str, rng: random.Random) -> str:
    i = rng.randrange(1, max(2, len(name) - 1))
    return name[:i] + name[i + 1 :] if name[i].isalpha() else name


def variants(name: str, rng: random.Random) -> list[str]:
    words = name.split()
    out = [name.upper() if len(name) < 12 else name.title(), name + "s", name.replace(" ", "-")]
    if len(name) >= 8:
        out.append(_typo(name, rng))
    if 2 <= len(words) <= 4:
        short = "".join(w[0] for w in words).upper()
        out += [f"{name} ({short})", short]
    return [v for v in out if v != name]


def name_set(size: int, seed: int = 7) -> list[tuple[str, str]]:
    """`size` (name, base) pairs: real names and their variants, then composed names and theirs."""
    rng = random.Random(seed)
    bases = real_names()
    rng.shuffle(bases)
    out: list[tuple[str, str]] = []
    while len(out) < size:
        if bases:
            base = bases.pop()
        else:
            a, b = rng.sample(real_names_cache(), 2)
            base = f"{a} for {b}" if rng.random() < 0.5 else f"{a}-based {b}"
        out.append((base, base))
        out.extend((v, base) for v in variants(base, rng))
    return out[:size]


_CACHE: list[str] = []


def real_names_cache() -> list[str]:
    if not _CACHE:
        _CACHE.extend(real_names())
    return _CACHE
