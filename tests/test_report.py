"""Reports: self-contained, escaped HTML and Markdown; atomically written plots."""

from __future__ import annotations

import dataclasses
import re

import pandas as pd
import pytest

import casualty_models as cm
from casualty_models import report
from casualty_models.claims import COLUMNS, SOURCE_TYPES

SCRIPT = "<script>alert(1)</script>"
CITATION = 'Smith & Jones, "Losses" \'22 | vol. 1'
BAD_URL = 'javascript:alert("x")'
GOOD_URL = "https://example.org/a?b=1&c=<2>"


def _malicious(est):
    """Same fit, same claims in the same order, with hostile text in them."""

    def change(i, c):
        return {
            "notes": f"{SCRIPT} note {i}",
            "citation": CITATION,
            "url": BAD_URL if i == 0 else GOOD_URL,
        }

    claims = cm.ClaimSet(
        [cm.Claim(**{**c.__dict__, **change(i, c)}) for i, c in enumerate(est.claims)]
    )
    assert len(claims) == len(est.claims)
    return dataclasses.replace(est, claims=claims)


# ------------------------------------------------------------------ no MCMC needed
def test_html_escape_and_links():
    assert report._e(SCRIPT) == "&lt;script&gt;alert(1)&lt;/script&gt;"
    assert report._e("\"&'") == "&quot;&amp;&#x27;"
    assert str(report._link(BAD_URL)) == "javascript:alert(&quot;x&quot;)"
    assert str(report._link(" HTTPS://x.org/?a=1&b=2")).startswith(
        '<a href="HTTPS://x.org/?a=1&amp;b=2" '
    )
    assert str(report._link("ftp://x.org")) == "ftp://x.org"


def test_markdown_escape():
    text = report._md(f"{SCRIPT} *bold* [l](u) a|b\nnext")
    assert "<" not in text and ">" not in text
    assert r"\*bold\*" in text and r"\[l\]" in text and r"a\|b" in text
    assert "\n" not in text
    assert report._md_url(GOOD_URL) == report._md(GOOD_URL)  # has <>: not an autolink
    assert report._md_url("https://x.org/p_q") == "<https://x.org/p_q>"
    assert report._md_url(BAD_URL) == report._md(BAD_URL)


def test_about_rounds_to_two_significant_figures():
    assert report._about(4137.2) == "4,100"
    assert report._about(12345) == "12,000"
    assert report._about(87.4) == "87"
    assert report._about(3.2) == "3"


# ------------------------------------------------------------------------------ HTML
@pytest.fixture(scope="module")
def seed_html(seed_estimate):
    return report.report_html(seed_estimate)


@pytest.mark.mcmc
def test_html_has_headline_numbers_fingerprint_and_three_images(seed_estimate, seed_html):
    html = seed_html
    assert html.startswith("<!DOCTYPE html>") and html.rstrip().endswith("</html>")
    assert seed_estimate.claims.fingerprint in html
    assert html.count("data:image/png;base64,") == 3
    for r in seed_estimate.headline().itertuples():
        assert f"{r.median:,.0f}" in html
        assert f"{r.low_90:,.0f}–{r.high_90:,.0f}" in html
    assert f"By {seed_estimate.settings.as_of}, the model puts russia killed at about " in html
    assert "(90% credible interval " in html
    assert "docs/model.md" in html and "identified only by the priors" in html
    assert cm.__version__ in html


@pytest.mark.mcmc
def test_html_is_self_contained(seed_html):
    lowered = seed_html.lower()
    for banned in ("<script", "<link", "@import", "url(", "<iframe", "<object"):
        assert banned not in lowered
    for src in re.findall(r'src="([^"]*)"', seed_html):
        assert src.startswith("data:image/png;base64,")


@pytest.mark.mcmc
def test_html_tables_cover_claims_sources_check_diagnostics_settings(seed_estimate, seed_html):
    html = seed_html
    for col in COLUMNS:
        assert f"<th>{col}</th>" in html or f"<th class=num>{col}</th>" in html
    for c in seed_estimate.claims:
        assert f'<a href="{c.url}" ' in html  # seed urls are https and need no escaping
    for src in seed_estimate.sources()["source"]:
        assert src in html
    d = seed_estimate.diagnostics
    for key in ("r_hat_max", "ess_bulk_min", "ess_tail_min", "divergences"):
        assert f"<td>{key}</td>" in html
    assert f"{d.r_hat_max:.3f}" in html
    assert d.message().replace("'", "&#x27;") in html
    assert "<td>random_seed</td>" in html
    for t in SOURCE_TYPES:
        assert f"<td>{t}</td>" in html  # the priors per source type
    assert html.count("<tr class=surprising>") == int(
        seed_estimate.claims_check()["surprising"].sum()
    )


@pytest.mark.mcmc
def test_html_escapes_all_claim_text(seed_estimate):
    html = report.report_html(_malicious(seed_estimate), title="A & <b>B</b>")
    assert "<script" not in html.lower()
    assert "&lt;script&gt;alert(1)&lt;/script&gt; note 0" in html
    assert "Smith &amp; Jones, &quot;Losses&quot; &#x27;22 | vol. 1" in html
    assert 'href="javascript' not in html.lower()
    assert "javascript:alert(&quot;x&quot;)" in html  # shown as text, not a link
    assert '<a href="https://example.org/a?b=1&amp;c=&lt;2&gt;" ' in html
    assert "<title>A &amp; &lt;b&gt;B&lt;/b&gt;</title>" in html
    assert "<b>" not in html


