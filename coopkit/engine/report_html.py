"""report.html: the run's report as one self-contained page that opens offline.

What ran and how it ended (rollbacks and other events from metrics.jsonl), the training curves
(inline SVG, :mod:`coopkit.engine.charts`), the samples of every stage over time (pictures
embedded as ``data:`` URIs; movies and other files linked), timings, the environment and the
resolved recipe. Its Content-Security-Policy lets the page load nothing but what it carries, and a
small script checks, in the reader's browser, that every picture decodes and every curve is drawn
(the result is at the bottom of the page, ``<pre id="self-check">``).
"""

from __future__ import annotations

import base64
import math
import platform
import statistics
import sys
import tomllib
from datetime import datetime
from html import escape
from pathlib import Path
from typing import Any
from urllib.parse import quote

from coopkit.engine.charts import line_chart
from coopkit.engine.report_page import SCRIPT, STYLE
from coopkit.engine.rundir import STAGE_NAMES, RunDirectory

MAX_ROWS = 12  # sampled iterations shown, evenly spaced, first and last included
EMBED_LIMIT = 2 * 2**20  # bytes: a larger picture is linked instead of embedded
EMBED_BUDGET = 40 * 2**20  # bytes embedded in all; pictures past it are linked
MIME = {
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".svg": "image/svg+xml",
    ".bmp": "image/bmp",
    ".avif": "image/avif",
}
# the curves: (title, keys drawn together); other numeric keys get a chart each
CHARTS = [
    ("descriptor loss  f(revised) − f(observed)", ["descriptor_loss"]),
    ("descriptor output f (mean)", ["f_observed", "f_revised", "f_draft"]),
    ("energy ℰ of the revision: start, end", ["revision_energy_start", "energy_revised"]),
    ("generator loss", ["generator_loss"]),
]
TIMING_CHARTS = [
    ("seconds per iteration", ["seconds"]),
    ("seconds per step", ["seconds_G0", "seconds_D1", "seconds_G1", "seconds_D2", "seconds_G2"]),
]
CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'; script-src 'unsafe-inline'"


def render(
    directory: RunDirectory,
    recipe_text: str,
    description: str,
    seconds: float,
    samples_note: str = "",
    history: dict[int, dict[str, list[str]]] | None = None,
    observed: list[str] | None = None,
) -> str:
    """The page's text. ``history`` is iteration → stage → files, ``observed`` the files of the
    observed examples (paths relative to the run directory, as in samples/index.json)."""
    records = directory.read_metrics()
    metrics = [line for line in records if "event" not in line]
    events = [line for line in records if "event" in line]
    try:
        recipe = tomllib.loads(recipe_text)
    except tomllib.TOMLDecodeError:
        recipe = {}
    embedder = _Embedder(directory.path)
    body = [
        *_header(directory, recipe, description, seconds, metrics, events),
        *_events(events),
        "<h2 id='curves'>Curves</h2>",
        _charts(metrics, events, CHARTS, rest=True),
        *_samples(history or {}, observed or [], samples_note, embedder),
        *_timings(metrics, events, seconds),
        *_final_metrics(metrics),
        *_environment(recipe),
        "<h2 id='recipe'>Recipe (resolved)</h2>",
        f"<pre class='recipe'><code>{escape(recipe_text.rstrip())}</code></pre>",
        "<h2>Page self-check</h2>",
        "<p>Run by your browser when the page loads: every picture decodes, every curve is "
        "drawn.</p>",
        "<pre id='self-check'>not run (JavaScript is off)</pre>",
    ]
    title = f"coopkit report: {directory.path.name}"
    return "\n".join(
        [
            "<!DOCTYPE html>",
            "<html lang='en'><head><meta charset='utf-8'>",
            f'<meta http-equiv="Content-Security-Policy" content="{CSP}">',
            "<meta name='viewport' content='width=device-width, initial-scale=1'>",
            f"<title>{escape(title)}</title>",
            f"<style>{STYLE}</style></head><body>",
            *body,
            f"<script>{SCRIPT}</script>",
            "</body></html>",
            "",
        ]
    )


# ------------------------------------------------------------------------------ sections


