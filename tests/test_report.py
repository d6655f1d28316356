"""Reports: self-contained, escaped HTML and Markdown; atomically written plots."""

from __future__ import annotations

import dataclasses
import datetime as dt
import html
import importlib.resources
import re
from html.parser import HTMLParser

import numpy as np
import pandas as pd
import pytest
from conftest import without_our_script

import casualty_models as cm
from casualty_models import _format as fmt
from casualty_models import report
from casualty_models.claims import COLUMNS, SOURCE_TYPES
from casualty_models.report import html as report_html
from casualty_models.report import markdown as report_markdown

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
    assert "<script>" in seed_html  # the explorable figure's, inline
    lowered = without_our_script(seed_html).lower()
    for banned in ("<script", "<link", "@import", "<iframe", "<object"):
        assert banned not in lowered
    assert not re.search(r"url\((?!#)", lowered)  # the figure's SVG refers to itself only
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
    assert "<script" not in without_our_script(html).lower()
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
    assert [p.name for p in paths] == ["panels.png", "claims.png", "timeline.png", "sources.png"]
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
    assert [p.name for p in written] == [
        "panels.png",
        "claims.png",
        "timeline.png",
        "sources.png",
        "drift.png",
    ]
    md = report.report_markdown(est)
    assert "model check failed" in md and "war-military" in md


def test_plot_files_and_report_share_their_drawings_within_shared_renders(tmp_path, monkeypatch):
    """The command line writes the plot files and then the report: inside
    ``shared_renders`` each plot is drawn once and the report embeds the files' bytes;
    outside it nothing is kept, so a changed style is always drawn afresh."""
    import base64

    from conftest import offline_estimate

    from casualty_models.report import figures

    start = dt.date(2022, 2, 24)
    claims = cm.ClaimSet(
        [
            cm.Claim(
                source=f"S{k}",
                source_type=t,
                side=side,
                category="killed",
                as_of=start + dt.timedelta(days=10 + k),
                period_start=start,
                value=900.0 + 100 * k,
                citation="test",
            )
            for k, (t, side) in enumerate(
                [("neutral", "a"), ("enemy", "a"), ("own", "b"), ("neutral", "b")]
            )
        ]
    )
    est = offline_estimate(claims, start=start)
    drawn: list[str] = []
    draw = figures._draw
    monkeypatch.setattr(
        figures, "_draw", lambda kind, *a, **k: drawn.append(kind) or draw(kind, *a, **k)
    )
    with figures.shared_renders():
        files = report.save_plots(est, tmp_path)
        page = report.report_html(est)
    assert sorted(drawn) == sorted(p.stem for p in files)  # panels, claims, timeline, sources
    embedded = set(re.findall(r"data:image/png;base64,([A-Za-z0-9+/=]+)", page))
    from_files = {base64.b64encode(p.read_bytes()).decode("ascii") for p in files}
    assert len(embedded) == 3 and embedded <= from_files  # panels, claims, sources

    drawn.clear()
    report.report_html(est)
    report.report_html(est)
    assert sorted(drawn) == sorted(["panels", "claims", "sources"] * 2)


# ------------------------------------------------------------- the document, no MCMC
START = dt.date(2022, 2, 24)
LATE = dt.date(2022, 9, 1)  # 175 days after the last "captured" claim: past the horizon
VOID = {"img", "meta", "br", "hr", "input", "link"}