@pytest.mark.mcmc
def test_html_at_another_level(seed_estimate):
    html = report.report_html(seed_estimate, level=0.5)
    assert "(50% credible interval " in html and "(90% credible interval " not in html
    assert html.count("data:image/png;base64,") == 3
    with pytest.raises(ValueError, match="level"):
        report.report_html(seed_estimate, level=0)


@pytest.mark.mcmc
def test_write_report_atomically(seed_estimate, tmp_path):
    out = report.write_report(seed_estimate, tmp_path)
    assert out == tmp_path / "report.html"
    assert [p.name for p in tmp_path.iterdir()] == ["report.html"]  # no temp files left
    text = out.read_text(encoding="utf-8")
    assert seed_estimate.claims.fingerprint in text
    named = report.write_report(seed_estimate, tmp_path / "sub" / "mine.html", title="T")
    assert named.is_file() and "<h1>T</h1>" in named.read_text(encoding="utf-8")
    new_dir = report.write_report(seed_estimate, f"{tmp_path}/new/")
    assert new_dir == tmp_path / "new" / "report.html" and new_dir.is_file()


# -------------------------------------------------------------------------- Markdown
@pytest.mark.mcmc
def test_markdown_report(seed_estimate):
    bad = _malicious(seed_estimate)
    md = report.report_markdown(bad)
    assert md.startswith("# Casualty estimates as of ")
    assert "<script" not in md.lower()
    assert "&lt;script&gt;alert(1)&lt;/script&gt; note 0" in md
    assert 'Smith &amp; Jones, "Losses" \'22 \\| vol. 1' in md
    assert bad.claims.fingerprint in md
    for r in seed_estimate.headline().itertuples():
        assert f"{r.median:,.0f}" in md
    # every claims-table row keeps its column count despite the "|" in the citation
    start = r"| \# | source | source\_type |"
    header = next(line for line in md.splitlines() if line.startswith(start))
    n_cols = len(re.split(r"(?<!\\)\|", header))
    rows = [line for line in md.splitlines() if "note " in line]
    assert len(rows) == len(seed_estimate.claims)
    assert all(len(re.split(r"(?<!\\)\|", line)) == n_cols for line in rows)
    assert "identified only by the priors" in md


@pytest.mark.mcmc
def test_report_says_when_a_curve_is_extrapolated(seed_estimate):
    # the seed's only Ukrainian claim is of 2 March; the headline date is 11 March
    head = seed_estimate.headline().set_index("side")
    assert head.loc["ukraine", "last_claim"] == pd.Timestamp("2022-03-02")
    md = report.report_markdown(seed_estimate)
    said = "The latest claim on this curve is from 2022-03-02, 9 days earlier"
    assert md.count(said) == 1
    assert md.count("The latest claim on this curve") == 1  # not for Russia's curve
    ukraine = next(line for line in md.splitlines() if said in line)
    assert "ukraine killed" in ukraine


# ------------------------------------------------------------------------- save_plots
@pytest.mark.mcmc
def test_save_plots_writes_three_pngs(seed_estimate, tmp_path):
    paths = report.save_plots(seed_estimate, tmp_path / "plots")
    assert [p.name for p in paths] == ["claims.png", "timeline.png", "sources.png"]
    assert sorted(p.name for p in (tmp_path / "plots").iterdir()) == sorted(p.name for p in paths)
    for p in paths:
        data = p.read_bytes()
        assert data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) > 10_000


@pytest.mark.mcmc
def test_html_is_reproducible(seed_estimate, seed_html):
    assert report.report_html(seed_estimate) == seed_html


def test_report_shows_a_failed_model_check_the_priors_and_the_drift(tmp_path):
    """No MCMC: an estimate whose draws expect four of the six one-off claims at 10x or
    1/10 of what they say, with a running tally that drifts to x0.5."""
    import datetime as dt

    import numpy as np
    from conftest import offline_estimate

    start = dt.date(2022, 2, 24)
    tally = [
        cm.Claim(
            source="D",
            source_type="enemy",
            side="a",
            category="killed",
            as_of=start + dt.timedelta(days=20 + d),
            period_start=start,
            value=100.0 * (d + 1),
            citation="test",
        )
        for d in range(30)
    ]
    others = [
        cm.Claim(
            source=f"S{k}",
            source_type="neutral",
            side="a",
            category="killed",
            as_of=start + dt.timedelta(days=10 + k),
            period_start=start,
            value=900.0 + k,
            citation="test",
        )
        for k in range(6)
    ]
    claims = cm.ClaimSet([*tally, *others])
    shift = np.ones(len(claims))
    shift[30:34] = [10.0, 0.1, 10.0, 0.1]
    est = offline_estimate(claims, loc_shift=shift, drift=np.log(0.5), start=start)
    d = est.diagnostics
    assert not d.model_ok
    page = report.report_html(est)
    assert "The model cannot explain the claims as given (model check failed)" in page
    assert "Bias priors: war-military (the package defaults)" in page
    assert 'alt="Drift of running tallies"' in page
    written = report.save_plots(est, tmp_path)
    assert [p.name for p in written] == ["claims.png", "timeline.png", "sources.png", "drift.png"]
    md = report.report_markdown(est)
    assert "model check failed" in md and "war-military" in md
