"""Town-scale procedural worlds: the network, routes on it, determinism, split seeds, and a rendered frame."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

from ct1_sim.clip_spec import CLIP_SPEC
from ct1_sim.data.scenarios import polyline as pl
from ct1_sim.data.scenarios.ego_motion import camera_c2w
from ct1_sim.data.scenarios.mesh import GRASS
from ct1_sim.data.scenarios.renderer import SceneRenderer
from ct1_sim.data.scenarios.town import build_town, town_seed
from ct1_sim.data.scenarios.town_map import LANE_M, build_town_map
from ct1_sim.data.scenarios.town_routes import parse_route, plan_route, random_start


@pytest.fixture(scope="module")
def town():
    return build_town(town_seed("test", 0))


def test_the_network_has_four_way_and_t_junctions_curves_arterials_and_a_highway() -> None:
    kinds, classes, bends = set(), set(), 0
    for seed in range(6):
        town = build_town_map(np.random.default_rng(seed))
        kinds |= {j.kind for j in town.junctions}
        classes |= {e.cls.name for e in town.edges}
        bends += sum(1 for e in town.edges if (np.abs(np.diff(np.unwrap(np.arctan2(*np.gradient(e.road.centerline, axis=0).T[::-1])))) > 1e-3).sum() > 20)
        highway = [e for e in town.edges if e.cls.name == "highway"]
        assert len(highway) == 1 and highway[0].length > 300  # one long junction-free stretch
        assert {e.cls.lanes for e in town.edges if e.cls.name == "arterial"} == {2}
    assert kinds == {"4way", "T"} and classes == {"local", "arterial", "highway"}
    assert bends >= 6 * 3  # the ring's two top corners and the highway's ends curve


def test_the_same_seed_gives_the_same_town_and_splits_never_share_a_seed(town) -> None:
    again = build_town(town_seed("test", 0))
    digest = [hashlib.sha256(t.mesh.array().tobytes()).hexdigest() for t in (town, again)]
    assert digest[0] == digest[1]
    assert np.array_equal(town.parked, again.parked) and len(town.agents) == len(again.agents)
    seeds = {split: {town_seed(split, i) for i in range(200)} for split in ("train", "val", "test")}
    assert not (seeds["train"] & seeds["val"]) and not (seeds["train"] & seeds["test"]) and not (seeds["val"] & seeds["test"])


def test_a_route_does_the_maneuvers_asked_in_lane_on_drivable_ground() -> None:
    town = build_town_map(np.random.default_rng(3))
    rng = np.random.default_rng(0)
    done = 0
    for _ in range(40):
        edge, forward, s = random_start(town, rng)
        try:
            route = plan_route(town, edge, forward, s, ["turn_left", "straight", "turn_right"])
        except ValueError as err:
            assert "impossible at junction" in str(err)
            continue
        assert [m.kind for m in route.maneuvers] == ["turn_left", "straight", "turn_right"]
        assert town.drivable(route.path).all()
        h = np.degrees(np.unwrap(route.heading))
        for m, turn in zip(route.maneuvers, (90, 0, -90), strict=True):
            k0, k1 = np.searchsorted(route.s, [m.s_enter - 1, m.s_exit + 1])
            assert abs((h[k1] - h[k0]) - turn) < 8, (m, h[k1] - h[k0])
        # a left turn leaves from the inner lane: 1.75 m right of the road's centre line
        leg = next(leg for leg in route.legs if leg.lane_out == 0)
        centre = town.edges[leg.edge].road.centerline
        end = route.point(route.maneuvers[0].s_enter - 2.0)
        assert abs(pl.distance_to(centre, end[None])[0] - LANE_M / 2) < 0.2
        done += 1
    assert done >= 5


def test_random_routes_last_at_least_a_minute_at_urban_speed() -> None:
    for seed in range(5):
        town = build_town_map(np.random.default_rng(seed))
        rng = np.random.default_rng(seed)
        route = plan_route(town, *random_start(town, rng), rng=rng, min_length_m=500.0)
        assert route.length / 8.3 >= 60.0  # 30 km/h
        assert len(route.maneuvers) >= 3


def test_route_text_parses_and_impossible_routes_say_where() -> None:
    assert parse_route("turn left at the next intersection, then go straight, then turn right") == ["turn_left", "straight", "turn_right"]
    assert parse_route("left; right") == ["turn_left", "turn_right"]
    with pytest.raises(ValueError, match="exactly one of left, right or straight"):
        parse_route("turn left, then do a barrel roll")
    town = build_town_map(np.random.default_rng(3))
    # straight on at a T junction whose top is closed: row 1 meets an interior column from the side
    for e in town.edges:
        for forward in (True, False):
            j, arm = town.arrive(e.id, forward)
            if "straight" not in town.exits(j, arm) and e.length > 60:
                with pytest.raises(ValueError, match=f"impossible at junction {j.id}"):
                    plan_route(town, e.id, forward, 10.0, ["straight"])
                return
    pytest.fail("no T junction approach without a straight exit")


def test_a_town_frame_shows_road_buildings_and_sky_not_a_grass_plain(town) -> None:
    r = SceneRenderer(CLIP_SPEC.width, CLIP_SPEC.height)
    try:
        p, yaw = town.route.path[0], float(town.route.heading[0])
        c2w = camera_c2w(p[0], p[1], yaw, CLIP_SPEC.camera_height_m, pitch_deg=CLIP_SPEC.camera_pitch_deg)
        poses = [a.pose(0.0) for a in town.agents]
        r.set_world(town.mesh.array(), [a.vertices for a in town.agents], shadow_centre=(p[0], p[1]))
        plain, depth = r.render(c2w, CLIP_SPEC.K, town.lighting, poses)
        r.set_world(town.mesh.array(), [a.vertices for a in town.agents], shadow_centre=(p[0], p[1]), tile_m=80.0)
        tiled, _ = r.render(c2w, CLIP_SPEC.K, town.lighting, poses)
    finally:
        r.release()
    assert (np.abs(plain.astype(int) - tiled).max(axis=-1) > 2).mean() < 0.001  # culling changes nothing visible
    sky = depth == 0
    assert 0.02 < sky.mean() < 0.6  # some sky, not only sky
    near = depth[CLIP_SPEC.height // 2:][depth[CLIP_SPEC.height // 2:] > 0]
    assert np.median(near) < 40  # the lower half is road close by
    assert (depth[: CLIP_SPEC.height // 2] > 0).mean() > 0.3  # the upper half: buildings and trees, not open land
    verts = town.mesh.array()
    assert (np.rint(verts[:, 9]) == GRASS).mean() < 0.1