class _Page(HTMLParser):
    """The tables of an HTML page (with the ids of the elements around each) and the
    text inside each element that has an id."""

    def __init__(self, page: str):
        super().__init__(convert_charrefs=True)
        self.stack: list[tuple[str, str]] = []
        self.tables: list[dict] = []
        self.text: dict[str, list[str]] = {}
        self._cell: list[str] | None = None
        self._in_body = False
        self.feed(page)

    def handle_starttag(self, tag, attrs):
        ident = dict(attrs).get("id") or ""
        if tag not in VOID:
            self.stack.append((tag, ident))
        if tag == "table":
            within = [i for _, i in self.stack if i]
            self.tables.append({"id": ident, "within": within, "headers": [], "rows": []})
        elif tag == "tbody":
            self._in_body = True
        elif tag == "tr" and self._in_body:
            self.tables[-1]["rows"].append([])
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            text = " ".join("".join(self._cell).split())
            table = self.tables[-1]
            (table["headers"] if tag == "th" else table["rows"][-1]).append(text)
            self._cell = None
        elif tag == "tbody":
            self._in_body = False
        while self.stack:
            if self.stack.pop()[0] == tag:
                break

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)
        for _, ident in self.stack:
            if ident:
                self.text.setdefault(ident, []).append(data)

    def inside(self, ident: str) -> str:
        return " ".join("".join(self.text.get(ident, [])).split())


def _md_tables(md: str) -> list[dict]:
    """Headers and rows of every Markdown table, cells unescaped."""

    def cells(line: str) -> list[str]:
        parts = re.split(r"(?<!\\)\|", line.strip())[1:-1]
        out = []
        for p in parts:
            p = re.sub(r"\\(.)", r"\1", p.strip())
            p = re.sub(r"^<(https?://[^>]*)>$", r"\1", p)
            out.append(html.unescape(p))
        return out

    tables, lines = [], md.splitlines()
    for k, line in enumerate(lines):
        if line.startswith("|") and k + 1 < len(lines) and re.match(r"^\|(-+:?\|)+$", lines[k + 1]):
            rows = []
            for row in lines[k + 2 :]:
                if not row.startswith("|"):
                    break
                rows.append(cells(row))
            tables.append({"headers": cells(line), "rows": rows})
    return tables


def _cells(t) -> tuple[list[str], list[list[str]]]:
    """A document table's headers and rows as the text a reader sees."""

    def text(v) -> str:
        return " ".join(str(v).split())

    return [text(h) for h in t.headers], [[text(v) for v in row] for row in t.rows]


def _hostile_estimate(origin: str = "<claims>", **kw):
    """Offline: a 30-figure running tally, six one-off claims (four far off the model),
    all with hostile citations, notes and source names; a series past its horizon."""
    from conftest import offline_estimate

    tally = [
        cm.Claim(
            source="D <i>",
            source_type="enemy",
            side="a",
            category="killed",
            as_of=START + dt.timedelta(days=20 + d),
            period_start=START,
            value=100.0 * (d + 1),
            citation=CITATION,
            notes=f"{SCRIPT} note {d}",
            url=GOOD_URL,
        )
        for d in range(30)
    ]
    others = [
        cm.Claim(
            source=f"S{k} | *x*",
            source_type="neutral",
            side="a",
            category="killed",
            as_of=START + dt.timedelta(days=10 + k),
            period_start=START,
            value=900.0 + k,
            citation=CITATION,
            notes=f"{SCRIPT} note {30 + k}",
            url=BAD_URL if k == 0 else GOOD_URL,
        )
        for k in range(6)
    ]
    captured = cm.Claim(
        source="S0 | *x*",
        source_type="neutral",
        side="a",
        category="captured",
        as_of=dt.date(2022, 3, 10),
        period_start=START,
        value=300.0,
        citation="test",
    )
    late = cm.Claim(
        source="S9",
        source_type="neutral",
        side="a",
        category="killed",
        as_of=LATE,
        period_start=START,
        value=9000.0,
        citation="test",
    )
    claims = cm.ClaimSet([*tally, *others, captured, late], origin=origin)
    shift = np.ones(len(claims))
    shift[30:34] = [10.0, 0.1, 10.0, 0.1]
    est = offline_estimate(claims, loc_shift=shift, start=START, **kw)
    # captured ×1000, so that none of its numbers can pass for one of killed's
    factor = est.idata.posterior["log_factor"]
    factor.values[..., list(factor.coords["series"].values).index("a|captured")] += np.log(1e3)
    return est


