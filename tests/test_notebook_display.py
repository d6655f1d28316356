"""Rich display in Jupyter (issue 30): Estimate, ClaimSet and Comparison as escaped HTML.

On offline estimates (no sampling), so each test takes well under a second or so; the
executed notebooks check the same displays on real fits (tools/run_notebooks.py).
"""

from __future__ import annotations

import dataclasses
import re

import pytest
from conftest import claim, offline_estimate

import casualty_models as cm
from casualty_models.report import notebook

EVIL = '<script>alert("x")</script>'


def _text(html: str) -> str:
    """The page's words, tags dropped (entities left as they are)."""
    html = re.sub(r"<style>.*?</style>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


@pytest.fixture(scope="module")
def claims():
    return cm.ClaimSet(
        [
            claim(source=EVIL, value=1000, as_of="2022-03-10", period_start="2022-02-24"),
            claim(
                source="Own MoD",
                source_type="own",
                value=300,
                as_of="2022-03-12",
                period_start="2022-02-24",
                citation=f"a citation {EVIL}",
            ),
            claim(source="Own MoD", source_type="own", side="b", low=2000, as_of="2022-03-12"),
            claim(
                source="Other",
                source_type="enemy",
                value=5000,
                as_of="2022-03-12",
                period_start="2022-02-24",
            ),
        ],
        origin="claims.csv",
    )


@pytest.fixture(scope="module")
def estimate(claims):
    return offline_estimate(claims)


def test_a_claim_set_shows_its_counts_dates_and_sources_escaped(claims):
    html = claims._repr_html_()
    assert html.startswith('<div class="cm-repr cm-claims">')
    assert "<script>" not in html and "&lt;script&gt;alert(&quot;x&quot;)" in html
    text = _text(html)
    assert "ClaimSet: 4 claims" in text and "from claims.csv" in text
    # one row per series, one column per source type present, and the total
    assert "side category own enemy neutral claims a killed 1 1 1 3 b killed 1 1 " in text
    assert "Dates: as of 2022-03-10 to 2022-03-12." in text
    assert "Figures: 3 point, 1 floor." in text
    assert "Own MoD (2)" in text


def test_a_claim_sets_validation_notes_are_shown():
    two = cm.ClaimSet(
        [
            claim(source="M", value=9000, citation="outlet A"),
            claim(source="M", value=9100, citation="outlet B"),
        ]
    )
    (note,) = two.notes()
    html = two._repr_html_()
    assert "class=note" in html and "read together as one statement" in html
    assert note.split(":")[0].replace("'", "&#x27;") in html


def test_an_estimate_shows_headline_sentences_badge_and_figure(estimate):
    html = estimate._repr_html_()
    assert html.startswith('<div class="cm-repr cm-estimate">')
    assert "<script>" not in html
    text = _text(html)
    assert f"Estimate as of {estimate.settings.as_of}" in text
    head = estimate.headline()
    a = head[(head["side"] == "a") & (head["category"] == "killed")].iloc[0]
    assert f"{a['median']:,.0f}" in text  # the headline table
    assert f"By {estimate.settings.as_of}, the model puts a killed at about" in text
    assert re.search(r'class="cm-badge cm-badge-(ok|sampler|model-check)"', html)
    assert html.count('<img src="data:image/png;base64,') == 1  # the small multiples


def test_the_badge_names_the_failed_check_and_its_first_remedy(estimate):
    d = estimate.diagnostics
    bad = dataclasses.replace(d, r_hat_max=1.2, divergences=7)
    est = dataclasses.replace(estimate)
    est.__dict__["diagnostics"] = bad
    b = notebook.badge(est)
    assert b.state == "sampler" and "7 divergent transitions" in b.text
    assert b.remedy == bad.remedies()[0] and "target_accept" in b.remedy
    html = notebook.estimate_html(est, with_figure=False)
    assert 'class="cm-badge cm-badge-sampler"' in html and "First remedy: raise" in html
    checked = dataclasses.replace(d, claims_checked=4, claims_implausible=3)
    est.__dict__["diagnostics"] = checked
    b = notebook.badge(est)
    assert b.state == "model check" and "3 of 4 claims" in b.text
    assert "claims_check()" in b.remedy


def _shifted(est, factor):
    """The estimate with every curve ``factor`` times higher (as in test_compare)."""
    import math

    idata = est.idata.copy()
    idata.posterior["log_rate"] = idata.posterior["log_rate"] + math.log(factor)
    return cm.Estimate(claims=est.claims, settings=est.settings, idata=idata)


def test_a_comparison_shows_before_and_after_the_parts_and_the_drivers(claims, estimate):
    new_claims = claims.add(
        claim(source="N", value=1600, as_of="2022-03-12", period_start="2022-02-24")
    )
    new = _shifted(offline_estimate(new_claims), 1.2)
    comp = new.compare(estimate)
    html = comp._repr_html_()
    assert html.startswith('<div class="cm-repr cm-comparison">')
    assert "<script>" not in html
    text = _text(html)
    assert "What changed since the estimate as of" in text
    for sentence in comp.sentences():
        assert (
            _text(
                notebook._render(
                    "notebook.html.j2", what="x", title="", meta="", sentences=[sentence]
                )
            ).strip()
            in text
        )
    assert "The changed claims that moved each headline most" in text
    assert "the N figure of 2022-03-12" in text
