"""mkdocs hooks (``hooks:`` in mkdocs.yml); not a page of the site.

- The generated references, docs/cli.md and docs/recipe-reference.md, stay checked in so that
  they read on GitHub as well; the build fails when either differs from what its generator
  writes now (the tests check the same).
- Links from a page to a file of the repository outside docs/ (``../CHANGELOG.md``) point at
  nothing in the built site. Each one's target must exist (a warning, so ``--strict`` fails,
  when it does not); it then becomes a link into ``repo_url`` when mkdocs.yml sets one, and
  otherwise plain text naming the file (``CHANGELOG.md``, or ``quality suite
  (`benchmarks/README.md` in the repository)``).
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

from mkdocs.exceptions import PluginError

log = logging.getLogger("mkdocs.hooks.coopkit")

GENERATED = {
    "cli.md": ("coopkit.cli_reference", "python -m coopkit.cli_reference > docs/cli.md"),
    "recipe-reference.md": (
        "coopkit.recipe_reference",
        "python -m coopkit.recipe_reference > docs/recipe-reference.md",
    ),
}

LINK = re.compile(r"(?<!!)\[(?P<text>[^\]]+)\]\((?P<target>[^)\s]+)\)")


def on_pre_build(config) -> None:
    import importlib

    docs = Path(config["docs_dir"])
    for page, (module_name, command) in GENERATED.items():
        try:
            module = importlib.import_module(module_name)
        except ImportError as error:
            raise PluginError(
                f"cannot check docs/{page}: {error}; install coopkit first (nox -s docs does)"
            ) from error
        if (docs / page).read_text(encoding="utf-8") != module.render():
            raise PluginError(f"docs/{page} is stale: regenerate it with `{command}`")


def _outside_link(match: re.Match, page_dir: Path, docs: Path, root: Path, repo_url: str) -> str:
    target = match.group("target")
    if re.match(r"[a-z][a-z0-9+.-]*:|#|/", target):  # a URL, an anchor or an absolute path
        return match.group(0)
    path, _, anchor = target.partition("#")
    resolved = (page_dir / path).resolve()
    if resolved.is_relative_to(docs):
        return match.group(0)  # mkdocs checks links between pages itself
    if not resolved.is_relative_to(root) or not resolved.exists():
        log.warning("link to %r leaves docs/ and finds no file of the repository there", target)
        return match.group(0)
    relative = resolved.relative_to(root).as_posix()
    if repo_url:
        fragment = f"#{anchor}" if anchor else ""
        return f"[{match.group('text')}]({repo_url.rstrip('/')}/blob/main/{relative}{fragment})"
    text = match.group("text")
    if text.strip("`") in (relative, Path(relative).name, Path(relative).stem):
        return f"`{relative}`"  # the link names the file already
    return f"{text} (`{relative}` in the repository)"


def on_page_markdown(markdown: str, page, config, files) -> str:
    docs = Path(config["docs_dir"]).resolve()
    root = Path(config["config_file_path"]).resolve().parent
    page_dir = Path(page.file.abs_src_path).resolve().parent
    repo_url = config.get("repo_url") or ""
    # odd-numbered pieces are fenced code blocks: left alone
    pieces = re.split(r"(^(?:```|~~~).*?^(?:```|~~~)[^\n]*$)", markdown, flags=re.M | re.S)
    for index in range(0, len(pieces), 2):
        pieces[index] = LINK.sub(
            lambda match: _outside_link(match, page_dir, docs, root, repo_url), pieces[index]
        )
    return "".join(pieces)