@pytest.fixture(scope="module")
def hostile():
    return _hostile_estimate()


@pytest.fixture(scope="module")
def hostile_doc(hostile):
    return report.build_document(hostile, series=["a|killed", "a|captured"], with_figures=False)


def test_template_ships_with_the_package():
    files = importlib.resources.files("casualty_models.report") / "templates"
    assert (files / "report.html.j2").is_file() and (files / "macros.html.j2").is_file()


def test_html_escapes_citations_notes_sources_and_links_only_web_urls(hostile_doc):
    page = report_html.render(hostile_doc)
    assert "<script" not in page.lower() and "<i>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt; note 31" in page
    assert "Smith &amp; Jones, &quot;Losses&quot; &#x27;22 | vol. 1" in page
    assert "D &lt;i&gt;" in page
    assert 'href="javascript' not in page.lower()
    assert "javascript:alert(&quot;x&quot;)" in page
    assert page.count('<a href="https://example.org/a?b=1&amp;c=&lt;2&gt;" ') == 35
    assert page.count("<a ") == 35  # nothing else becomes a link
    md = report_markdown.render(hostile_doc)
    assert "<script" not in md.lower() and "<i>" not in md
    assert r"S0 \| \*x\*" in md and r"Smith &amp; Jones, \"Losses\"" not in md


def test_markdown_and_html_carry_the_same_tables(hostile_doc):
    wanted = [_cells(t) for t in hostile_doc.tables()]
    assert len(wanted) >= 8
    page = _Page(report_html.render(hostile_doc))
    assert [(t["headers"], t["rows"]) for t in page.tables] == wanted
    md = _md_tables(report_markdown.render(hostile_doc))
    assert [(t["headers"], t["rows"]) for t in md] == wanted


def test_claims_table_has_one_row_per_claim(hostile, hostile_doc):
    page = _Page(report_html.render(hostile_doc))
    (claims,) = [t for t in page.tables if t["id"] == "claims-table"]
    assert len(claims["rows"]) == len(hostile.claims)
    assert [r[0] for r in claims["rows"]] == [str(i + 1) for i in range(len(hostile.claims))]


def test_summary_shows_only_estimable_series(hostile, hostile_doc):
    head = hostile.headline().set_index("category")
    assert head.loc["killed", "estimable"] and not head.loc["captured", "estimable"]
    page = _Page(report_html.render(hostile_doc))
    (top,) = [t for t in page.tables if "summary" in t["within"]]
    assert [(r[0], r[1]) for r in top["rows"]] == [("a", "killed")]
    summary = page.inside("summary")
    assert "a captured is not estimable since 2022-06-08" in summary
    # neither the prior's number on the as-of date nor any other of the series
    captured = head.loc["captured"]
    last = hostile.summary(dates=[dt.date(2022, 3, 10)]).set_index("category").loc["captured"]
    for x in (captured["median"], captured["low_90"], captured["high_90"], last["median"]):
        assert fmt.people(x) not in summary and fmt.about(x) not in summary
    assert fmt.about(head.loc["killed", "median"]) in summary
    # the appendix gives the estimate as of the last claim, not the prior's
    (every,) = [t for t in page.tables if "all-series" in t["within"]]
    row = next(r for r in every["rows"] if r[1] == "captured")
    assert row[2] == "2022-03-10" and row[3] == fmt.people(last["median"])
    assert row[-1].startswith("not estimable since 2022-06-08")
    assert fmt.people(captured["median"]) not in row
    # by default the headline is every side's killed: captured is not named on top
    default = _Page(report_html.render(report.build_document(hostile, with_figures=False)))
    assert "captured" not in default.inside("summary")
    md = report_markdown.render(hostile_doc)
    assert md.count("a captured is not estimable since 2022-06-08") == 1


