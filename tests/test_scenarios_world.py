"""Procedural scenarios: the layout decides the path, specs are validated, shadows and read-back are right.

These drive the ego through real layouts (no mocks) and, where pixels matter, render with the real renderer.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from ct1_sim.cli.scenarios import scenarios_app
from ct1_sim.clip_spec import CLIP_SPEC
from ct1_sim.data.scenarios import SceneRenderer, build_scene, load_spec
from ct1_sim.data.scenarios import polyline as pl
from ct1_sim.data.scenarios.ego_motion import camera_c2w
from ct1_sim.data.scenarios.mesh import ASPHALT, FACADE, MeshBuilder
from ct1_sim.data.scenarios.renderer import (
    Lighting,
    gl_projection,
    index_vertices,
    inverse_gl_projection,
    sort_for_drawing,
)
from ct1_sim.geometry.projection import project_points

REPO = Path(__file__).resolve().parents[1]
NOSE_M = 3.4  # rear axle to front bumper, as in layouts.stop


@pytest.fixture(scope="module")
def renderer() -> SceneRenderer:
    return SceneRenderer(CLIP_SPEC.width, CLIP_SPEC.height)


def _heading_deg(path) -> np.ndarray:
    return np.degrees(np.unwrap(path.states[:, 2]))


@pytest.mark.parametrize("maneuver", ["turn_left", "turn_right"])
def test_turns_happen_inside_the_junction_the_layout_put_ahead(maneuver: str) -> None:
    seen = set()
    for index in range(4):
        world, path, _traj, label, _, _ = build_scene("t", "intersection", {"maneuver": maneuver}, "train", index)
        assert label == maneuver
        lay = world.layout
        near = lay["junction_x_m"] - lay["cross_half_width_m"] - 3.0  # where the curbs round into the crossing road
        far = lay["junction_x_m"] + lay["cross_half_width_m"] + 3.0
        heading = _heading_deg(path)
        k = int(np.argmax(np.abs(heading) > 10.0))  # the ego starts turning ...
        assert near - 1.5 < path.states[k, 0] < far, (lay, path.states[k])  # ... where the junction is
        assert np.sign(heading[-1]) == (1 if maneuver == "turn_left" else -1)
        seen.add(round(lay["distance_m"], 1))
    assert len(seen) == 4  # different scenes put the junction at different distances


def test_lane_changes_only_go_where_a_lane_exists_and_end_in_it() -> None:
    sides = {}
    for index in range(12):
        world, path, _traj, label, _, _ = build_scene("t", "lane_change", {}, "val", index)
        lanes, lane = world.layout["lanes"], world.layout["lane"]
        target = lane - 1 if label == "lane_change_left" else lane + 1  # lane 0 is next to the median (left)
        assert 0 <= target < lanes, world.layout
        y_target = -(target + 0.5) * 3.5
        assert abs(path.states[-1, 1] - y_target) < 0.6  # settled in the neighbouring lane
        sides.setdefault(lane == 0, set()).add(label)
    assert sides.get(True, {"lane_change_right"}) == {"lane_change_right"}  # from the median lane: only right


def test_curves_are_followed_in_lane_at_their_radius() -> None:
    for index, direction in enumerate(["left", "right"]):
        world, path, _traj, _label, _, _ = build_scene("t", "curve", {"direction": direction, "radius_m": [25, 25],
                                                                        "start_m": [2, 2]}, "train", index)
        assert world.layout["radius_m"] == 25.0
        off = pl.distance_to(pl.resample(world.reference, 0.2), path.states[:, :2])
        assert off.max() < 0.35, off.max()  # stays in its lane (3.5 m wide)
        turned = _heading_deg(path)[-1]
        assert np.sign(turned) == (1 if direction == "left" else -1) and abs(turned) > 15


@pytest.mark.parametrize("reason", ["stop_line", "vehicle"])
def test_stops_end_at_rest_just_short_of_the_line_or_the_lead_vehicle(reason: str) -> None:
    for index in range(3):
        world, path, _traj, label, _, _ = build_scene("t", "stop", {"reason": reason}, "test", index)
        assert label == "stop" and path.states[-1, 3] < 0.3
        bumper = path.states[-1, 0] + NOSE_M
        if reason == "stop_line":
            gap = world.layout["stop_line_m"] - bumper
        else:
            gap = world.layout["gap_m"]  # bumper to the lead vehicle's tail
            travelled = path.states[-1, 0] - path.states[0, 0]
            assert travelled <= world.layout["stop_m"] + 0.3
        assert 0.0 < gap < 3.5, (world.layout, bumper)
        assert np.all(np.diff(path.states[:, 0]) >= -1e-9)  # never backs up


def test_speeds_and_accelerations_are_realistic() -> None:
    for family in ("intersection", "curve", "lane_change", "stop", "speed_change"):
        for index in range(3):
            _world, path, _traj, _label, _, _ = build_scene("t", family, {}, "train", index)
            v = path.states[:, 3]
            acc = np.diff(v) / np.diff(path.times)
            assert 0.0 <= v.min() and v.max() < 17.0, family
            assert np.abs(acc).max() < 6.0, family  # m/s^2, comfortable-to-firm braking at most


def test_spec_errors_name_the_bad_key(tmp_path: Path) -> None:
    def load(text: str):
        f = tmp_path / "s.yaml"
        f.write_text(text)
        return load_spec(f)

    with pytest.raises(ValueError, match=r"families\.curve\.params\.radius is not a parameter of curve"):
        load("name: x\nfamilies: {curve: {params: {radius: [10, 20]}}}\n")
    with pytest.raises(ValueError, match=r"families\.intersection\.params\.kind must be one of"):
        load("name: x\nfamilies: {intersection: {params: {kind: roundabout}}}\n")
    with pytest.raises(ValueError, match=r"families\.stop\.params\.speed_mps must be a range"):
        load("name: x\nfamilies: {stop: {params: {speed_mps: [9, 3]}}}\n")
    with pytest.raises(ValueError, match=r"colour is not a key at the top level; use name"):
        load("name: x\ncolour: red\nfamilies: {stop: {}}\n")
    spec = load("name: x\nfamilies: {curve: {params: {radius_m: 40}}}\nclip: {num_poses: 8, rate_hz: 2.0}\n")
    assert spec.params("curve") == {"radius_m": (40.0, 40.0)} and spec.clip.num_poses == 8


def test_a_box_casts_its_shadow_where_the_sun_puts_it(renderer: SceneRenderer) -> None:
    mesh = MeshBuilder()
    mesh.ground_rect(-50, -50, 80, 50, 0.0, (0.5, 0.5, 0.5), ASPHALT)
    mesh.box((20.0, 0.0, 0.0), (2.0, 2.0, 4.0), 0.0, (0.6, 0.6, 0.6), FACADE)
    renderer.set_world(mesh.array(), shadow_centre=(20.0, 0.0))
    sun = np.array([-1.0, 1.0, 1.0]) / np.sqrt(3.0)  # from behind-left: the shadow falls ahead-right
    c2w = camera_c2w(0.0, 0.0, 0.0, 1.5)
    lit_scene = Lighting(sun_dir=tuple(sun), fog_density=0.0)
    rgb, _ = renderer.render(c2w, CLIP_SPEC.K, lit_scene)
    # the shadow of the box's top centre lands on the ground 4 m "down-sun" of it
    tip = np.array([20.0, 0.0, 4.0]) - sun * (4.0 / sun[2])
    lit_point = np.array([20.0, -4.0, 0.0])
    (u_s, v_s), (u_l, v_l) = np.round(project_points(np.stack([tip, lit_point]), c2w, CLIP_SPEC.K)[0] - 0.5).astype(int)
    no_shadows = Lighting(sun_dir=tuple(sun), fog_density=0.0, shadows=False)
    rgb2, _ = renderer.render(c2w, CLIP_SPEC.K, no_shadows)
    ratio = lambda v, u: rgb[v, u].astype(float).mean() / rgb2[v, u].astype(float).mean()  # noqa: E731
    assert ratio(v_s, u_s) < 0.75  # the shadow darkens the ground there ...
    assert abs(ratio(v_l, u_l) - 1.0) < 0.02  # ... and nowhere near it on the other side


def test_sky_pixels_have_depth_zero_and_frames_come_back_upright(renderer: SceneRenderer) -> None:
    mesh = MeshBuilder()
    mesh.ground_rect(-50, -50, 300, 50, 0.0, (0.5, 0.5, 0.5), ASPHALT)
    renderer.set_world(mesh.array())
    rgb, depth = renderer.render(camera_c2w(0.0, 0.0, 0.0, 1.5), CLIP_SPEC.K, Lighting())
    assert rgb.shape == (256, 448, 3) and rgb.dtype == np.uint8 and depth.dtype == np.float32
    assert (depth[:100] == 0).all()  # sky above the horizon (camera pitched down 0 deg here)
    assert (depth[140:] > 0).all()  # ground below it, nearer towards the bottom row
    assert depth[255, 224] < depth[140, 224]


def test_index_vertices_and_draw_order_keep_every_triangle() -> None:
    world, *_ = build_scene("t", "intersection", {}, "train", 0)
    soup = world.mesh.array()
    ordered = sort_for_drawing(soup)
    unique, idx = index_vertices(ordered)
    np.testing.assert_array_equal(unique[idx], ordered)
    assert len(unique) < len(ordered)  # quads share corners
    triangles = lambda a: sorted(map(bytes, np.ascontiguousarray(a, np.float32).reshape(-1, 30)))  # noqa: E731
    assert triangles(ordered) == triangles(soup)  # the same triangles, only reordered


def test_scenarios_app_preview_and_samples(tmp_path: Path) -> None:
    runner = CliRunner()
    res = runner.invoke(scenarios_app, ["preview", str(REPO / "scenarios" / "highway.yaml"), "--out", str(tmp_path / "h.png"),
                                        "--clips", "1"])
    assert res.exit_code == 0, res.output
    from PIL import Image

    assert Image.open(tmp_path / "h.png").size == (3 * 448, 256)


def test_closed_form_inverse_projection_matches_lapack() -> None:
    """The render loop inverts the projection in closed form (no LAPACK call per frame)."""
    for K, (w, h) in ((CLIP_SPEC.K, (CLIP_SPEC.width, CLIP_SPEC.height)), (np.array([[900.0, 0, 700], [0, 880, 410], [0, 0, 1]]), (1600, 900))):
        P = gl_projection(K, w, h)
        np.testing.assert_allclose(inverse_gl_projection(P), np.linalg.inv(P), rtol=1e-9, atol=1e-12)
