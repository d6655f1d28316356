"""The parameters of the stretches no claim looks inside (model.graph.stretch_totals):
a change of variables with a constant Jacobian, so the prior on lambda is unchanged."""

import numpy as np
import pytest

from casualty_models.model.grid import Stretches


def _stretches() -> Stretches:
    # curve 0: a head and two inner stretches; curve 1: one head; curve 2: a head, one gap
    return Stretches(
        curve=np.array([0, 0, 0, 1, 2, 2]),
        left=np.array([-1, 3, 7, -1, -1, 4]),
        right=np.array([2, 6, 10, 5, 3, 9]),
        sd=np.array([1.5, 0.8, 0.6, 2.0, 1.1, 0.7]),
    )


def _totals():
    import pytensor
    import pytensor.tensor as pt

    from casualty_models.model.graph import stretch_totals

    st = _stretches()
    before, later = st.order()
    d = {
        "st_before": pt.constant(before.astype(float)),
        "st_later": pt.constant(later.astype(float)),
        "st_owner": pt.constant(st.owner()),
        "st_scale": pt.constant(st.scale()),
    }
    line, z = pt.dvector("line"), pt.dvector("z")
    log_total, lam = stretch_totals(line, z, d)
    jac = pytensor.gradient.jacobian(lam, z)
    return st, pytensor.function([line, z], [log_total, lam, jac], mode="FAST_COMPILE")


def test_stretch_parameters_are_a_change_of_variables_with_constant_jacobian():
    st, f = _totals()
    rng = np.random.default_rng(3)
    assert np.allclose(st.scale()[[3]], st.sd[[3]])  # a curve's only stretch: line + sd z
    for _ in range(20):
        line = rng.normal(8.0, 2.0, len(st))
        z = rng.normal(0.0, 1.5, len(st))
        log_total, lam, jac = f(line, z)
        assert np.allclose(log_total, line + lam)
        # the first stretch of a curve carries the log of its curve's stretches' sum
        for c in np.unique(st.curve):
            mine = st.curve == c
            first = np.flatnonzero(mine)[0]
            ref = np.logaddexp.reduce(line[mine])
            assert np.logaddexp.reduce(log_total[mine]) == pytest.approx(
                ref + st.scale()[first] * z[first]
            )
        # the density of z is the prior's on lambda times a constant: |det| = prod(scale)
        assert abs(np.linalg.det(jac)) == pytest.approx(np.prod(st.scale()), rel=1e-9)
        assert np.allclose(st.z_of(lam, line), z, atol=1e-9)
    # all parameters at 0: every stretch on its line, as a curve's only stretch is
    assert np.allclose(f(line, np.zeros(len(st)))[1], 0.0, atol=1e-9)
