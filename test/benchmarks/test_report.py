"""docs/benchmarks.md: a run of on-request groups only adds its own section and keeps the rest."""

from __future__ import annotations

from benchmarks.common import Row
from benchmarks.report import (
    ON_REQUEST_TITLE,
    RunRecord,
    record_path,
    write_markdown,
    write_on_request_section,
)

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


def test_a_later_run_of_one_group_takes_its_rows_out_of_a_joint_section(tmp_path):
    path = tmp_path / "benchmarks.md"
    both = [
        Row("memory_stream", "peak RSS", 1100.0, "MiB", "cpu"),
        Row("load", "latency p50", 1.5, "s", "cpu"),
    ]
    write_on_request_section(path, both, MACHINE, {"date": "d1"}, ["memory_stream", "load"])
    again = [Row("load", "latency p50", 2.5, "s", "cpu")]
    write_on_request_section(path, again, MACHINE, {"date": "d2"}, ["load"])

    text = path.read_text()
    assert ON_REQUEST_TITLE + "memory_stream, load\n" not in text
    assert text.count(ON_REQUEST_TITLE + "memory_stream\n") == 1
    assert text.count(ON_REQUEST_TITLE + "load\n") == 1
    assert "| 1,100 |" in text and "| d1 |" in text  # the memory rows and their machine table
    assert "| 1.5 |" not in text and "| 2.5 |" in text
    memory = text.split(ON_REQUEST_TITLE + "memory_stream\n")[1].split(ON_REQUEST_TITLE)[0]
    assert "| load |" not in memory and "removed" in memory


def test_a_regular_run_rewrites_the_file_but_keeps_on_request_sections(tmp_path):
    path = tmp_path / "benchmarks.md"
    load = [Row("load", "latency p50", 1.5, "s", "cpu")]
    write_on_request_section(path, load, MACHINE, {"date": "d1"}, ["load"])
    regular = [Row("query", "run_query p50", 55.0, "ms", "cpu")]
    write_markdown(path, RunRecord(regular, MACHINE, {"date": "d2"}), None, ["query", "load"])
    text = path.read_text()
    assert text.startswith("# Benchmarks")
    assert "| query | run_query p50 | 55 |" in text
    assert text.count(ON_REQUEST_TITLE + "load\n") == 1 and "| 1.5 |" in text
    # A run that includes the load group supersedes the old load section.
    again = [*regular, Row("load", "latency p50", 2.5, "s", "cpu")]
    write_markdown(path, RunRecord(again, MACHINE, {"date": "d3"}), None, ["query", "load"])
    text = path.read_text()
    assert ON_REQUEST_TITLE not in text and "| 2.5 |" in text and "| 1.5 |" not in text


def test_cpu_and_gpu_runs_stand_side_by_side_and_targets_use_their_own_platform(tmp_path):
    """A GPU run does not erase the CPU tables (nor the reverse); each target is judged on
    the rows of its own platform, and a missed one shows what bounds it."""
    doc = tmp_path / "benchmarks.md"
    cpu = RunRecord(
        [Row("query", "run_query p50, 100,000 points x 30 scales", 900.0, "ms", "cpu")],
        {"CPU": "test cpu"},
        {"date": "d-cpu"},
    )
    gpu = RunRecord(
        [
            Row("query", "run_query p50, 1,000,000 points x 30 scales", 205.0, "ms", "H200"),
            Row("memory", "peak GPU memory, 100 keyframes", 3356.0, "MB", "H200"),
        ],
        {"GPU": "NVIDIA H200"},
        {"date": "d-gpu"},
        cuda=True,
        profile="kernel table",
    )
    cpu.save(record_path(doc, False))
    gpu.save(record_path(doc, True))
    write_markdown(
        doc,
        RunRecord.load(record_path(doc, False)),
        RunRecord.load(record_path(doc, True)),
        ["query"],
    )
    text = doc.read_text()
    assert "## CPU run" in text and "## GPU run (NVIDIA H200)" in text
    assert "| d-cpu |" in text and "| d-gpu |" in text and "kernel table" in text
    lines = {
        line.split(" | ")[1]: line
        for line in text.splitlines()
        if line.startswith("| GPU |") or line.startswith("| CPU |")
    }
    assert "| 900 ms | met |" in lines["query ≤ 1 s for 100k points x 30 scales"]
    assert "| 205 ms | not met |" in lines["query p50 ≤ 50 ms for 1M points x 30 scales"]
    assert "re-encode the 1M points" in lines["query p50 ≤ 50 ms for 1M points x 30 scales"]
    assert "| 3,356 MB | met |" in lines["≤ 8 GB GPU memory"]
    assert "| pending |" in lines["lego PSNR ≥ 33 dB in ≤ 3 min"]


def test_a_run_of_some_groups_keeps_the_other_rows_of_its_device():
    from benchmarks.run import merged

    earlier = RunRecord([Row("query", "q", 1.0), Row("memory", "m", 2.0)], {}, {"date": "d1"})
    latest = RunRecord([Row("query", "q", 3.0)], {}, {"date": "d2"})
    rows = {(r.group, r.name): r.value for r in merged(earlier, latest).rows}
    assert rows == {("query", "q"): 3.0, ("memory", "m"): 2.0}
    assert "memory (1 rows, run of d1)" in latest.run["rows kept from an earlier run"]
