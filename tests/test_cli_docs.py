"""docs/cli.md is generated from the typer app; this fails when the two drift apart."""

from pathlib import Path

from coopkit.cli_reference import render

DOC = Path(__file__).parents[1] / "docs" / "cli.md"


def test_cli_reference_is_up_to_date():
    assert DOC.read_text() == render(), (
        "docs/cli.md is stale: regenerate it with `python -m coopkit.cli_reference > docs/cli.md`"
    )
