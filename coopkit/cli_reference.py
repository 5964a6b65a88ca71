"""Renders docs/cli.md from the typer app itself: ``python -m coopkit.cli_reference > docs/cli.md``.

A test compares the file with this output, so the reference cannot drift from ``--help``.
"""

from __future__ import annotations

import re
import textwrap

import typer
import typer.main
from typer.core import TyperGroup

from coopkit.cli import EXIT_CODES, app


def _param_rows(command) -> list[str]:
    rows = []
    for param in command.params:
        if param.name in {"help", "install_completion", "show_completion"}:
            continue
        if param.param_type_name == "argument":
            name = f"`{(param.metavar or param.name).upper()}`"
            help_text = getattr(param, "help", "") or ""
        else:
            name = ", ".join(f"`{opt}`" for opt in param.opts + param.secondary_opts)
            help_text = param.help or ""
        default = param.default
        hidden = (
            default is None
            or default is False
            or default == ()
            or default == []
            or callable(default)
        )
        shown = "" if hidden else f"`{default}`"
        rows.append(f"| {name} | {help_text} | {shown} |")
    return rows


def render() -> str:
    group = typer.main.get_command(app)
    if not isinstance(group, TyperGroup):
        raise TypeError(f"coopkit's app should be a group of commands, not {group!r}")
    lines = [
        "# CLI reference",
        "",
        "Generated from the commands themselves (`python -m coopkit.cli_reference > docs/cli.md`);",
        "a test fails when this page and `coopkit --help` disagree.",
        "",
        "```",
        "coopkit [--version] [--disable-plugin NAME]... COMMAND [ARGS]...",
        "```",
        "",
        "| global option | meaning |",
        "|---|---|",
        *(row.rsplit(" |", 2)[0] + " |" for row in _param_rows(group)),
        "",
        textwrap.fill(EXIT_CODES, 99),
        "",
    ]
    context = typer.Context(group, info_name="coopkit")
    for name in group.list_commands(context):
        command = group.get_command(context, name)
        if command is None:  # listed but not found: cannot happen for typer's groups
            raise LookupError(f"coopkit lists a command {name!r} it does not have")
        sub_context = typer.Context(command, info_name=f"coopkit {name}", parent=context)
        usage = " ".join(command.collect_usage_pieces(sub_context))
        usage = re.sub(
            r"[{\[]([a-z_]+)[}\]]",
            lambda m: m.group(0).upper().replace("{", "").replace("}", ""),
            usage,
        )
        lines += [
            f"## coopkit {name}",
            "",
            (command.help or "").strip(),
            "",
            "```",
            f"coopkit {name} {usage}".rstrip(),
            "```",
            "",
        ]
        rows = _param_rows(command)
        if rows:
            lines += ["| argument / option | meaning | default |", "|---|---|---|", *rows, ""]
    return "\n".join(lines)


if __name__ == "__main__":
    print(render(), end="")
