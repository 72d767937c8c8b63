"""docs/benchmarks.md: a run of on-request groups only adds its own section and keeps the rest."""

from __future__ import annotations

from benchmarks.common import Row
from benchmarks.report import ON_REQUEST_TITLE, write_on_request_section

MACHINE = {"cpu": "test cpu"}


def test_on_request_run_replaces_its_own_section_and_keeps_the_rest(tmp_path):
    path = tmp_path / "benchmarks.md"
    path.write_text("# Benchmarks\n\n## Results\n\n| a | b |\n\n## Method\n\n- timings\n")
    first = [Row("load", "latency p50", 1.5, "s", "cpu")]
    write_on_request_section(path, first, MACHINE, {"date": "d1"}, ["load"])
    second = [Row("memory_stream", "peak RSS", 1100.0, "MiB", "cpu")]
    write_on_request_section(path, second, MACHINE, {"date": "d2"}, ["memory_stream"])
    again = [Row("load", "latency p50", 2.5, "s", "cpu")]
    write_on_request_section(path, again, MACHINE, {"date": "d3"}, ["load"])

    text = path.read_text()
    assert text.startswith("# Benchmarks\n\n## Results\n\n| a | b |\n\n## Method\n\n- timings\n")
    assert text.count(ON_REQUEST_TITLE + "load\n") == 1  # replaced, not duplicated
    assert text.count(ON_REQUEST_TITLE + "memory_stream\n") == 1
    assert "| d3 |" in text and "| d1 |" not in text and "| d2 |" in text
    assert "| 2.5 |" in text and "| 1.5 |" not in text and "| 1,100 |" in text
