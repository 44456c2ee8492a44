"""The ``sim eval`` report: one static HTML page (``OUT/report.html``) from the run's summary and failure plots.

Per policy: PDMS and its terms (NC, DAC, TTC, EP, C), route completion, stop-line compliance, instruction success
overall and per maneuver, how the episodes ended; the bird's-eye plots of failed episodes, linked by relative path
(``plots/<policy>/episode-NNNN.png``); and what ran (world, split, towns, episodes, seed, time limit, workers, wall
time). All text is escaped; nothing is loaded from the network, so the folder can be copied and opened offline.
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ct1_sim.atomic_files import write_text_atomic

#: (summary key, header, tooltip) of the per-policy score columns.
SCORES = (("pdms", "PDMS", "PDM score: NC × DAC × (5 TTC + 2 C + 5 EP) / 12, mean over episodes"),
          ("nc", "NC", "no at-fault collision"), ("dac", "DAC", "drivable area compliance"),
          ("ttc", "TTC", "time to collision kept above its threshold"), ("ep", "EP", "ego progress"),
          ("comfort", "C", "comfort (acceleration and jerk limits)"),
          ("route_completion", "route completion", "share of the route driven"),
          ("stop_line_compliance", "stop-line compliance", "share of stop lines stopped at (episodes that met one)"),
          ("instruction_success_all", "instruction success", "maneuvers done as instructed / maneuvers decided"))

CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:24px;color:#222;max-width:1400px}
h1{font-size:1.5em} h2{font-size:1.2em;margin-top:2em;border-bottom:1px solid #ddd} h3{font-size:1.05em}
table{border-collapse:collapse;font-size:13px;margin:8px 0} th,td{border:1px solid #ddd;padding:3px 6px;text-align:right}
th{background:#f4f4f4} td.l,th.l{text-align:left} .note{color:#555;font-size:13px}
.plots{display:flex;gap:12px;flex-wrap:wrap} .plots figure{margin:0;max-width:420px} .plots img{width:420px}
figcaption{font-size:12px;color:#555}
"""


@dataclass(frozen=True)
class FailurePlot:
    """A failed episode's bird's-eye plot: its path relative to the report, the episode and its summary."""

    src: str
    episode: int
    summary: dict[str, Any]


def _num(value: Any, digits: int = 3) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return f"{value:.{digits}f}" if isinstance(value, float) else html.escape(str(value))


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _ran(summary: dict[str, Any], run: dict[str, Any]) -> str:
    seconds = summary.get("seconds")
    items = [("world", summary.get("world")), ("split", summary.get("split")), ("towns", summary.get("towns")),
             ("episodes per policy", summary.get("episodes")),
             ("seeds", f"{summary.get('seed')} … {summary.get('seed', 0) + summary.get('episodes', 1) - 1} (episode i: seed + i)"),
             ("time limit", "the route's (1.5 × a free-flow drive + 20 s)" if seconds is None else f"{seconds:g} s"),
             *[(k, v) for k, v in run.items()]]
    return "<table>" + "".join(f"<tr><th class=l>{_e(k)}</th><td class=l>{_e(v)}</td></tr>" for k, v in items) + "</table>"


def _scores(policies: dict[str, dict[str, Any]]) -> str:
    head = "".join(f'<th title="{_e(tip)}">{_e(h)}</th>' for _, h, tip in SCORES)
    rows = [f"<table id=scores><tr><th class=l>policy</th><th>episodes</th>{head}<th>camera</th><th>steps/s</th></tr>"]
    for name, s in policies.items():
        cells = "".join(f'<td data-key="{_e(k)}">{_num(s.get(k))}</td>' for k, _, _ in SCORES)
        rows.append(f'<tr data-policy="{_e(name)}"><td class=l>{_e(name)}</td><td>{_num(s.get("episodes"))}</td>{cells}'
                    f"<td>{_num(s.get('camera'))}</td><td>{_num(s.get('steps_per_s'), 1)}</td></tr>")
    rows.append("</table>")
    return "".join(rows)


def _maneuvers(policies: dict[str, dict[str, Any]]) -> str:
    kinds = sorted({k for s in policies.values() for k in s.get("instruction_success", {})})
    if not kinds:
        return '<p class="note">No maneuver was reached in any episode.</p>'
    head = "".join(f'<th colspan=2 class=l>{_e(k.replace("_", " "))}</th>' for k in kinds)
    sub = "".join("<th>success</th><th>not decided</th>" for _ in kinds)
    rows = [f"<table id=maneuvers><tr><th class=l rowspan=2>policy</th>{head}</tr><tr>{sub}</tr>"]
    for name, s in policies.items():
        cells = []
        for k in kinds:
            v = s.get("instruction_success", {}).get(k)
            if v is None:
                cells.append("<td>–</td><td>–</td>")
                continue
            rate = _num(v.get("rate"))
            cells.append(f'<td title="success / attempted">{rate} ({_num(v.get("success"))}/{_num(v.get("attempted"))})</td>'
                         f'<td title="unfinished when the episode ended / never reached">'
                         f'{_num(v.get("unfinished"))} / {_num(v.get("not_reached"))}</td>')
        rows.append(f"<tr><td class=l>{_e(name)}</td>{''.join(cells)}</tr>")
    rows.append("</table>")
    return "".join(rows)


