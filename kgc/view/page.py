"""Self-contained HTML pages: templates from kgc/view/templates, scripts and styles inlined from
kgc/view/assets (package data), so a page opens offline from a file and loads nothing."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup

from kgc.errors import ExportError
from kgc.rundir import atomic_write_text

_SOURCE_MAP = re.compile(r"^//# sourceMappingURL=.*$", re.MULTILINE)


def asset(name: str) -> str:
    """An asset's text. Source-map comments are dropped: a browser would try to fetch the map."""
    text = files("kgc.view").joinpath("assets", *name.split("/")).read_text(encoding="utf-8")
    return _SOURCE_MAP.sub("", text)


def inline_json(data: Any) -> Markup:
    """JSON safe inside <script type="application/json">: no '</script>' or '<!--' can end it early."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return Markup(text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026"))


def inline_script(text: str) -> Markup:
    """A trusted script (our own or a vendored npm build) for a <script> element."""
    return Markup(text.replace("</script", "<\\/script"))


def script_hash(script: str) -> str:
    """The CSP source allowing one inline script, its text exactly as between <script> and </script>:
    the page runs these and nothing else, even if a name ever slipped out of its escaping."""
    digest = hashlib.sha256(script.encode("utf-8")).digest()
    return f"'sha256-{base64.b64encode(digest).decode('ascii')}'"


@cache
def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("kgc.view", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render(template: str, **context: Any) -> str:
    return _environment().get_template(template).render(**context)


def write_page(path: Path, html: str) -> Path:
    try:
        atomic_write_text(path, html)
    except OSError as e:
        raise ExportError(f"cannot write {path}: {e.strerror or e}") from e
    return path
