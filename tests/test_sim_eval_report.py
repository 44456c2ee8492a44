"""``ct1-sim sim eval``: Ray actors (``--workers``, ``--ray-address``) give the same figures, plots and report as one
process; report.html holds every policy's scores and renders in headless Chromium; text is escaped; a killed eval
leaves no summary or report."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from ct1_sim.cli.app import app
from ct1_sim.sim.report import FailurePlot, render_report
from tests.chromium_check import check_page, chromium_binary
from tests.waiting import wait_for

ray = pytest.importorskip("ray")

#: Two policies, two short episodes (the expert's second and both constant-velocity ones fail: plots to compare).
ARGS = ("sim", "eval", "--policies", "expert,constant-velocity", "--episodes", "2", "--seconds", "8", "--no-camera")
#: Per-episode and per-policy figures that are wall-clock timings, not results.
TIMINGS = {"wall_s", "steps_per_s"}


def run(*args: str):  # click Result
    return CliRunner().invoke(app, list(args))


def without_timings(value):
    if isinstance(value, dict):
        return {k: without_timings(v) for k, v in value.items() if k not in TIMINGS}
    if isinstance(value, list):
        return [without_timings(v) for v in value]
    return value


def outputs(out: Path) -> dict:
    """Everything a run wrote that must not depend on how it ran: summary, per-episode summaries, plot bytes."""
    return {"summary": without_timings(json.loads((out / "summary.json").read_text())),
            "episodes": {p.name: without_timings(json.loads(p.read_text())) for p in sorted((out / "episodes").iterdir())},
            "plots": {str(p.relative_to(out)): p.read_bytes() for p in sorted((out / "plots").rglob("*.png"))}}


class Cells(HTMLParser):
    """The text of every ``<td data-key=...>`` of the scores table, by (policy row, key)."""

    def __init__(self) -> None:
        super().__init__()
        self.cells: dict[tuple[str, str], str] = {}
        self._policy, self._key = None, None

    def handle_starttag(self, tag: str, attrs: list) -> None:
        a = dict(attrs)
        if tag == "tr" and "data-policy" in a:
            self._policy = a["data-policy"]
        elif tag == "td" and "data-key" in a:
            self._key = a["data-key"]

    def handle_data(self, data: str) -> None:
        if self._key is not None:
            self.cells[(self._policy, self._key)] = data
            self._key = None


@pytest.fixture(scope="module")
def one_process(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("one") / "eval"
    result = run(*ARGS, "--out", str(out))
    assert result.exit_code == 0, result.output
    return out


def test_workers_give_the_same_results_as_one_process(one_process: Path, tmp_path: Path) -> None:
    assert not ray.is_initialized()
    out = tmp_path / "ray"
    result = run(*ARGS, "--workers", "2", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert not ray.is_initialized()  # the pool started Ray, so it shut it down
    one, two = outputs(one_process), outputs(out)
    assert set(one["summary"]["policies"]) == {"expert", "constant-velocity"}
    assert one["summary"] == two["summary"] and one["episodes"] == two["episodes"]
    assert one["plots"] and one["plots"] == two["plots"]  # same failed episodes plotted, same pictures
    assert [s["seed"] for s in json.loads((out / "episodes" / "expert.json").read_text())] == [0, 1]  # episode order
    assert "2 Ray actors" in (out / "report.html").read_text() and "1 (one process)" in (one_process / "report.html").read_text()
    # results differ between episodes, so equal files are not two copies of one episode
    assert len({s["town_seed"] for s in one["episodes"]["expert.json"]}) == 2


def test_ray_address_drives_on_a_running_cluster(one_process: Path, tmp_path: Path) -> None:
    assert not ray.is_initialized()
    context = ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        out = tmp_path / "cluster"
        cli = [str(Path(sys.executable).with_name("ct1-sim")), *ARGS, "--ray-address", context.address_info["gcs_address"],
               "--out", str(out)]
        proc = subprocess.run(cli, env={**os.environ, "OMP_NUM_THREADS": "1"}, capture_output=True, check=False, text=True, timeout=300)
        assert proc.returncode == 0, proc.stderr[-3000:]
        assert ray.is_initialized()  # the eval attached to the cluster and left it running
    finally:
        ray.shutdown()
    assert outputs(out) == outputs(one_process)
    assert "2 Ray actors at " in (out / "report.html").read_text()  # one actor per CPU of the cluster


def test_report_names_every_policy_with_its_scores(one_process: Path) -> None:
    page = (one_process / "report.html").read_text()
    summary = json.loads((one_process / "summary.json").read_text())
    parser = Cells()
    parser.feed(page)
    for name, s in summary["policies"].items():
        for key in ("pdms", "nc", "dac", "ttc", "ep", "comfort", "route_completion"):
            assert parser.cells[(name, key)] == f"{s[key]:.3f}", (name, key)
        assert parser.cells[(name, "stop_line_compliance")] == "–"  # no stop line in 8 s: shown as missing, not 0
    for kind in ("straight", "turn left", "turn right"):
        assert kind in page  # the per-maneuver table
    for rel in sorted(str(p.relative_to(one_process)) for p in (one_process / "plots").rglob("*.png")):
        assert f'src="{rel}"' in page  # every failure plot, by relative path
    assert "procedural" in page and ">8 s<" in page and "0 … 1" in page  # what ran: world, time limit, seeds
    assert "http://" not in page and "https://" not in page  # offline: nothing from the network


@pytest.mark.skipif(chromium_binary() is None, reason="needs Debian's chromium (make system-deps installs it)")
def test_report_renders_in_headless_chromium(one_process: Path, tmp_path: Path) -> None:
    result = check_page(one_process / "report.html")
    plots = list((one_process / "plots").rglob("*.png"))
    assert len(result["images"]) == len(plots) == 3 and all(i["ok"] for i in result["images"]), result["images"]
    assert result["console"] == []
    shot = tmp_path / "report.png"
    subprocess.run([chromium_binary(), "--headless", "--no-sandbox", "--disable-gpu", "--allow-file-access-from-files",
                    "--window-size=1200,1600", f"--screenshot={shot}", (one_process / "report.html").resolve().as_uri()],
                   capture_output=True, timeout=90, check=True)
    pixels = np.asarray(Image.open(shot).convert("RGB")).astype(int)
    assert pixels.shape[:2] == (1600, 1200)
    assert (pixels.sum(axis=2) < 150).mean() > 0.002  # dark text
    green = (pixels[..., 1] > pixels[..., 0] + 10) & (pixels[..., 1] > pixels[..., 2] + 25)  # the town's grass
    assert green.mean() > 0.01  # the first failure plot's town is drawn on the page


def test_report_escapes_all_text() -> None:
    evil = '<script>alert("x")</script>'
    summary = {"world": evil, "split": "test", "towns": 1, "episodes": 1, "seed": 0, "seconds": None,
               "policies": {evil: {"episodes": 1, "pdms": 0.5, "instruction_success": {evil: {"success": 0, "attempted": 1,
                                   "unfinished": 0, "not_reached": 0, "rate": 0.0}}, "terminations": {evil: 1}}}}
    plot = FailurePlot(f'plots/{evil}/episode-0000.png', 0, {"seed": 0, "route": evil, "termination": evil, "pdms": 0.5,
                                                               "maneuvers": []})
    page = render_report(summary, {evil: [plot]}, {evil: evil}, {evil: 1})
    assert "<script>" not in page and '"x"' not in page
    assert page.count("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;") >= 8


#: ``ct1-sim ARGS`` whose second episode hangs after writing ``ready``: the test kills the process there.
KILLED_EVAL = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    import ct1_sim.sim.evaluation as evaluation
    from ct1_sim.cli.app import main
    original, calls = evaluation.run_episode, []

    def hangs_at_the_second_episode(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:  # expert and constant-velocity drove episode 0; expert starts episode 1
            Path({ready!r}).write_text("x")  # tell the test, then wait to be killed
            time.sleep(600)
        return original(*args, **kwargs)

    evaluation.run_episode = hangs_at_the_second_episode
    sys.argv = ["ct1-sim", *{args!r}]
    main()
    """
)


