"""`python -m bench` collects what each benchmark module prints into docs/benchmarks.md."""

from __future__ import annotations

from pathlib import Path

import pytest

import bench.__main__ as runner

EMF = '{"_aws":{"Timestamp":1,"CloudWatchMetrics":[]},"ColdStart":[1.0]}'


def fake_run(figures: dict[str, list[str]]) -> object:
    def run_module(name: str) -> runner.Run:
        return runner.Run(
            name, f"what {name} measures", figures[name], 1.5, 0, "2026-12-02 08:00 UTC", "abc", "1.0"
        )

    return run_module


def test_every_printed_line_is_a_figure_except_blank_lines_and_json_log_records() -> None:
    assert runner.is_figure("x: 1.0 µs | base: 2.0 µs | ratio 0.50x\n")
    assert runner.is_figure("flags: 30 features, results identical to the SDK")
    assert runner.is_figure("[1, 2] is not a log record")
    assert not runner.is_figure(EMF)
    assert not runner.is_figure('{"level": "INFO", "message": "cold start"}')
    assert not runner.is_figure("   \n")


def test_a_section_is_stamped_with_date_machine_and_commit_and_marks_a_failed_run() -> None:
    run = runner.Run(
        "bench_x", "What x measures.", ["a: ratio 1.00x"], 12.3, 0, "2026-12-02 08:00 UTC", "abc123", "2.5"
    )
    text = runner.render_section(run, where="CPU · 2 cores")
    assert text.startswith("<!-- bench:bench_x -->\n## bench_x\n")
    assert "2026-12-02 08:00 UTC · CPU · 2 cores · load 2.5 · commit `abc123` · 12 s\n" in text
    assert "```text\na: ratio 1.00x\n```" in text
    failed = runner.render_section(runner.Run("bench_x", "", [], 1.0, 3, "w", "r", "1.0"), where="m")
    assert "exited with 3" in failed
    assert "(no figures printed)" in failed


def test_running_a_subset_replaces_only_its_sections(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    output = tmp_path / "docs" / "benchmarks.md"
    monkeypatch.setattr(runner, "discover", lambda: ["bench_alpha", "bench_beta"])
    monkeypatch.setattr(
        runner, "run_module", fake_run({"bench_alpha": ["alpha 1"], "bench_beta": ["beta 1"]})
    )
    assert runner.main(["--output", str(output)]) == 0
    first = output.read_text()
    assert first.startswith(runner.HEADER)
    assert first.index("## bench_alpha") < first.index("## bench_beta")

    monkeypatch.setattr(runner, "run_module", fake_run({"bench_beta": ["beta 2"]}))
    assert runner.main(["beta", "--output", str(output)]) == 0
    second = output.read_text()
    assert "alpha 1" in second  # untouched
    assert "beta 2" in second
    assert "beta 1" not in second
    assert second.count("<!-- bench:") == 2
    assert "Python " in second
    assert " cores · " in second


def test_a_failing_module_fails_the_run_and_an_unknown_name_is_refused(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(runner, "discover", lambda: ["bench_alpha"])
    monkeypatch.setattr(
        runner, "run_module", lambda name: runner.Run(name, "", ["x"], 1.0, 1, "w", "r", "1.0")
    )
    assert runner.main(["--output", "-"]) == 1
    with pytest.raises(SystemExit):
        runner.main(["nothing-matches", "--output", str(tmp_path / "out.md")])
    assert not (tmp_path / "out.md").exists()


def test_every_benchmark_module_says_what_it_measures() -> None:
    names = runner.discover()
    assert "bench_gateway" in names
    for name in names:
        assert runner.summary_of(name), f"{name} needs a module docstring: its section's description"
