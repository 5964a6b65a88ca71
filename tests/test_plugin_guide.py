"""Every hook in coopkit/hookspecs.py has a section of its own in docs/plugins.md, which names each
of the hook's arguments."""

import inspect
import re
from pathlib import Path

import pytest

from coopkit import hookspecs

GUIDE = Path(__file__).parents[1] / "docs" / "plugins.md"


def hook_specifications() -> dict[str, list[str]]:
    """Hook name -> argument names, for every function marked ``@hookspec``."""
    return {
        name: list(inspect.signature(function).parameters)
        for name, function in inspect.getmembers(hookspecs, inspect.isfunction)
        if hasattr(function, "coopkit_spec")
    }


def sections(text: str) -> dict[str, str]:
    """Heading text -> the body up to the next heading of the same or a higher level; fenced
    code blocks are skipped when looking for headings."""
    lines, headings, fenced = text.splitlines(), [], False
    for index, line in enumerate(lines):
        if line.startswith("```"):
            fenced = not fenced
        elif not fenced and (match := re.match(r"(#{1,6}) (.*)", line)):
            headings.append((index, len(match.group(1)), match.group(2).strip()))
    found = {}
    for position, (index, level, title) in enumerate(headings):
        end = next((i for i, lv, _ in headings[position + 1 :] if lv <= level), len(lines))
        found[title] = "\n".join(lines[index + 1 : end])
    return found


HOOKS = hook_specifications()


def test_the_hook_specifications_are_found():
    assert {"coopkit_register_samplers", "coopkit_log_step", "coopkit_run_end"} <= set(HOOKS)
    assert HOOKS["coopkit_log_step"] == ["run", "iteration", "metrics"]


@pytest.mark.parametrize("hook", sorted(HOOKS))
def test_every_hook_has_a_section_in_the_plugin_guide(hook):
    guide = sections(GUIDE.read_text())
    titles = [title for title in guide if re.search(rf"`{hook}`", title)]
    assert titles, f"docs/plugins.md has no heading naming `{hook}`; add a section for it"
    body = guide[titles[0]]
    missing = [arg for arg in HOOKS[hook] if f"`{arg}`" not in body]
    assert not missing, f"docs/plugins.md, section `{hook}`: say what {missing} are"
    assert f"def {hook}(" in body, f"docs/plugins.md, section `{hook}`: give an example"


def test_sections_parser_ignores_headings_in_code_blocks():
    text = "# A\n\n```python\n# not a heading\n```\n\n## `b`\nbody b\n## c\nbody c\n"
    assert list(sections(text)) == ["A", "`b`", "c"]
    assert sections(text)["`b`"] == "body b"
