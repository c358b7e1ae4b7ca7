"""``vulnops report submit FILE``: a file is read within the bounds an upload of it would have."""

from __future__ import annotations

from pathlib import Path

from helpers import cli


def test_a_file_nested_too_deep_or_with_aliases_is_refused_naming_the_bound(
    tmp_path: Path,
) -> None:
    env = {"VULNOPS_DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none"}
    deep = tmp_path / "deep.sarif"
    deep.write_text('{"version": "2.1.0", "runs": ' + "[" * 50_000 + "]" * 50_000 + "}")
    refused = cli("report", "submit", str(deep), "--as", "e@example.com", env=env)
    assert refused.exit_code == 2, refused.output
    assert f"{deep}: nested deeper than 64 levels" in refused.stderr

    laughs = tmp_path / "report.yaml"
    laughs.write_text("title: &t Session fixation on the portal\ndescription: *t\n")
    refused = cli("report", "submit", str(laughs), "--as", "e@example.com", env=env)
    assert refused.exit_code == 2, refused.output
    assert "line 2: the alias *t is refused" in refused.stderr