def _terminations(policies: dict[str, dict[str, Any]]) -> str:
    kinds = sorted({k for s in policies.values() for k in s.get("terminations", {})})
    head = "".join(f"<th>{_e(k.replace('_', ' '))}</th>" for k in kinds)
    rows = [f"<table id=terminations><tr><th class=l>policy</th>{head}<th>simulated (s)</th></tr>"]
    for name, s in policies.items():
        cells = "".join(f"<td>{_num(s.get('terminations', {}).get(k, 0))}</td>" for k in kinds)
        rows.append(f"<tr><td class=l>{_e(name)}</td>{cells}<td>{_num(s.get('sim_seconds'), 1)}</td></tr>")
    rows.append("</table>")
    return "".join(rows)


def _failures(name: str, plots: list[FailurePlot], failed: int | None) -> str:
    out = [f"<h3>{_e(name)}</h3>"]
    count = "" if failed is None else f"{failed} failed episode{'s' if failed != 1 else ''}; "
    if not plots:
        out.append(f'<p class="note">{_e(count)}no plot.</p>')
        return "".join(out)
    out.append(f'<p class="note">{_e(count)}the first {len(plots)} plotted.</p><div class="plots">')
    for p in plots:
        s = p.summary
        done = [m for m in s.get("maneuvers", []) if m.get("success") is not None]
        caption = (f"episode {p.episode} (seed {s.get('seed')}, town seed {s.get('town_seed')}): {s.get('route')} — "
                   f"{str(s.get('termination', '')).replace('_', ' ')} after {_num(s.get('duration_s'), 1)} s, PDMS {_num(s.get('pdms'))}, "
                   f"maneuvers {sum(bool(m['success']) for m in done)}/{len(done)}")
        out.append(f'<figure><a href="{_e(p.src)}"><img src="{_e(p.src)}" alt="{_e(caption)}"></a>'
                   f"<figcaption>{_e(caption)}</figcaption></figure>")
    out.append("</div>")
    return "".join(out)


def render_report(summary: dict[str, Any], plots: dict[str, list[FailurePlot]] | None = None,
                  run: dict[str, Any] | None = None, failed: dict[str, int] | None = None) -> str:
    """The page for ``summary`` (``sim eval``'s summary.json), the failure ``plots`` per policy, extra facts of the
    ``run`` (label -> value, e.g. workers, wall time) and the number of ``failed`` episodes per policy."""
    plots, failed = plots or {}, failed or {}
    policies = summary.get("policies", {})
    title = f"ct1-sim closed-loop evaluation: {', '.join(policies)}"
    parts = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">', '<link rel="icon" href="data:,">',
             f"<title>{_e(title)}</title>", f"<style>{CSS}</style></head><body>", f"<h1>{_e(title)}</h1>",
             "<h2>What ran</h2>", _ran(summary, run or {}),
             ('<p class="note">Every policy drove the same episodes (towns, starts, routes and traffic). Scores are means '
              "over episodes (NAVSIM's PDM score and its terms, each in [0, 1]); an episode counts as failed when its PDMS is "
              "below 0.95 or a maneuver was not done as instructed.</p>"),
             "<h2>Scores</h2>", _scores(policies),
             "<h2>Instruction success per maneuver</h2>",
             ('<p class="note">Rate of maneuvers done as instructed among those decided (success/attempted); not decided: '
              "unfinished when the episode ended / never reached.</p>"), _maneuvers(policies),
             "<h2>How episodes ended</h2>", _terminations(policies),
             "<h2>Failed episodes</h2>"]
    parts += [_failures(name, plots.get(name, []), failed.get(name)) for name in policies]
    parts.append("</body></html>")
    return "\n".join(parts)


def write_report(out: str | Path, summary: dict[str, Any], plots: dict[str, list[FailurePlot]] | None = None,
                 run: dict[str, Any] | None = None, failed: dict[str, int] | None = None) -> Path:
    """Write ``out/report.html`` atomically (see :func:`render_report`); returns its path."""
    return write_text_atomic(Path(out) / "report.html", render_report(summary, plots, run, failed))
