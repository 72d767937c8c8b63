"""docs/benchmarks.md: a run of on-request groups only adds its own section and keeps the rest."""

from __future__ import annotations

import torch

from benchmarks.common import Options, Row
from benchmarks.report import ON_REQUEST_TITLE, write_markdown, write_on_request_section

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


def test_a_regular_run_rewrites_the_file_but_keeps_on_request_sections(tmp_path):
    path = tmp_path / "benchmarks.md"
    load = [Row("load", "latency p50", 1.5, "s", "cpu")]
    write_on_request_section(path, load, MACHINE, {"date": "d1"}, ["load"])
    regular = [Row("query", "run_query p50", 55.0, "ms", "cpu")]
    options = Options(torch.device("cpu"), quick=True, full=False)
    write_markdown(path, regular, options, MACHINE, {"date": "d2"}, ["query", "load"])
    text = path.read_text()
    assert text.startswith("# Benchmarks")
    assert "| query | run_query p50 | 55 |" in text
    assert text.count(ON_REQUEST_TITLE + "load\n") == 1 and "| 1.5 |" in text
    # A run that includes the load group supersedes the old load section.
    again = [*regular, Row("load", "latency p50", 2.5, "s", "cpu")]
    write_markdown(path, again, options, MACHINE, {"date": "d3"}, ["query", "load"])
    text = path.read_text()
    assert ON_REQUEST_TITLE not in text and "| 2.5 |" in text and "| 1.5 |" not in text
