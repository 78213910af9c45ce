"""The README's commands are the truth: CI runs the README's test command."""

from __future__ import annotations


def _readme_commands(repo) -> list[str]:
    text = (repo / "README.md").read_text(encoding="utf-8")
    blocks = text.split("```bash\n")[1:3]
    return [block.split("\n```")[0].strip() for block in blocks]


def test_ci_runs_the_readme_test_command(repo):
    demo, tests = _readme_commands(repo)
    assert "gridtwin run scenarios/mv-rural-day.yaml" in demo
    assert "pytest" in tests
    # type check and lint before the tests, so that CI fails on either
    checks = [".venv/bin/python -m mypy", ".venv/bin/ruff check .", "ruff format --check ."]
    assert all(tests.index(c) < tests.index("-m pytest") for c in checks)
    assert tests in (repo / ".ci" / "run").read_text(encoding="utf-8")


def test_every_shipped_scenario_validates(repo):
    from gridtwin.scenario import load_scenario
    from gridtwin.world import prepare

    paths = sorted((repo / "scenarios").glob("*.yaml"))
    assert len(paths) >= 4
    for path in paths:
        prepared = prepare(load_scenario(path))
        assert prepared.profiles.n_steps > 0