def _header(
    directory: RunDirectory,
    recipe: dict[str, Any],
    description: str,
    seconds: float,
    metrics: list[dict[str, Any]],
    events: list[dict[str, Any]],
) -> list[str]:
    train = recipe.get("train", {})
    done = metrics[-1].get("iteration", 0) if metrics else 0
    planned = train.get("iterations")
    if planned is None:
        outcome = f"{done} iterations done"
    elif done >= planned:
        outcome = f"finished: {done} of {planned} iterations"
    else:
        outcome = (
            f"stopped at iteration {done} of {planned} (interrupted, diverged or stopped by an "
            "error; coopkit run --resume continues it)"
        )
    rollbacks = sum(1 for event in events if event.get("event") == "rollback")
    components = ", ".join(
        f"{section} {recipe[section]['name']}"
        for section in ("data", "descriptor", "generator", "sampler", "teacher")
        if isinstance(recipe.get(section), dict) and "name" in recipe[section]
    )
    rows = [
        ("run directory", str(directory.path)),
        ("algorithm", str(train.get("algorithm", "?"))),
        ("components", components or "?"),
        ("outcome", outcome),
        ("rollbacks after divergence", str(rollbacks)),
        ("wall time of the last fit()", f"{seconds:.1f} s"),
        ("report written", datetime.now().astimezone().isoformat(timespec="seconds")),
    ]
    status = "finished" if planned is not None and done >= planned else "stopped"
    return [
        f"<h1>coopkit run report: {escape(directory.path.name)}</h1>",
        f"<p class='description'>{escape(description or '(no description)')}</p>",
        f"<table class='facts {status}'>",
        *(f"<tr><th>{escape(key)}</th><td>{escape(value)}</td></tr>" for key, value in rows),
        "</table>",
        "<nav><a href='#curves'>curves</a> · <a href='#samples'>samples</a> · "
        "<a href='#timings'>timings</a> · <a href='#metrics'>final metrics</a> · "
        "<a href='#environment'>environment</a> · <a href='#recipe'>recipe</a></nav>",
    ]


def _events(events: list[dict[str, Any]]) -> list[str]:
    if not events:
        return []
    lines = [
        "<h2 id='events'>Events</h2>",
        "<table><tr><th>iteration</th><th>event</th><th>details</th></tr>",
    ]
    for event in events:
        if event.get("event") == "rollback":
            details = (
                f"diverged at {event.get('diverged_at')}: {event.get('reason')}; rolled back to "
                f"{event.get('restored')} with "
                + ", ".join(
                    f"{key} {value:.3g}"
                    for key, value in event.items()
                    if key.endswith(("_step_size", "_lr")) and isinstance(value, float)
                )
            )
        else:
            details = ", ".join(
                f"{key} {value}"
                for key, value in event.items()
                if key not in {"iteration", "event"}
            )
        lines.append(
            f"<tr><td>{event.get('iteration')}</td><td>{escape(str(event.get('event')))}</td>"
            f"<td>{escape(details)}</td></tr>"
        )
    return [*lines, "</table>"]


def _charts(
    metrics: list[dict[str, Any]],
    events: list[dict[str, Any]],
    groups: list[tuple[str, list[str]]],
    *,
    rest: bool,
) -> str:
    """One chart per group found in the metrics; with ``rest``, one per other numeric key too
    (timings left out: they have their own section)."""
    keys = _numeric_keys(metrics)
    markers = [
        (float(e["iteration"]), f"rollback: diverged at {e.get('diverged_at')}, back to here")
        for e in events
        if e.get("event") == "rollback" and isinstance(e.get("iteration"), int)
    ]
    charts = [(title, [key for key in group if key in keys]) for title, group in groups]
    if rest:
        taken = {key for _, group in CHARTS for key in group}
        charts += [
            (key, [key])
            for key in keys
            if key not in taken and key != "seconds" and not key.startswith("seconds_")
        ]
    figures = [
        line_chart(title, {key: _points(metrics, key) for key in group}, markers=markers)
        for title, group in charts
        if group
    ]
    if not figures:
        return "<p>No metrics were logged.</p>"
    return "<div class='charts'>" + "\n".join(figures) + "</div>"


