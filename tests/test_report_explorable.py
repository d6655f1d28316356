"""The report's explorable main figure (issue 30), without a browser: inline SVG with a
focusable mark per claim, escaped tooltips, series toggles, the PNG for print.

On an offline estimate (no sampling); tests/test_report_browser.py hovers the real thing.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest
from conftest import SEED_CSV, claim, offline_estimate

import casualty_models as cm
from casualty_models import report
from casualty_models.report import explorable

EVIL = '<script>alert("x")</script>'


@pytest.fixture(scope="module")
def estimate():
    claims = cm.read_claims(SEED_CSV).add(
        claim(
            source=EVIL,
            side="russia",
            value=5000,
            as_of="2022-03-08",
            period_start="2022-02-24",
            citation="a <b>bold</b> citation",
            url="javascript:alert(1)",
        )
    )
    return offline_estimate(claims)


@pytest.fixture(scope="module")
def page(estimate):
    return report.report_html(estimate)


def _svg(page: str) -> ET.Element:
    (svg,) = re.findall(r"<svg .*?</svg>", page, flags=re.S)
    return ET.fromstring(svg)


def test_the_main_figure_is_inline_svg_with_a_focusable_mark_per_claim(estimate, page):
    root = _svg(page)
    marks = [el for el in root.iter() if el.get("data-claim") is not None]
    assert sorted(int(m.get("data-claim")) for m in marks) == list(range(len(estimate.claims)))
    assert all(m.get("tabindex") == "0" and m.get("role") == "button" for m in marks)
    pentagon = next(m for m in marks if m.get("data-claim") == "1")
    assert pentagon.get("aria-label") == (
        "US Department of Defense (Pentagon): 2,000–4,000, russia killed as of 2022-03-11"
    )
    ids = [el.get("id") for el in root.iter() if el.get("id")]
    assert len(ids) == len(set(ids))
    assert [el.get("id") for el in root.iter() if el.get("data-series")] == [
        "cm-series-0",
        "cm-series-1",
    ]
    assert root.get("width") is None and root.get("height") is None  # sized by the page
    assert not root.findall("{http://www.w3.org/2000/svg}metadata")
    assert not [el for el in root.iter() if el.tag.endswith("script")]


def test_every_mark_has_its_tooltip_escaped_with_only_web_links(page):
    tips = dict(re.findall(r'<template id="cm-tip-(\d+)">(.*?)</template>', page, flags=re.S))
    assert sorted(map(int, tips)) == [0, 1, 2, 3, 4]
    evil = tips["4"]
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in evil or "&lt;script&gt;" in evil
    assert "<script>" not in evil and "<b>" not in evil and "&lt;b&gt;bold" in evil
    assert "javascript:alert(1)" in evil and "href=" not in evil  # shown, never linked
    pentagon = tips["1"]
    assert "Figure as published: <strong>2,000–4,000</strong>" in pentagon
    assert "a neutral government or intelligence service (neutral), on russia killed" in pentagon
    assert "as of 2022-03-11 · counting since 2022-02-24" in pentagon
    assert re.search(r"p = \d\.\d{3}: (surprising, outside|inside) its 99% predictive", pentagon)
    assert 'href="https://nationalinterest.org/' in pentagon
    assert "<script>alert" not in page


def test_series_toggles_the_print_png_and_one_script_of_our_own(page):
    toggles = re.findall(
        r'<input type=checkbox checked data-series="(cm-series-\d)"> ([^<]+)<', page
    )
    assert toggles == [("cm-series-0", "russia killed"), ("cm-series-1", "ukraine killed")]
    assert page.count('<img class=print-only src="data:image/png;base64,') == 1
    assert page.count("<script>") == 1 and "src=" not in re.search(
        r"<script>.*?</script>", page, flags=re.S
    ).group(0)
    assert not re.search(
        r'(src|href)="(?!data:|https://nationalinterest|#)', page.split("<footer")[0]
    )
    assert "@media print{.screen-only" in page


def test_the_markdown_report_has_no_figure_or_script(estimate):
    md = report.report_markdown(estimate)
    assert "<svg" not in md and "<script" not in md and "cm-tip" not in md


@pytest.mark.parametrize(
    ("p", "role", "words", "surprising"),
    [
        (0.004, "claim", "p = 0.004: surprising, outside its 99% predictive interval", True),
        (0.0001, "claim", "p < 0.001: surprising", True),
        (0.42, "claim", "p = 0.420: inside its 99% predictive interval", False),
        (0.42, "spike (left out)", "(spike (left out): not used by the fit)", False),
        (0.2, "tally rise", "read through its rise", False),
    ],
)
def test_how_surprising_a_claim_is_in_words(p, role, words, surprising):
    text, flag = explorable._surprise(p, role)
    assert words in text and flag is surprising


def test_the_document_counts_the_printed_png_among_its_figures(estimate):
    doc = report.build_document(estimate)
    (main,) = [b for b in doc.summary.blocks if isinstance(b, explorable.Explorable)]
    assert main.print_figure in doc.figures()
