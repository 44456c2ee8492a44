"""Speed profiles along a route: braking envelopes ahead of stops and caps, and the free-flow reference times."""

from __future__ import annotations

import numpy as np
import pytest

from ct1_sim.sim.speed_profile import braking_envelope


def test_braking_envelope_is_the_analytic_one_ahead_of_a_stop_and_a_lower_cap() -> None:
    s = np.linspace(0.0, 100.0, 1001)
    cap = np.full_like(s, 10.0)
    cap[s >= 80.0] = 4.0  # a slower stretch from 80 m
    v = braking_envelope(s, cap, stops=[50.0], decel=2.0)
    # braking at 2 m/s^2 to stand at 50 m: v = sqrt(2 * 2 * (50 - s)) where that is under the cap
    before = s <= 50.0
    np.testing.assert_allclose(v[before], np.minimum(10.0, np.sqrt(4.0 * (50.0 - s[before]))), atol=1e-9)
    # from the stop on: back up to the cap, then down to 4 m/s by 80 m
    after = (s > 50.0) & (s < 80.0)
    np.testing.assert_allclose(v[after], np.minimum(10.0, np.sqrt(16.0 + 4.0 * (80.0 - s[after]))), atol=1e-9)
    assert v[s >= 80.0] == pytest.approx(4.0)
    assert braking_envelope(np.array([0.0]), np.array([3.0]), stops=[]) == pytest.approx([3.0])