def _samples(
    history: dict[int, dict[str, list[str]]],
    observed: list[str],
    note: str,
    embedder: _Embedder,
) -> list[str]:
    lines = ["<h2 id='samples'>Samples</h2>"]
    if not any(history.values()) and not observed:
        return [*lines, f"<p>No samples were written{': ' + escape(note) if note else '.'}</p>"]
    if observed:
        cells = "".join(embedder.show(path, "observed") for path in observed)
        lines.append(f"<div class='observed'><h3>observed examples</h3>{cells}</div>")
    iterations = sorted(history)
    shown = _spread(iterations, MAX_ROWS)
    if not shown:
        return lines
    stages = sorted(
        {stage for i in shown for stage in history[i]},
        key=lambda stage: (stage not in STAGE_NAMES, stage),
    )
    left_out = len(iterations) - len(shown)
    lines.append(
        f"<p>{len(iterations)} sampled iteration(s)"
        + (f"; {len(shown)} shown, evenly spaced, {left_out} omitted" if left_out else "")
        + ". One column per synthesis stage.</p>"
    )
    header = "".join(f"<th>{escape(_stage_title(stage))}</th>" for stage in stages)
    lines.append(f"<table class='samples'><tr><th>iteration</th>{header}</tr>")
    for iteration in shown:
        cells = "".join(
            "<td>"
            + "".join(embedder.show(path, f"{stage} at {iteration}") for path in files)
            + "</td>"
            for stage in stages
            for files in [history[iteration].get(stage, [])]
        )
        lines.append(f"<tr><th>{iteration}</th>{cells}</tr>")
    lines.append("</table>")
    if embedder.over_budget:
        lines.append(
            f"<p class='note'>{embedder.over_budget} picture(s) past the page's budget of "
            f"{EMBED_BUDGET // 2**20} MiB (or over {EMBED_LIMIT // 2**20} MiB each) are linked "
            "instead of embedded.</p>"
        )
    return lines


def _timings(
    metrics: list[dict[str, Any]], events: list[dict[str, Any]], seconds: float
) -> list[str]:
    lines = ["<h2 id='timings'>Timings</h2>"]
    per_iteration = [m["seconds"] for m in metrics if _finite(m.get("seconds"))]
    rows = [("wall time of the last fit()", f"{seconds:.1f} s")]
    if per_iteration:
        rows += [
            ("iterations logged", str(len(per_iteration))),
            ("seconds per iteration: mean", f"{statistics.fmean(per_iteration):.4g}"),
            ("seconds per iteration: median", f"{statistics.median(per_iteration):.4g}"),
            ("seconds per iteration: last", f"{per_iteration[-1]:.4g}"),
        ]
    mean_iteration = statistics.fmean(per_iteration) if per_iteration else 0.0
    for key in TIMING_CHARTS[1][1] + sorted(
        k
        for k in _numeric_keys(metrics)
        if k.startswith("seconds_") and k not in TIMING_CHARTS[1][1]
    ):
        values = [m[key] for m in metrics if _finite(m.get(key))]
        if values:
            mean = statistics.fmean(values)
            share = f" ({mean / mean_iteration:.0%} of an iteration)" if mean_iteration else ""
            rows.append((f"{key}: mean", f"{mean:.4g}{share}"))
    lines += [
        "<table class='facts'>",
        *(f"<tr><th>{escape(k)}</th><td>{escape(v)}</td></tr>" for k, v in rows),
        "</table>",
    ]
    if metrics:
        lines.append(_charts(metrics, events, TIMING_CHARTS, rest=False))
    return lines


def _final_metrics(metrics: list[dict[str, Any]]) -> list[str]:
    if not metrics:
        return []
    last = metrics[-1]
    rows = "".join(
        f"<tr><th>{escape(key)}</th><td>{value:.4g}</td></tr>"
        for key, value in last.items()
        if isinstance(value, float)
    )
    return [
        f"<h2 id='metrics'>Final metrics (iteration {last.get('iteration')})</h2>",
        f"<table class='facts'>{rows}</table>",
    ]


