"""Curation report: counts per filter, clips per maneuver and split, histograms of maneuvers and speeds."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from ct1_sim.data.clip_store import ClipStore


def write_report(store: ClipStore, counts: Counter, folder: Path) -> Path:
    """``report.md`` + ``maneuvers.png`` + ``speeds.png`` in ``folder``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    folder.mkdir(parents=True, exist_ok=True)
    metas = [store.meta(i) for i in store.ids()]
    maneuvers = Counter(m.get("maneuver", "?") for m in metas)
    splits = Counter(m.get("split", "?") for m in metas)
    speeds = [m["speed_mps"] for m in metas if "speed_mps" in m]
    fig, ax = plt.subplots(figsize=(6, 3))
    ax.bar(list(maneuvers), list(maneuvers.values()), color="#4878d0")
    ax.set_ylabel("clips")
    ax.set_title("maneuvers")
    plt.setp(ax.get_xticklabels(), rotation=20, ha="right")
    fig.tight_layout()
    fig.savefig(folder / "maneuvers.png")
    plt.close(fig)
    fig, ax = plt.subplots(figsize=(6, 3))
    ax.hist(speeds, bins=20, color="#6acc64")
    ax.set_xlabel("ego speed at the conditioning frame (m/s)")
    ax.set_ylabel("clips")
    fig.tight_layout()
    fig.savefig(folder / "speeds.png")
    plt.close(fig)
    lines = [f"# Curation report: {store.path}", "", f"{len(metas)} clips in the store.", "", "## Filters (windows or frames removed)", "",
             "| filter | count |", "| --- | --- |"]
    lines += [f"| {k} | {v} |" for k, v in sorted(counts.items())]
    lines += ["", "## Clips per maneuver", "", "| maneuver | clips |", "| --- | --- |"] + [f"| {k} | {v} |" for k, v in sorted(maneuvers.items())]
    lines += ["", "## Clips per split", "", "| split | clips |", "| --- | --- |"] + [f"| {k} | {v} |" for k, v in sorted(splits.items())]
    lines += ["", "![maneuvers](maneuvers.png)", "", "![speeds](speeds.png)", ""]
    (folder / "report.md").write_text("\n".join(lines))
    return folder / "report.md"
