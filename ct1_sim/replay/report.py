"""The replay report: one static HTML page per run (``OUT/report.html``) with its plots in ``OUT/report/``.

Metric plots (PNG), the overall and per-scene means, a table per scene with each keyframe's overlay, and the
generated next to the true future video when the run rolled out video. Everything is referenced by relative
path and nothing is loaded from the network, so the folder can be copied and opened offline.
"""

from __future__ import annotations

import html
import logging
import math
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

from ct1_sim.atomic_files import write_text_atomic
from ct1_sim.replay.storage import ReplayOutput, scene_dirname

log = logging.getLogger(__name__)

#: (column, header, unit) of the per-keyframe metric columns shown in the tables.
SHOWN = (("min_ade", "minADE", "m"), ("min_fde", "minFDE", "m"), ("l2_1s", "L2@1s", "m"), ("l2_2s", "L2@2s", "m"),
         ("l2_3s", "L2@3s", "m"), ("rot_err_deg", "rot. err.", "deg"), ("compliance", "compliance", ""))
CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:24px;color:#222;max-width:1400px}
h1{font-size:1.5em} h2{font-size:1.2em;margin-top:2em;border-bottom:1px solid #ddd}
table{border-collapse:collapse;font-size:13px;margin:8px 0} th,td{border:1px solid #ddd;padding:3px 6px;text-align:right}
th{background:#f4f4f4} td.l{text-align:left} img.plot{max-width:48%;margin:4px} img.thumb{height:90px}
.videos{display:flex;gap:12px;flex-wrap:wrap} .videos figure{margin:0} figcaption{font-size:12px;color:#555}
.note{color:#555;font-size:13px}
"""


def _fmt(value: Any, digits: int = 2) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "–"
    return f"{value:.{digits}f}" if isinstance(value, float) else html.escape(str(value))


def _plots(folder: Path, tables: dict[str, dict[str, np.ndarray]]) -> list[tuple[str, str]]:
    """Write the metric plots into ``folder``; returns (file name, caption) pairs."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    folder.mkdir(parents=True, exist_ok=True)
    scenes = [s for s, t in tables.items() if t]
    plots: list[tuple[str, str]] = []

    def save(fig: Any, name: str, caption: str) -> None:
        fig.tight_layout()
        fig.savefig(folder / name)
        plt.close(fig)
        plots.append((name, caption))
    if not scenes:
        return plots
    keys = ("min_ade", "min_fde", "l2_1s", "l2_2s", "l2_3s")
    fig, ax = plt.subplots(figsize=(max(5.0, 1.2 * len(scenes) + 3), 3.4), dpi=100)
    width = 0.8 / len(keys)
    for j, key in enumerate(keys):
        means = [float(np.nanmean(tables[s][key])) if np.isfinite(tables[s][key]).any() else 0.0 for s in scenes]
        ax.bar(np.arange(len(scenes)) + (j - (len(keys) - 1) / 2) * width, means, width, label={k: h for k, h, _ in SHOWN}[key])
    ax.set_xticks(np.arange(len(scenes)), scenes, rotation=20 if len(scenes) > 4 else 0, ha="right" if len(scenes) > 4 else "center")
    ax.set_ylim(0, 1.3 * max([b.get_height() for b in ax.patches] + [0.1]))  # room for the legend above the bars
    ax.set_ylabel("mean error (m)")
    ax.set_title("Errors per scene (mean over keyframes)")
    ax.legend(fontsize=8, ncol=len(keys))
    ax.grid(axis="y", alpha=0.3)
    save(fig, "errors_by_scene.png", "minADE@K, minFDE@K and L2 of sample 0 at 1/2/3 s, per scene")

    fig, ax = plt.subplots(figsize=(7, 3.4), dpi=100)
    for s in [s for s in scenes if len(tables[s]["min_ade"]) > 1]:  # a drive needs two keyframes to be a line
        t = tables[s]
        times = (t["timestamp_us"] - t["timestamp_us"].min()) / 1e6
        ax.plot(times, t["min_ade"], "-o", ms=3, label=s)
    ax.set_xlabel("time of the keyframe in the scene (s)")
    ax.set_ylabel("minADE@K (m)")
    ax.set_title("minADE along each drive")
    ax.grid(alpha=0.3)
    if ax.lines:
        ax.legend(fontsize=8)
        save(fig, "min_ade_over_time.png", "minADE@K at every keyframe, by scene")
    else:
        plt.close(fig)

    allrows = {k: np.concatenate([tables[s][k] for s in scenes]) for k in ("min_ade", "compliance", "instructed_maneuver")}
    fig, ax = plt.subplots(figsize=(5, 3.4), dpi=100)
    ax.hist(allrows["min_ade"], bins=min(20, max(5, len(allrows["min_ade"]) // 2)), color="#4878d0")
    ax.set_xlabel("minADE@K (m)")
    ax.set_ylabel("keyframes")
    ax.set_title("Distribution of minADE@K over all keyframes")
    save(fig, "min_ade_hist.png", "histogram of minADE@K over every keyframe of the run")

    maneuvers = sorted(set(allrows["instructed_maneuver"]))
    shares = [float(np.nanmean(allrows["compliance"][allrows["instructed_maneuver"] == m])) if
              np.isfinite(allrows["compliance"][allrows["instructed_maneuver"] == m]).any() else 0.0 for m in maneuvers]
    counts = [int((allrows["instructed_maneuver"] == m).sum()) for m in maneuvers]
    fig, ax = plt.subplots(figsize=(5, 3.4), dpi=100)
    ax.bar(maneuvers, shares, color="#6acc64")
    for i, n in enumerate(counts):
        ax.text(i, shares[i] + 0.02, f"n={n}", ha="center", fontsize=8)
    ax.set_ylim(0, 1.1)
    ax.set_ylabel("share of samples")
    ax.set_title("Instruction compliance by instructed maneuver")
    save(fig, "compliance.png", "share of the K samples whose maneuver equals the instructed one")
    return plots


def _scene_section(output: ReplayOutput, scene: str, table: dict[str, np.ndarray], summary: dict) -> list[str]:
    prefix = f"scenes/{scene_dirname(scene)}/"
    skipped = ", ".join(f"{k} {v}" for k, v in sorted(summary.get("skipped", {}).items())) or "none"
    out = [f'<h2 id="{html.escape(scene_dirname(scene))}">{html.escape(scene)}</h2>',
           f'<p class="note">{summary["keyframes"]} keyframes replayed; keyframes not replayed: {html.escape(skipped)}.</p>']
    if not table:
        return out
    head = "".join(f"<th>{h}{f' ({u})' if u else ''}</th>" for _, h, u in SHOWN)
    out.append("<table><tr><th>key</th><th>t (s)</th><th>instruction</th><th>true maneuver</th><th>speed (m/s)</th>"
               f"{head}<th>predicted maneuvers</th><th>overlay</th></tr>")
    t0 = table["timestamp_us"].min()
    for i in range(len(table["keyframe"])):
        cells = "".join(f"<td>{_fmt(float(table[k][i]))}</td>" for k, _, _ in SHOWN)
        labels = Counter(str(table["pred_maneuvers"][i]).split(","))
        predicted = ", ".join(f"{m} ×{n}" for m, n in labels.most_common())
        overlay = prefix + str(table["overlay"][i])
        out.append(f"<tr><td>{int(table['keyframe'][i])}</td><td>{(table['timestamp_us'][i] - t0) / 1e6:.1f}</td>"
                   f"<td class=l>{html.escape(str(table['instruction'][i]))}</td><td class=l>{html.escape(str(table['true_maneuver'][i]))}</td>"
                   f"<td>{_fmt(float(table['speed_mps'][i]), 1)}</td>{cells}<td class=l>{html.escape(predicted)}</td>"
                   f'<td><a href="{overlay}"><img class="thumb" src="{overlay}" alt="keyframe {int(table["keyframe"][i])} overlay"></a></td></tr>')
    means = "".join(f"<td><b>{_fmt(summary.get(k))}</b></td>" for k, _, _ in SHOWN)
    out.append(f"<tr><td class=l colspan=5><b>mean</b></td>{means}<td></td><td></td></tr></table>")
    videos = [i for i in range(len(table["keyframe"])) if str(table["video_generated"][i])]
    if videos:
        out.append('<div class="videos">')
        for i in videos:
            k = int(table["keyframe"][i])
            for col, caption in (("video_generated", "generated"), ("video_true", "true future")):
                src = prefix + str(table[col][i])
                out.append(f'<figure><video src="{src}" controls muted loop playsinline preload="auto" width="320"></video>'
                           f"<figcaption>keyframe {k}: {caption}</figcaption></figure>")
        out.append("</div>")
    return out


def write_report(output: ReplayOutput, scenes: list[str]) -> Path:
    """Write ``OUT/report.html`` and its plots for the finished ``scenes`` of ``output``."""
    import json

    root = output.root
    tables = {s: output.scene_table(s) for s in scenes}
    summaries = {s: output.scene_summary(s) for s in scenes}
    run = json.loads((root / "run.json").read_text())
    overall = json.loads((root / "summary.json").read_text())["overall"]
    plots = _plots(root / "report", tables)
    settings = run["settings"]
    lines = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">', '<link rel="icon" href="data:,">',
             "<title>ct1-sim replay report</title>", f"<style>{CSS}</style></head><body>",
             "<h1>ct1-sim replay report</h1>",
             (f'<p class="note">Source: {html.escape(json.dumps(run["source"]))}<br>Predictor: {html.escape(json.dumps(run["world"]))}<br>'
              f"K = {settings['num_samples']} samples per keyframe, instruction: "
              f"{html.escape(settings['instruction'] or 'derived from what the car did')}, seed {settings['seed']}, "
              f"video: {'yes' if settings['video'] else 'no'}.<br>Paths are compared relative to the current camera "
              "(OpenCV axes, metres); L2 is sample 0's distance at 1/2/3 s, minADE/minFDE the best of K; overlays draw the "
              "samples in colour and the true path white (image) / black (top view) dashed.</p>"),
             "<h2>Overall</h2><table><tr><th>scenes</th><th>keyframes</th>"
             + "".join(f"<th>{h}{f' ({u})' if u else ''}</th>" for _, h, u in SHOWN) + "</tr>",
             f"<tr><td>{overall['scenes']}</td><td>{overall['keyframes']}</td>"
             + "".join(f"<td>{_fmt(overall.get(k))}</td>" for k, _, _ in SHOWN) + "</tr></table>",
             "<h2>Per scene</h2><table><tr><th>scene</th><th>keyframes</th>"
             + "".join(f"<th>{h}</th>" for _, h, _ in SHOWN) + "</tr>"]
    for s in scenes:
        lines.append(f'<tr><td class=l><a href="#{html.escape(scene_dirname(s))}">{html.escape(s)}</a></td>'
                     f"<td>{summaries[s]['keyframes']}</td>" + "".join(f"<td>{_fmt(summaries[s].get(k))}</td>" for k, _, _ in SHOWN) + "</tr>")
    lines.append("</table>")
    if plots:
        lines.append("<h2>Plots</h2><div>")
        lines += [f'<img class="plot" src="report/{name}" alt="{html.escape(caption)}" title="{html.escape(caption)}">' for name, caption in plots]
        lines.append("</div>")
    for s in scenes:
        lines += _scene_section(output, s, tables[s], summaries[s])
    lines.append("</body></html>")
    path = root / "report.html"
    write_text_atomic(path, "\n".join(lines))
    log.info("wrote the replay report %s", path)
    return path
