"""What every instruction should drive on a scenario's first frame, and when a path leaves the road."""

from __future__ import annotations

import numpy as np
import pytest

from ct1_sim.clip_spec import CLIP_SPEC
from ct1_sim.data.scenarios.generate import make_clip
from ct1_sim.data.scenarios.intent_paths import INTENT_KEYS, intent_paths, own_intent
from ct1_sim.data.scenarios.renderer import SceneRenderer
from ct1_sim.metrics import classify_maneuver, classify_speed_behaviour, inside_drivable, leaves_drivable_area

DT = 1.0 / CLIP_SPEC.rate_hz


@pytest.fixture(scope="module")
def renderer() -> SceneRenderer:
    return SceneRenderer(CLIP_SPEC.width, CLIP_SPEC.height)


def _label(c2w: np.ndarray) -> tuple[str, str]:
    rel = np.linalg.inv(c2w[0]) @ c2w
    return classify_maneuver(rel, DT), classify_speed_behaviour(rel, DT)


@pytest.mark.parametrize(("family", "params", "index"), [
    ("intersection", {"kind": "4way"}, 5), ("intersection", {"kind": "T"}, 5), ("lane_change", {}, 5), ("curve", {}, 5),
    ("stop", {}, 5), ("speed_change", {}, 5),
])
def test_every_intent_path_stays_on_the_road_and_the_own_one_is_the_recorded_drive(
    renderer: SceneRenderer, family: str, params: dict, index: int
) -> None:
    clip = make_clip(renderer, "t", family, params, "val", index)
    paths = intent_paths(clip.meta, clip.trajectory.c2w)
    assert set(paths) == set(INTENT_KEYS)
    np.testing.assert_array_equal(paths[own_intent(clip.meta)], clip.trajectory.c2w)
    assert not leaves_drivable_area(clip.trajectory.c2w, clip.meta["drivable"])
    for key, c2w in paths.items():
        assert not leaves_drivable_area(c2w, clip.meta["drivable"]), (family, key)


def test_feasible_intents_are_driven_as_asked_and_infeasible_ones_keep_the_road(renderer: SceneRenderer) -> None:
    four_way = make_clip(renderer, "t", "intersection", {"kind": "4way"}, "val", 5)
    paths = intent_paths(four_way.meta, four_way.trajectory.c2w)
    for maneuver in ("turn_left", "turn_right", "straight"):
        assert _label(paths[(maneuver, "none")])[0] == maneuver
    assert _label(paths[("turn_left", "slow_down")]) == ("turn_left", "slow_down")  # slower, and still a turn
    assert _label(paths[("straight", "speed_up")]) == ("straight", "speed_up")
    assert _label(paths[("stop", "none")])[0] == "stop"
    # one lane each way: a lane change is refused by keeping the lane
    assert _label(paths[("lane_change_left", "none")])[0] == "straight"
    highway = make_clip(renderer, "t", "lane_change", {}, "val", 5)
    paths = intent_paths(highway.meta, highway.trajectory.c2w)
    for turn in ("turn_left", "turn_right"):  # no junction: keep the lane
        assert _label(paths[(turn, "none")])[0] == "straight"
    t_junction = make_clip(renderer, "t", "intersection", {"kind": "T"}, "val", 5)
    paths = intent_paths(t_junction.meta, t_junction.trajectory.c2w)
    assert _label(paths[("straight", "none")])[0] == "stop"  # a building ahead: stop before the junction


def test_a_turn_off_a_highway_leaves_the_drivable_area(renderer: SceneRenderer) -> None:
    highway = make_clip(renderer, "t", "lane_change", {}, "val", 5)
    c2w = highway.trajectory.c2w.copy()
    start = c2w[0, :2, 3]
    # swing 25 m to the left over the clip: across the median and off the carriageway
    c2w[:, 1, 3] = start[1] + np.linspace(0.0, 25.0, len(c2w))
    assert leaves_drivable_area(c2w, highway.meta["drivable"])
    assert not leaves_drivable_area(highway.trajectory.c2w, highway.meta["drivable"])


def test_inside_drivable_on_a_road_and_a_square() -> None:
    records = [{"kind": "road", "centerline": [[0.0, 0.0], [100.0, 0.0]], "left": 3.5, "right": 7.0},
               {"kind": "square", "centre": [50.0, 20.0], "half": 5.0}]
    xy = np.array([[10.0, 3.0], [10.0, 4.0], [10.0, -6.9], [10.0, -7.2], [-1.0, 0.0], [101.0, 0.0], [52.0, 24.0], [52.0, 26.0]])
    np.testing.assert_array_equal(inside_drivable(xy, records), [True, False, True, False, False, False, True, False])
    with pytest.raises(ValueError, match="no drivable area"):
        inside_drivable(xy, [])
