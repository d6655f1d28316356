"""The parameters of the stretches no claim looks inside (model.graph.stretch_totals):
a change of variables with a constant Jacobian, so the prior on lambda is unchanged."""

import numpy as np
import pytest

from casualty_models.model.grid import Stretches


def _stretches() -> Stretches:
    # curve 0: a head joined with the gap after it, then a gap of its own; curve 1: one
    # head; curve 2: a head joined with one gap
    return Stretches(
        curve=np.array([0, 0, 0, 1, 2, 2]),
        left=np.array([-1, 3, 7, -1, -1, 4]),
        right=np.array([2, 6, 10, 5, 3, 9]),
        sd=np.array([1.5, 0.8, 0.6, 2.0, 1.1, 0.7]),
        joined=np.array([False, True, False, False, False, True]),
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
    assert list(st.group()) == [0, 0, 1, 2, 3, 3]
    assert list(st.owner()) == [0, 0, 2, 3, 4, 4]
    alone = [2, 3]  # joined with no other: line + sd z, as before stretches were joined
    assert np.allclose(st.scale()[alone], st.sd[alone])
    for _ in range(20):
        line = rng.normal(8.0, 2.0, len(st))
        z = rng.normal(0.0, 1.5, len(st))
        log_total, lam, jac = f(line, z)
        assert np.allclose(log_total, line + lam)
        assert np.allclose(lam[alone], st.sd[alone] * z[alone])
        # the first stretch of a group carries the log of its group's sum
        for g in np.unique(st.group()):
            mine = st.group() == g
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


def test_stretches_are_joined_where_no_count_ends_between_them():
    """A head and the period of a claim that starts where it ends (Iraq 2003-2006: the
    health ministry's figure from April 2004, the tallies' from March 2003) share one
    total; stretches between counts that end (three late tallies) do not."""
    import datetime as dt

    from casualty_models.model.grid import Grid, find_stretches

    grid = Grid(dt.date(2003, 3, 20), dt.date(2006, 6, 30), 14)
    n = grid.n_days
    grid = Grid(grid.start, grid.end, 14, (0, 382, n - 30, n - 1))

    def joined(first, last):
        first, last = np.array(first), np.array(last)
        st = find_stretches(grid, np.zeros(len(first), int), first, last, last, 1, 0.1)
        return list(st.joined)

    # tallies from the start, the ministry from day 382: its start is no count's end
    assert joined([0, 382, 0], [n - 30, n - 30, n - 1]) == [False, True]
    # the same days as counts that end (tallies read on day 382 and later)
    assert joined([0, 0, 0], [382, n - 30, n - 1]) == [False, False]
