"""Link decisions as text: what `kgc explain RUN "name"` and `LinkResult.explain` print."""

from __future__ import annotations

from kgc.models import NameLink


def _features(f: dict[str, float]) -> str:
    shown = {k: v for k, v in f.items() if not k.startswith("strength_")}
    strengths = [k.removeprefix("strength_") for k in f if k.startswith("strength_")]
    text = ", ".join(f"{k} {v:g}" for k, v in shown.items())
    return text + (f"; matched as {'/'.join(strengths)}" if strengths else "")


def explain_link(link: NameLink, shown: int = 8) -> list[str]:
    if link.linked:
        head = f"{link.name!r} -> {link.match} {link.id} {link.label!r} (score {link.score:g}, by {link.band}: {link.reason})"
    else:
        head = f"{link.name!r} -> no link: {link.match} ({link.reason})"
    lines = [head + (f" [entity {link.entity}]" if link.entity else "")]
    if not link.candidates:
        lines.append("  no candidate")
    for n, c in enumerate(link.candidates[:shown], 1):
        mark = "*" if c.id == link.id else " "
        lines.append(
            f" {mark}{n}. {c.id} {c.label!r} via {c.matched!r} [{', '.join(c.bands)}] {_features(c.features)}"
        )
    if len(link.candidates) > shown:
        lines.append(f"   ... {len(link.candidates) - shown} more candidates in links.jsonl")
    return lines