def test_series_argument(hostile):
    doc = report.build_document(hostile, series=("a", "captured"), with_figures=False)
    assert doc.summary.blocks[-1].blocks[0].text.startswith("a captured is not estimable")
    with pytest.raises(ValueError, match="no series a\\|wounded"):
        report.build_document(hostile, series="a|wounded", with_figures=False)
    with pytest.raises(ValueError, match="side\\|category"):
        report.build_document(hostile, series="killed", with_figures=False)


def test_collapsible_sections_and_folded_running_tally(hostile, hostile_doc):
    page = report_html.render(hostile_doc)
    ids = ["sources", "claims-check", "all-series", "claims", "diagnostics", "settings"]
    for ident in ids:
        assert f'<details id="{ident}"><summary><h2>' in page
    assert page.index('<section id="summary">') < page.index("<details")
    assert "<details" not in page[: page.index("</section>")]
    collapsible = [b for b in hostile_doc.walk() if getattr(b, "collapsible", False)]
    assert page.count("<details") == len(collapsible) == len(ids) + 1
    # the tally's 30 figures: folded under one expand control, surprising claims on top
    check = hostile_doc.section("claims-check")
    (run,) = [b for b in check.blocks if getattr(b, "collapsible", False)]
    assert run.title.startswith("D <i> (enemy) on a killed: 30 figures, 100 on 2022-03-16")
    (folded,) = run.blocks
    assert len(folded.rows) == 30
    main = next(b for b in check.blocks if getattr(b, "headers", None))
    p = [float(r[8]) for r in main.rows]
    flagged = [r[9] == "yes" for r in main.rows]
    assert flagged == sorted(flagged, reverse=True) and sum(flagged) == 4
    assert p[:4] == sorted(p[:4])
    assert all(not str(r[1]).startswith("D ") for r in main.rows)
    assert page.count("<tr class=surprising>") == 4


def test_file_names_are_relative_to_the_working_directory(tmp_path, monkeypatch):
    from casualty_models.report.facts import display_path

    monkeypatch.chdir(tmp_path)
    assert display_path(str(tmp_path / "data" / "c.csv")) == "data/c.csv"
    assert display_path("data/c.csv") == "data/c.csv"
    assert display_path("/elsewhere/x/claims.csv") == "claims.csv"
    assert display_path("../up.csv") == "up.csv"
    assert display_path("<DataFrame>") == "<DataFrame>"
    inside = str(tmp_path / "data" / "war.csv")
    est = _hostile_estimate(origin=inside)
    assert not est.diagnostics.ok  # its message names claims by file and row
    for text in (
        report.report_html(est, series="a|killed"),
        report.report_markdown(est, series="a|killed"),
    ):
        assert str(tmp_path) not in text
        assert re.search(r"data/war\.csv, row \d+\)", text.replace("\\_", "_"))
        assert "claims from data/war.csv" in text.replace("\\_", "_")
    outside = _hostile_estimate(origin="/elsewhere/x/war.csv")
    md = report.report_markdown(outside)
    assert "/elsewhere" not in md and "claims from war.csv;" in md


def test_trust_section_leaves_out_series_that_are_not_estimable(hostile):
    loso = pd.DataFrame(
        {
            "source": ["S1 | *x*", "S0 | *x*"],
            "n_claims": [1, 2],
            "side": ["a", "a"],
            "category": ["killed", "captured"],
            "median": [900.0, 123456.0],
            "low_90": [500.0, 1000.0],
            "high_90": [1500.0, 9e6],
            "base_median": [1000.0, 234567.0],
            "shift_pct": [-10.0, -47.0],
            "mcse_pct": [1.0, 1.0],
            "note": ["", ""],
            "reliable": [True, True],
        }
    )
    doc = report.build_document(hostile, loso=loso, with_figures=False)
    page = report_html.render(doc)
    assert "How far to trust the answer" in page
    assert "moves the a killed median most, from 1,000 to 900 (−10%)" in page
    assert "123,456" not in page and "230,000" not in page and "a captured median" not in page
    assert "Left out here: a captured, not estimable on 2022-09-01" in page
