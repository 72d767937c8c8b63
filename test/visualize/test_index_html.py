"""index.html shows every query's pictures (and every other PNG of the folder), the table,
and nothing that does not exist; query pictures from a trained engine end up in it."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote

import pytest
from PIL import Image

from lerf_ros.visualize import slug
from lerf_ros.visualize.index_html import KINDS, render_index, write_index


class Sources(HTMLParser):
    def __init__(self):
        super().__init__()
        self.images: list[str] = []
        self.links: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "img":
            self.images.append(unquote(attrs["src"]))
        if tag == "a":
            self.links.append(unquote(attrs["href"]))

    def handle_data(self, data):
        self.text.append(data)


def parse(page: str) -> Sources:
    parser = Sources()
    parser.feed(page)
    return parser


def png(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (4, 4)).save(path)
    return path


def test_slug_matches_the_demo_file_names():
    assert slug("red ball") == "red_ball"
    assert slug("mug;handle") == "mug_handle"
    assert slug("") == "query"


def test_index_references_every_png_and_only_existing_ones(tmp_path):
    for kind, _ in KINDS:
        png(tmp_path / f"red_ball_{kind}.png")
    png(tmp_path / "blue_box_heatmap.png")
    png(tmp_path / "blue_box_snapshot_top.png")
    png(tmp_path / "notes" / "extra.png")
    rows = [
        {"query": "red ball", "message": "1 peak(s) for 'red ball'"},
        {"query": "blue box", "message": "1 peak(s)"},
        "green can",
    ]
    table = "query  best peak\nred ball  (-0.35, +0.18, +0.84)"
    path = write_index(tmp_path, rows, table, notes=["ready after 90 s"])
    assert path == tmp_path / "index.html"
    page = path.read_text()
    sources = parse(page)
    on_disk = {p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*.png")}
    assert set(sources.images) == on_disk
    assert set(sources.links) == on_disk
    assert all((tmp_path / src).is_file() for src in sources.images)
    # Per query, in page order; the missing ones are simply not there.
    assert page.index("red_ball_heatmap.png") < page.index("red_ball_side_by_side.png")
    assert page.index("red_ball_snapshot_closeup.png") < page.index("blue_box_heatmap.png")
    assert "blue_box_side_by_side.png" not in page
    text = " ".join(sources.text)
    assert "red ball  (-0.35, +0.18, +0.84)" in text and "ready after 90 s" in text
    assert "green can" in text and "no pictures" in text
    assert "Other pictures" in text and "notes/extra.png" in text


def test_index_escapes_query_text(tmp_path):
    query = 'mug <b>"&"</b>'
    png(tmp_path / f"{slug(query)}_heatmap.png")
    page = render_index(tmp_path, [query], table="a < b & c")
    assert "<b>" not in page and "&lt;b&gt;" in page and "a &lt; b &amp; c" in page
    assert parse(page).images == [f"{slug(query)}_heatmap.png"]


@pytest.mark.slow
def test_query_pictures_of_a_trained_engine_and_their_index(
    trained_synthetic_engine, one_thread, tmp_path
):
    from lerf_ros.visualize.pictures import query_pictures

    engine, _, _ = trained_synthetic_engine
    answer, paths = query_pictures(engine, "green can", tmp_path, viewpoints=("top",))
    assert [p.name for p in paths] == ["green_can_snapshot_top.png", "green_can_side_by_side.png"]
    assert answer.peaks and answer.text == "green can"
    for path in paths:
        with Image.open(path) as image:
            assert image.size in {(900, 750), (1500, 460)}
    page = write_index(tmp_path, [{"query": "green can", "message": "ok"}]).read_text()
    assert sorted(parse(page).images) == sorted(p.name for p in paths)
    assert not re.search(r"Other pictures", page)