def test_a_killed_eval_leaves_no_summary_or_report(tmp_path: Path) -> None:
    out, ready = tmp_path / "out", tmp_path / "ready"
    args = [*ARGS, "--out", str(out)]
    log = tmp_path / "killed.log"
    with log.open("w") as stderr:
        proc = subprocess.Popen([sys.executable, "-c", KILLED_EVAL.format(ready=str(ready), args=args)],
                                env={**os.environ, "OMP_NUM_THREADS": "1"}, stdout=subprocess.DEVNULL, stderr=stderr)
    wait_for(lambda: ready.exists() or proc.poll() is not None, 120, "the eval to start its second episode")
    assert proc.poll() is None, f"the eval exited early: {log.read_text()[-2000:]}"
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    written = sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file())
    assert written == ["plots/constant-velocity/episode-0000.png"], written  # whole plots only: no summary, no report, no temp file
    Image.open(out / written[0]).verify()


def test_the_neural_world_on_ray_actors_is_refused_unless_on_cpu(tmp_path: Path) -> None:
    result = run("sim", "eval", "--world", "neural", "--policies", "expert", "--episodes", "2", "--workers", "2",
                 "--out", str(tmp_path / "x"))
    assert result.exit_code == 2 and "needs --device cpu, or --gpus-per-worker" in result.output, result.output
    assert not ray.is_initialized() and not (tmp_path / "x").exists()


def test_gpus_per_worker_are_asked_of_ray_for_each_actor(tmp_path: Path) -> None:
    args = ("sim", "eval", "--policies", "expert", "--episodes", "2", "--towns", "1")
    result = run(*args, "--gpus-per-worker", "1", "--out", str(tmp_path / "one"))
    assert result.exit_code == 2 and "--gpus-per-worker applies to Ray actors" in result.output, result.output
    result = run(*args, "--workers", "2", "--gpus-per-worker", "64", "--out", str(tmp_path / "ray"))
    assert result.exit_code == 2 and "need 128 GPU(s), but the Ray cluster has" in result.output, result.output
    assert not ray.is_initialized() and not (tmp_path / "one").exists() and not (tmp_path / "ray").exists()
