"""Do the priors decide the answer? Power-scaling sensitivity from the draws (issue 29).

Most tests run in milliseconds on hand-made draws; two real fits (marked mcmc) check the
verdict where the answer is known: one enemy claim (the priors decide) and a series
pinned by known counts (the claims decide).
"""

from __future__ import annotations

import datetime as dt
import json
import math

import numpy as np
import pytest
from scipy import stats

import casualty_models as cm
from casualty_models.model import prepare
from casualty_models.model.priors_file import PRESETS
from casualty_models.sensitivity import (
    CONFLICT,
    FINE,
    PRIOR_DOMINATES,
    bias_log_prior,
    defaults_note,
    priors_sentence,
    verdict,
    war_vocabulary,
)
from tests.conftest import claim, offline_estimate


def test_bias_log_prior_is_the_marginal_prior_of_each_source_types_biases():
    claims = cm.ClaimSet(
        [
            claim(source="A", source_type="own", value=100),
            claim(source="B", source_type="own", value=150),
            claim(source="L", source_type="tally", value=40),
            claim(source="K", source_type="known", value=120),
        ]
    )
    inp = prepare(claims, start=dt.date(2022, 2, 24), end=dt.date(2022, 3, 10), priors=cm.Priors())
    rng = np.random.default_rng(0)
    order = [s for s, _ in inp.speakers]
    bias = rng.normal(-0.5, 0.5, size=(7, len(order)))
    bias[:, order.index("L")] = np.log([0.2, 0.5, 0.9, 0.99, 0.3, 0.6, 0.1])
    got = bias_log_prior(inp, bias)
    assert set(got) == {"own", "tally"}  # a known count's bias is fixed: no density
    own = cm.Priors().for_type("own")
    # two own speakers about one side share an offset: one bivariate normal
    cov = np.full((2, 2), own.group_sigma**2) + np.eye(2) * own.bias_sigma**2
    cols = [order.index("A"), order.index("B")]
    expected = stats.multivariate_normal(mean=[own.bias_mu] * 2, cov=cov).logpdf(bias[:, cols])
    np.testing.assert_allclose(got["own"], expected, rtol=1e-9)
    tally = cm.Priors().for_type("tally")
    np.testing.assert_allclose(
        got["tally"], tally.log_dist().logpdf(bias[:, order.index("L")]), rtol=1e-12
    )


@pytest.mark.parametrize(
    ("prior", "likelihood", "expected"),
    [(0.2, 0.01, PRIOR_DOMINATES), (0.2, 0.2, CONFLICT), (0.01, 0.3, FINE), (0.0, 0.0, FINE)],
)
def test_verdict_follows_the_methods_thresholds(prior, likelihood, expected):
    assert verdict(prior, likelihood) == expected


def test_prior_sensitivity_table_json_and_diagnostics_on_hand_made_draws():
    claims = cm.ClaimSet(
        [claim(source="A", source_type="enemy", value=1000), claim(source="N", value=300)]
    )
    est = offline_estimate(claims)
    table = est.prior_sensitivity()
    assert list(table["kind"]) == ["headline", "bias", "bias"]
    assert set(table["verdict"]) <= {FINE, PRIOR_DOMINATES, CONFLICT}
    assert {"prior_enemy", "prior_neutral"} <= set(table.columns)
    assert (table[["prior", "likelihood"]] >= 0).all().all()
    doc = json.loads(est.to_json())
    section = doc["prior_sensitivity"]
    assert section["threshold"] == 0.05
    assert [h["side"] for h in section["headline"]] == ["a"]
    assert {s["source"] for s in section["sources"]} == {"A", "N"}
    notes = est.diagnostics.priors_decide
    assert doc["diagnostics"]["priors_decide"] == list(notes)
    head = table.iloc[0]
    assert (len(notes) == 1) == (head["verdict"] != FINE)


def test_the_sentence_names_the_types_and_the_remedies():
    import pandas as pd

    table = pd.DataFrame(
        [
            {"kind": "headline", "side": "ukraine", "category": "killed"}
            | {"verdict": PRIOR_DOMINATES, "priors_deciding": "enemy"},
            {"kind": "headline", "side": "russia", "category": "killed"}
            | {"verdict": FINE, "priors_deciding": ""},
        ]
    )
    text = priors_sentence(table)
    assert text is not None
    assert text.startswith("The `enemy` bias prior, not the claims, decides ukraine killed:")
    assert "russia" not in text
    for remedy in ("--priors", "--trust", "anchor claim"):
        assert remedy in text
    table.loc[0, "verdict"] = FINE
    assert priors_sentence(table) is None


def test_defaults_for_wars_are_named_when_the_claims_are_not_a_wars(seed_claims):
    covid = cm.read_claims("seeds/examples/covid_uk.csv")
    assert war_vocabulary(seed_claims) and not war_vocabulary(covid)
    note = defaults_note(covid, cm.Priors())
    assert note is not None and "made for soldiers killed in a war" in note
    assert "epidemic (" in note and "--priors" in note
    assert defaults_note(covid, PRESETS["epidemic"]) is None  # a preset was chosen
    assert defaults_note(seed_claims, cm.Priors()) is None  # a war: the defaults fit


