"""``index.html``: one page showing every query's pictures and the printed results table, so a
person can open one file and see what the robot understood.

Pictures are found by name in the output folder (``<slug>_<kind>.png``, see :data:`KINDS`);
any other PNG there is shown at the end, so the page references every picture in the folder.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import quote

from lerf_ros.visualize import slug

KINDS: tuple[tuple[str, str], ...] = (
    ("heatmap", "heat map from the node's ~/relevancy_image (latest keyframe's view)"),
    ("side_by_side", "RGB render | relevancy over it | depth, of the keyframe that sees it best"),
    ("snapshot_top", "3D answer, top-down"),
    ("snapshot_oblique", "3D answer, oblique"),
    ("snapshot_closeup", "3D answer, close-up of the best peak"),
)
"""File-name suffixes of a query's pictures, in page order, with their captions."""

STYLE = """
body { font-family: sans-serif; margin: 1.5em; background: #fafafa; color: #222; }
h1 { margin-bottom: 0.2em; }
.query { background: white; border: 1px solid #ddd; border-radius: 6px; padding: 0.8em 1em;
         margin: 1.2em 0; }
.query h2 { margin: 0.1em 0 0.3em 0; }
.pictures { display: flex; flex-wrap: wrap; gap: 12px; align-items: flex-start; }
figure { margin: 0; }
figure img { max-width: 100%; border: 1px solid #ccc; }
figure.wide img { width: 900px; }
figure.heat img { width: 320px; image-rendering: pixelated; }
figure.snap img { width: 450px; }
figcaption { font-size: 0.85em; color: #555; max-width: 450px; }
pre { background: white; border: 1px solid #ddd; padding: 0.8em; overflow-x: auto; }
.message { color: #555; }
"""

CLASSES = {"heatmap": "heat", "side_by_side": "wide"}


def query_pictures(out_dir: str | Path, text: str) -> list[tuple[Path, str, str]]:
    """(path, kind, caption) of the pictures of query ``text`` that exist in ``out_dir``."""
    out_dir = Path(out_dir)
    stem = slug(text)
    found = []
    for kind, caption in KINDS:
        path = out_dir / f"{stem}_{kind}.png"
        if path.is_file():
            found.append((path, kind, caption))
    return found


def _figure(path: Path, out_dir: Path, kind: str, caption: str) -> str:
    src = quote(path.relative_to(out_dir).as_posix())
    css = CLASSES.get(kind, "snap")
    return (
        f'<figure class="{css}"><a href="{src}"><img src="{src}" alt="{html.escape(caption)}">'
        f"</a><figcaption>{html.escape(caption)}</figcaption></figure>"
    )


def render_index(
    out_dir: str | Path,
    queries: Sequence[dict | str],
    table: str = "",
    title: str = "lerf_ros: what the robot understood",
    notes: Sequence[str] = (),
) -> str:
    """The page's HTML. ``queries`` are query texts or result rows (``{"query", "message",
    ...}`` as the demo's results.json); ``table`` is the printed results table."""
    out_dir = Path(out_dir)
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{html.escape(title)}</title><style>{STYLE}</style></head><body>",
        f"<h1>{html.escape(title)}</h1>",
    ]
    parts += [f'<p class="message">{html.escape(note)}</p>' for note in notes]
    if table:
        parts.append(f"<h2>Results</h2><pre>{html.escape(table.strip(chr(10)))}</pre>")
    shown: set[Path] = set()
    for entry in queries:
        row = {"query": entry} if isinstance(entry, str) else dict(entry)
        text = str(row["query"])
        parts.append(f'<div class="query"><h2>&ldquo;{html.escape(text)}&rdquo;</h2>')
        if row.get("message"):
            parts.append(f'<p class="message">{html.escape(str(row["message"]))}</p>')
        pictures = query_pictures(out_dir, text)
        if not pictures:
            parts.append('<p class="message">no pictures</p>')
        parts.append('<div class="pictures">')
        for path, kind, caption in pictures:
            parts.append(_figure(path, out_dir, kind, caption))
            shown.add(path.resolve())
        parts.append("</div></div>")
    others = [p for p in sorted(out_dir.rglob("*.png")) if p.resolve() not in shown]
    if others:
        parts.append('<div class="query"><h2>Other pictures</h2><div class="pictures">')
        parts += [_figure(p, out_dir, "other", p.relative_to(out_dir).as_posix()) for p in others]
        parts.append("</div></div>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def write_index(
    out_dir: str | Path,
    queries: Sequence[dict | str],
    table: str = "",
    title: str = "lerf_ros: what the robot understood",
    notes: Sequence[str] = (),
) -> Path:
    """Write ``out_dir/index.html`` (see :func:`render_index`)."""
    path = Path(out_dir) / "index.html"
    path.write_text(render_index(out_dir, queries, table, title, notes), encoding="utf-8")
    return path