def _environment(recipe: dict[str, Any]) -> list[str]:
    rows = environment()
    device = recipe.get("train", {}).get("device")
    if device is not None:
        rows.insert(0, ("train.device in the recipe", str(device)))
    return [
        "<h2 id='environment'>Environment</h2>",
        "<p>Of the process that wrote this report.</p>",
        "<table class='facts'>",
        *(f"<tr><th>{escape(k)}</th><td>{escape(v)}</td></tr>" for k, v in rows),
        "</table>",
    ]


def environment() -> list[tuple[str, str]]:
    """coopkit, plugin, torch and Python versions, the platform and the accelerator."""
    from importlib.metadata import entry_points

    import torch

    from coopkit._version import __version__

    plugins = ", ".join(
        sorted(
            f"{ep.name} ({ep.dist.metadata['Name']} {ep.dist.version})"
            if ep.dist is not None
            else ep.name
            for ep in entry_points(group="coopkit")
        )
    )
    rows = [
        ("coopkit", __version__),
        ("installed plugins", plugins or "none"),
        ("torch", torch.__version__),
        ("torch threads", str(torch.get_num_threads())),
        ("python", sys.version.split()[0]),
        ("platform", platform.platform()),
    ]
    if torch.cuda.is_available():
        cuda = f"available (CUDA {torch.version.cuda}, {torch.cuda.device_count()} device(s))"
        if torch.cuda.is_initialized():
            cuda += f"; device 0: {torch.cuda.get_device_name(0)}"
        rows.append(("CUDA", cuda))
    else:
        rows.append(("CUDA", "not available"))
    return rows


# ------------------------------------------------------------------------------ helpers


class _Embedder:
    """Shows a sample file: a picture as an embedded ``<img>`` (within the size limits), anything
    else — and a picture over the limits — as a link relative to the run directory."""

    def __init__(self, root: Path):
        self.root, self.spent, self.over_budget = root, 0, 0

    def show(self, path: str, label: str) -> str:
        file = Path(path) if Path(path).is_absolute() else self.root / path
        name = escape(Path(path).name)
        if not file.is_file():
            return f"<span class='missing'>missing: {name}</span>"
        size = file.stat().st_size
        mime = MIME.get(file.suffix.lower())
        link = f"<a href='{escape(quote(path))}'>{name}</a> <small>({_size(size)})</small>"
        if mime is None:
            return f"<div class='file'>{link}</div>"
        if size > EMBED_LIMIT or self.spent + size > EMBED_BUDGET:
            self.over_budget += 1
            return f"<div class='file'>{link}</div>"
        self.spent += size
        data = base64.b64encode(file.read_bytes()).decode("ascii")
        return (
            f"<figure><img class='sample' src='data:{mime};base64,{data}' "
            f"alt='{escape(label)}' title='{name}'><figcaption>{name}</figcaption></figure>"
        )


def _stage_title(stage: str) -> str:
    return f"{stage} {STAGE_NAMES.get(stage, '')}".strip()


def _spread(items: list[int], count: int) -> list[int]:
    """At most ``count`` of ``items``, evenly spaced, the first and the last included."""
    if len(items) <= count:
        return items
    picks = {round(i * (len(items) - 1) / (count - 1)) for i in range(count)}
    return [items[i] for i in sorted(picks)]


def _numeric_keys(metrics: list[dict[str, Any]]) -> list[str]:
    keys: dict[str, None] = {}
    for line in metrics:
        for key, value in line.items():
            if (
                key != "iteration"
                and isinstance(value, int | float)
                and not isinstance(value, bool)
            ):
                keys[key] = None
    return list(keys)


def _points(metrics: list[dict[str, Any]], key: str) -> list[tuple[float, float]]:
    return [
        (float(line["iteration"]), float(line[key]))
        for line in metrics
        if isinstance(line.get(key), int | float) and isinstance(line.get("iteration"), int)
    ]


def _finite(value: Any) -> bool:
    return isinstance(value, int | float) and math.isfinite(value)


def _size(size: int) -> str:
    return f"{size / 2**20:.1f} MiB" if size >= 2**20 else f"{size / 1024:.0f} KiB"