# ------------------------------------------------------------------ real fits


@pytest.mark.mcmc
def test_one_enemy_claim_is_decided_by_the_enemy_prior(seed_estimate):
    """The seed's Ukrainian series has one claim, Russia's about Ukrainian dead: its
    level is the enemy bias prior's, and the diagnostic must say so."""
    table = seed_estimate.prior_sensitivity()
    ukraine = table[(table["kind"] == "headline") & (table["side"] == "ukraine")].iloc[0]
    assert ukraine["verdict"] == PRIOR_DOMINATES
    assert ukraine["priors_deciding"].split(", ")[0] == "enemy"
    assert ukraine["prior_enemy"] > 0.05 > ukraine["likelihood"]
    assert any(
        n.startswith("ukraine killed: prior dominates")
        for n in seed_estimate.diagnostics.priors_decide
    )
    assert "`enemy`" in (priors_sentence(table) or "")


@pytest.mark.mcmc
def test_a_series_pinned_by_known_counts_is_decided_by_the_claims():
    """Known counts on five dates (simulated, a steady 40 a day) and one enemy claim:
    the claims pin the level, so the headline moves with them and not with the priors."""
    start = dt.date(2022, 1, 1)
    rows = [
        claim(
            source=f"Registry {k}",
            source_type="known",
            as_of=start + dt.timedelta(days=d),
            period_start=start,
            value=round(40 * (d + 1)),
        )
        for k, d in enumerate((9, 19, 29, 39, 49))
    ]
    rows.append(
        claim(
            source="E",
            source_type="enemy",
            as_of=start + dt.timedelta(days=49),
            period_start=start,
            value=5000,
        )
    )
    est = cm.fit(cm.ClaimSet(rows), start=start, random_seed=3)
    table = est.prior_sensitivity()
    head = table[table["kind"] == "headline"].iloc[0]
    assert head["verdict"] == FINE
    assert head["prior"] < 0.05 <= head["likelihood"]
    assert est.diagnostics.priors_decide == ()
    median = float(est.headline()["median"].iloc[0])
    assert math.isclose(median, 2000, rel_tol=0.1)


# ------------------------------------------------------------------ command line


def test_priors_list_prints_each_preset_with_when_to_use_it(capsys):
    from casualty_models.cli import main
    from casualty_models.model.priors_file import preset_info

    assert main(["priors", "--list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    for name, about in preset_info().items():
        line = next(x for x in lines if x.split()[0] == name)
        assert line.endswith(about.for_)
    assert lines[0].startswith("war-military ") and "(the defaults)" in lines[0]
    assert any(x.startswith("epidemic ") for x in lines)


def test_summary_names_the_preset_the_priors_verdict_and_the_defaults_note(tmp_path, capsys):
    from dataclasses import replace

    from casualty_models.cli.fit_and_write import print_summary

    covid = cm.ClaimSet(
        [
            claim(source="Ministry", source_type="tally", category="deaths", value=1000),
            claim(
                source="Statistics office", source_type="independent", category="deaths", value=2500
            ),
        ]
    )
    est = offline_estimate(covid)
    print_summary(est, tmp_path)
    out = capsys.readouterr().out
    first = out.splitlines()[0]
    assert "bias priors war-military (the package defaults)" in first
    assert "\nPriors: " in out
    assert "made for soldiers killed in a war" in out and "--priors" in out
    epi = replace(est, settings=replace(est.settings, priors=PRESETS["epidemic"]))
    print_summary(epi, tmp_path)
    out = capsys.readouterr().out
    assert "bias priors epidemic:" in out.splitlines()[0]
    assert "made for soldiers" not in out


def test_report_first_screen_says_whether_the_priors_decide(monkeypatch):
    """The sentence sits in the summary section, escaped like every claim-derived text."""
    import html

    from casualty_models import report
    from casualty_models.sensitivity import priors_sentence as real_sentence

    side = "<b>ukraine</b> & co"
    est = offline_estimate(
        cm.ClaimSet([claim(source="E", source_type="enemy", side=side, value=1000)])
    )
    sentence = real_sentence(est.prior_sensitivity())
    doc = report.build_document(est, with_figures=False)
    texts: list[str] = []

    def walk(block: object) -> None:
        texts.append(getattr(block, "text", ""))
        for child in getattr(block, "blocks", ()) or ():
            walk(child)

    walk(doc.sections[0])  # the summary: the report's first screen
    expected = sentence or "The claims, not the bias priors, decide every headline"
    assert any(t.startswith(expected) for t in texts)
    from casualty_models.report import html as report_html

    page = report_html.render(doc)
    assert side not in page  # never raw
    if sentence:
        assert html.escape(sentence, quote=False) in page or html.escape(sentence) in page
