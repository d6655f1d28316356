"""Linked categories, running tallies and anchors: the plan and the graph, no sampling."""

from __future__ import annotations

import datetime as dt
import math
import warnings

import numpy as np
import pytest
from conftest import claim as _claim

import casualty_models as cm
from casualty_models.model import DecreasingTallyWarning, build_model, prepare
from casualty_models.model.categories import UnlinkedCategoryWarning, plan

START = dt.date(2022, 2, 24)
END = dt.date(2022, 6, 30)


def test_casualties_and_killed_share_one_curve_and_killed_is_always_reported():
    p = plan([("a", "casualties"), ("b", "killed"), ("a", "wounded")])
    assert p.bases == [("a", "killed"), ("b", "killed")]
    assert p.series == [("a", "casualties"), ("b", "killed"), ("a", "wounded"), ("a", "killed")]
    assert p.ratios == [("a", "wounded")]
    assert p.series_base == [0, 1, 0, 0]
    assert p.series_ratio == [0, -1, 0, -1]
    assert p.series_add_one == [True, False, False, False]


def test_free_labels_get_their_own_curve_silently():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        p = plan([("region", "deaths"), ("region", "cases")])
    assert p.bases == [("region", "deaths"), ("region", "cases")]
    assert p.ratios == []


def test_unmappable_category_on_a_linked_side_is_announced():
    with pytest.warns(UnlinkedCategoryWarning, match=r"\('a', 'deserted'\)"):
        p = plan([("a", "killed"), ("a", "deserted")])
    assert p.bases == [("a", "killed"), ("a", "deserted")]


def test_linking_can_be_turned_off():
    p = plan([("a", "killed"), ("a", "casualties")], link=False)
    assert p.bases == [("a", "killed"), ("a", "casualties")]


def test_casualties_claim_informs_killed_through_the_ratio_prior():
    claims = cm.ClaimSet([_claim(category="casualties", value=4000, period_start=START)])
    inp = prepare(claims, start=START, end=dt.date(2022, 3, 10), priors=cm.Priors())
    assert inp.series == [("a", "casualties"), ("a", "killed")]
    # the default level centre divides the casualties figure by 1 + 3 (wounded per killed)
    days = (dt.date(2022, 3, 10) - START).days + 1
    assert inp.level_mu[0] == pytest.approx(math.log(4000 / days / 4))
    model = build_model(inp)
    assert "ratio_z" in {v.name for v in model.free_RVs}


def _daily(source, n, start_day=0, source_type="enemy"):
    return [
        _claim(
            source=source,
            source_type=source_type,
            value=100.0 * (d + 1),
            as_of=START + dt.timedelta(days=d),
            period_start=START,
        )
        for d in range(start_day, start_day + n)
    ]


def test_a_running_tally_is_a_chain_of_one_series_and_window():
    """20 claims from one speaker spread over categories and windows are not a tally."""
    mixed = [
        _claim(source="M", value=100.0 + d, as_of=START + dt.timedelta(days=d), category=cat)
        for d in range(12)
        for cat in ("killed", "wounded")
    ]
    inp = prepare(cm.ClaimSet(mixed), start=START, end=END, priors=cm.Priors())
    assert inp.running == [] and not inp.claim_running.any()
    assert len(inp.increments) == 0 and inp.claim_observed.all()


def _logp_difference(original, restated):
    """log p(restated) - log p(original) at random points of the (same) parameter space."""
    models = [
        build_model(prepare(cm.ClaimSet(c), start=START, end=END, priors=cm.Priors()))
        for c in (original, restated)
    ]
    fns = [m.compile_logp() for m in models]
    rng = np.random.default_rng(2)
    out = []
    for _ in range(5):
        point = {
            k: v + rng.normal(scale=0.5, size=np.shape(v))
            for k, v in models[0].initial_point().items()
        }
        out.append(fns[1](point) - fns[0](point))
    return np.array(out)


def test_restating_a_source_claims_adds_no_information():
    """Every claim published twice (a later ``reported`` date): the same posterior."""
    claims = [
        *_daily("Daily", 25),
        _claim(source="N", value=900, period_start=START),
        _claim(source="O", source_type="own", value=300, period_start=START),
    ]
    later = dt.date(2022, 7, 1)
    again = [cm.Claim(**{**c.__dict__, "reported": later}) for c in claims]
    # the log density changes by a constant, so the posterior is exactly the same
    diff = _logp_difference(claims, claims + again)
    assert np.ptp(diff) < 1e-8
    # whereas a one-off source's figure for another day is new evidence
    day = dt.date(2022, 3, 11)
    next_day = cm.Claim(**{**claims[25].__dict__, "as_of": day, "reported": day})
    assert np.ptp(_logp_difference(claims, [*claims, next_day])) > 1e-3


def test_known_anchor_has_a_fixed_bias_and_no_parameter():
    claims = cm.ClaimSet(
        [
            _claim(source="Truth", source_type="known", value=500, period_start=START),
            _claim(source="N", value=900, period_start=START),
        ]
    )
    inp = prepare(claims, start=START, end=dt.date(2022, 3, 10), priors=cm.Priors())
    assert inp.speaker_priors[0].fixed and inp.speaker_priors[0].factor_interval() == (1, 1, 1)
    model = build_model(inp)
    assert model["bias_z"].type.shape == (1,)  # only the neutral source has a free bias


def test_decreasing_running_tally_warns_but_one_off_revisions_do_not():
    claims = _daily("Daily", 25)
    claims[10] = cm.Claim(**{**claims[10].__dict__, "value": 950.0})  # was 1,100: a fall
    revised = [
        _claim(source="N", value=900, as_of=dt.date(2022, 3, 1), period_start=START),
        _claim(source="N", value=700, as_of=dt.date(2022, 3, 9), period_start=START),
    ]
    with pytest.warns(
        DecreasingTallyWarning,
        match=r"Daily killed 1,000 on 2022-03-05 -> 950 on 2022-03-06 \(<claims>, row 11\)",
    ) as caught:
        prepare(cm.ClaimSet([*claims, *revised]), start=START, end=END, priors=cm.Priors())
    assert len(caught) == 1 and "N killed" not in str(caught[0].message)


def test_ratio_priors_are_validated_and_round_trip():
    with pytest.raises(ValueError, match="unknown ratios"):
        cm.Priors(ratios={"deserted": (1.0, 1.0)})
    with pytest.raises(ValueError, match="median > 0"):
        cm.Priors(ratios={"wounded": (0.0, 1.0)})
    pri = cm.Priors(ratios={"wounded": (5.0, 0.3)})
    assert pri.ratios["wounded"] == (5.0, 0.3) and pri.ratios["missing"] == (0.2, 1.0)
    assert cm.Priors.from_dict(pri.to_dict()) == pri


def test_captured_has_its_own_curve_without_a_warning():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        p = plan([("a", "killed"), ("a", "captured")])
    assert p.bases == [("a", "killed"), ("a", "captured")]
    assert p.ratios == []
