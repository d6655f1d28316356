"""Every fact a report shows, gathered once from an Estimate into plain data.

Sentences are plain text, tables are headers and rows of already formatted cells
(:mod:`~casualty_models.report.tables`), figures are PNG bytes with their alt text.
Nothing here knows HTML or Markdown: the renderers escape what they are given, so
user text (sources, citations, notes, URLs) stays as the user wrote it.

Honest headlines: a series whose ``as_of`` lies past its estimable horizon
(:meth:`Estimate.headline`, ``estimable``) has no number in the summary, its sentence
or the trust section; the appendix shows its estimate as of its last claim instead.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from casualty_models._format import about, check_level, date, level_pct, people
from casualty_models._version import __version__
from casualty_models.atlas.preset import atlas_note
from casualty_models.claims import display_path
from casualty_models.diagnostics import MODEL_CHECK_LEVEL, Diagnostics
from casualty_models.model.priors_file import describe_priors
from casualty_models.report import explorable, figures, tables
from casualty_models.report.figures import Figure
from casualty_models.report.series import SeriesKey, focus_series
from casualty_models.report.tables import Table, interval, table

if TYPE_CHECKING:
    import pandas as pd

    from casualty_models.claims import ClaimSet
    from casualty_models.compare import Comparison
    from casualty_models.estimate import Estimate
    from casualty_models.report.change_facts import ChangeFacts
    from casualty_models.report.explorable import Explorable
    from casualty_models.report.trust_facts import TrustFacts

ANCHOR_TYPES: tuple[str, ...] = ("neutral", "tally", "independent", "known")
"""Source types that anchor the biases (see docs/model.md, "What identifies the biases")."""
EXTRAPOLATION_DAYS = 7
"""A headline date more than this many days after a curve's last claim is called out."""


@dataclass(frozen=True)
class Facts:
    """What one report says, before it is laid out."""

    title: str
    level: float
    as_of: str
    overview: str
    failure: tuple[str, str] | None  # (what failed, the diagnostics' message)
    headline: Table | None  # the focused series that are estimable; None if none is
    series_sentences: tuple[str, ...]  # one per focused estimable series
    withheld: tuple[str, ...]  # one per focused series that is not estimable
    surprise: str
    horizon_days: int
    all_series: Table
    sources: Table
    check: Table
    check_runs: tuple[tuple[str, Table], ...]
    claims: Table
    diagnostics_ok: bool
    diagnostics_message: str
    diagnostics: Table
    settings: Table
    type_priors: Table | None
    other_priors: Table | None
    running: bool
    footer: str
    figures: Mapping[str, Figure] = field(default_factory=dict)
    trust: TrustFacts | None = None
    trust_note: str = ""
    changes: ChangeFacts | None = None
    main: Explorable | None = None  # the main figure, explorable (HTML); None without figures
    priors_note: str = ""  # do the bias priors decide the headline (and which preset)?

    @property
    def pct(self) -> str:
        return level_pct(self.level)


# ------------------------------------------------------------------------ file names
def path_shortener(claims: ClaimSet) -> Callable[[str], str]:
    """Rewrites text naming the claims' files (their origin, "file, row 12") to show
    each file as :func:`display_path` does."""
    names = {str(origin) for origin, _ in claims.places}
    names.update(claims.origin.split(" + "))
    swaps = sorted(
        ((n, display_path(n)) for n in names if n and display_path(n) != n),
        key=lambda pair: -len(pair[0]),
    )

    def shorten(text: str) -> str:
        for long, short in swaps:
            text = text.replace(long, short)
        return text

    return shorten


def _key(r: Mapping[Any, Any]) -> SeriesKey:
    return (str(r["side"]), str(r["category"]))


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _sentence(estimate: Estimate, r: Mapping[Any, Any], level: float) -> str:
    """One plain sentence on an estimable series, and a caveat when it is extrapolated."""
    pct = level_pct(level)
    key = _key(r)
    mine = [c for c in estimate.claims if c.series == key]
    speakers = {c.speaker: c.source_type for c in mine}
    anchors = sum(t in ANCHOR_TYPES for t in speakers.values())
    if anchors:
        support = (
            f", {anchors} of which {'is an anchor' if anchors == 1 else 'are anchors'} "
            "(neutral, tally, independent or known)."
        )
    else:
        support = (
            "; no neutral source, tally, independent estimate or known count reports on it, "
            "so the number is as much the bias priors' as the claims'."
        )
    text = (
        f"By {estimate.settings.as_of}, the model puts {key[0]} {key[1]} at about "
        f"{about(r['median'])} ({pct}% credible interval {about(r[f'low_{pct}'])}–"
        f"{about(r[f'high_{pct}'])}), from {_plural(len(mine), 'claim')} by "
        f"{_plural(len(speakers), 'source')}{support}"
    )
    first = r["first_claim"].date()
    lead = (first - estimate.settings.start).days
    if _has_head(estimate, key):
        text += (
            f" The first claim on this curve looks at {first}, {lead} days after the start: "
            "the claims say how many died by then, not when, so the curve before it is the "
            "prior's random walk scaled to that total, and counts for earlier dates rest on "
            "the prior."
        )
    last = r["last_claim"].date()
    gap = (estimate.settings.as_of - last).days
    if gap > EXTRAPOLATION_DAYS:
        text += (
            f" The latest claim on this curve is from {last}, {gap} days earlier: after it "
            "the count is extrapolated by the prior's random walk alone, and the interval "
            "widens with every day."
        )
    return text


def _has_head(estimate: Estimate, key: SeriesKey) -> bool:
    """The series' curve starts with a head: days before its first claim whose total the
    claims give, not their shape (``before_claims`` in :meth:`Estimate.summary`)."""
    start = estimate.summary(dates=[estimate.settings.start])
    mine = start[(start["side"] == key[0]) & (start["category"] == key[1])]
    return bool(mine["before_claims"].iloc[0])


def _withheld(estimate: Estimate, r: Mapping[Any, Any]) -> str:
    """The sentence on a series past its horizon: dates only, no number."""
    last = r["last_claim"].date()
    horizon = (r["estimable_until"] - r["last_claim"]).days
    return (
        f"{r['side']} {r['category']} is not estimable since {date(r['estimable_until'])}: "
        f"its last claim, of {last}, is more than {horizon} days before "
        f"{estimate.settings.as_of}, so a figure for that date would rest on the prior "
        "alone (its estimate as of that claim is under All series)."
    )


def _all_series(estimate: Estimate, head: pd.DataFrame, level: float) -> Table:
    """Every series: the headline where estimable, else the estimate at its last claim."""
    pct = level_pct(level)
    records = head.to_dict(orient="records")
    stale = [r for r in records if not r["estimable"]]
    at_last: dict[tuple[str, str, Any], Mapping[Any, Any]] = {}
    if stale:
        days = sorted({r["last_claim"].date() for r in stale})
        for s in estimate.summary(dates=days, level=level).to_dict(orient="records"):
            at_last[(str(s["side"]), str(s["category"]), s["date"].date())] = s
    rows = []
    for r in records:
        last = r["last_claim"].date()
        shown: Mapping[Any, Any]
        if r["estimable"]:
            shown, when = r, estimate.settings.as_of
            gap = (when - last).days
            status = (
                f"extrapolated {gap} days past its last claim" if gap > EXTRAPOLATION_DAYS else ""
            )
        else:
            shown, when = at_last[(*_key(r), last)], last
            status = (
                f"not estimable since {date(r['estimable_until'])}; estimate as of its last claim"
            )
        rows.append(
            [
                r["side"],
                r["category"],
                date(when),
                people(shown["median"]),
                people(shown["mean"]),
                people(shown["sd"]),
                interval(shown["low_50"], shown["high_50"]),
                interval(shown[f"low_{pct}"], shown[f"high_{pct}"]),
                date(last),
                status,
            ]
        )
    headers = ["side", "category", "date", "median", "mean", "sd", "50% interval"]
    return table([*headers, f"{pct}% interval", "last claim", "status"], rows, numeric=range(3, 8))


def _headline(rows: Sequence[Mapping[Any, Any]], level: float) -> Table | None:
    """The focused, estimable series on the ``as_of`` date."""
    if not rows:
        return None
    pct = level_pct(level)
    return table(
        ["side", "category", "median", "50% interval", f"{pct}% interval", "last claim"],
        [
            [
                r["side"],
                r["category"],
                people(r["median"]),
                interval(r["low_50"], r["high_50"]),
                interval(r[f"low_{pct}"], r[f"high_{pct}"]),
                date(r["last_claim"]),
            ]
            for r in rows
        ],
        numeric=range(2, 5),
    )


def _surprise(diag: Diagnostics, check: pd.DataFrame) -> str:
    """One sentence, with the model check's numbers: the claims the fit used that lie
    outside their 99% predictive interval (claims left out are counted apart)."""
    k, n = diag.claims_implausible, diag.claims_checked
    out = int(check["surprising"].sum()) - k  # left out of the fit, and surprising
    aside = (
        f" {out} claim{'s' if out != 1 else ''} left out of the fit (spikes, echoes, ...) "
        f"{'are' if out != 1 else 'is'} surprising too."
        if out
        else ""
    )
    pct = f"{MODEL_CHECK_LEVEL:.0%}"
    if not k:
        return (
            f"None of the {n} claims the fit used is surprising (outside its {pct} "
            f"predictive interval) given the rest.{aside}"
        )
    return (
        f"{k} of {n} claims the fit used {'is' if k == 1 else 'are'} surprising (outside "
        f"{'its' if k == 1 else 'their'} {pct} predictive interval) given the rest; "
        f"they head the claims check.{aside}"
    )


def _only_estimable(
    df: pd.DataFrame | None, estimable: set[SeriesKey]
) -> tuple[pd.DataFrame | None, list[SeriesKey]]:
    """A trust table without the rows of series that are not estimable (and those)."""
    if df is None:
        return None, []
    keys = [(str(s), str(c)) for s, c in zip(df["side"], df["category"], strict=True)]
    dropped = list(dict.fromkeys(k for k in keys if k not in estimable))
    kept = df[[k in estimable for k in keys]]
    return (kept if len(kept) else None), dropped


# --------------------------------------------------------------------------- gather
def gather(
    estimate: Estimate,
    *,
    level: float,
    title: str | None = None,
    series: Any = None,
    sensitivity: pd.DataFrame | None = None,
    loso: pd.DataFrame | None = None,
    with_figures: bool = True,
    comparison: Comparison | None = None,
) -> Facts:
    """Every fact of the report of ``estimate``; ``series`` picks the headline's series
    (see :func:`focus_series`); ``with_figures`` False skips the plots (the Markdown
    report has none); ``comparison`` (of ``estimate`` with an earlier one) adds what
    changed since."""
    check_level(level)
    s = estimate.settings
    focus = focus_series(estimate, series)
    head = estimate.headline(level=level)
    src = estimate.sources(level=level)
    check = estimate.claims_check(level=level)
    diag = estimate.diagnostics
    shorten = path_shortener(estimate.claims)
    origin = shorten(estimate.claims.origin)
    by_key = {_key(r): r for r in head.to_dict(orient="records")}
    estimable = {k for k, r in by_key.items() if r["estimable"]}
    shown = [by_key[k] for k in focus if k in estimable]
    overview = (
        f"{len(estimate.claims)} claims from {origin}; {len(head)} series; {len(src)} "
        f"speakers; fitted from {s.start} to {s.end}; headline date {s.as_of}. Intervals "
        f"are equal-tailed {level_pct(level)}% credible intervals. Bias priors: "
        f"{describe_priors(s.priors)}."
    ) + "".join(f" {n}" for n in [atlas_note(s.priors)] if n)  # names the bias atlas
    figs: dict[str, Figure] = {}
    main = None
    if with_figures:
        # the estimable headline series, one panel each; a withheld series is not drawn
        focused = {"series": [_key(r) for r in shown]} if shown else {"series": "all"}
        figs["main"] = figures.render("panels", estimate, level, options=focused)
        keys = [_key(r) for r in shown] or [(str(a), str(b)) for a, b in estimate.inputs.series]
        main = explorable.main_figure(estimate, level, keys, figs["main"])
        for kind in ("claims", "sources", *(["drift"] if _running(estimate) else [])):
            figs[kind] = figures.render(kind, estimate, level)
    trust, trust_note = None, ""
    if sensitivity is not None or loso is not None:
        from casualty_models.report.trust_facts import gather_trust

        sens, gone_s = _only_estimable(sensitivity, estimable)
        left, gone_l = _only_estimable(loso, estimable)
        gone = list(dict.fromkeys([*gone_s, *gone_l]))
        if gone:
            trust_note = (
                f"Left out here: {', '.join(f'{a} {b}' for a, b in gone)}, not estimable on "
                f"{s.as_of}: their medians would rest on the prior alone."
            )
        trust = gather_trust(estimate, level, sens, left, with_figures=with_figures)
    changes = None
    if comparison is not None:
        from casualty_models.report.change_facts import gather_changes

        if comparison.new is not estimate:
            raise ValueError("the comparison is of another estimate than the report's")
        changes = gather_changes(comparison, level, with_figures=with_figures, focus=focus)
    main_check, runs = tables.check_tables(list(estimate.claims), check, level)
    settings, type_priors, other_priors = tables.settings_tables(estimate, level, origin)
    return Facts(
        title=title or f"Casualty estimates as of {s.as_of}",
        level=level,
        as_of=str(s.as_of),
        overview=overview,
        failure=None if diag.ok else (_failure_title(diag), shorten(diag.message())),
        headline=_headline(shown, level),
        series_sentences=tuple(_sentence(estimate, r, level) for r in shown),
        withheld=tuple(_withheld(estimate, by_key[k]) for k in focus if k not in estimable),
        surprise=_surprise(diag, check),
        horizon_days=_horizon(head),
        all_series=_all_series(estimate, head, level),
        sources=tables.sources_table(src, level),
        check=main_check,
        check_runs=tuple(runs),
        claims=tables.claims_table(estimate.claims),
        diagnostics_ok=diag.ok,
        diagnostics_message=shorten(diag.message()),
        diagnostics=tables.diagnostics_table(estimate, shorten),
        settings=settings,
        type_priors=type_priors,
        other_priors=other_priors,
        running=_running(estimate),
        footer=(
            f"casualty_models {__version__} (fitted with {estimate.version}) · "
            f"claims fingerprint {estimate.claims.fingerprint}"
        ),
        figures=figs,
        trust=trust,
        trust_note=trust_note,
        changes=changes,
        main=main,
        priors_note=_priors_note(estimate),
    )


def _priors_note(estimate: Estimate) -> str:
    """The priors sentence of :mod:`casualty_models.sensitivity`, and the note on the
    defaults when the claims are not a war's."""
    from casualty_models.sensitivity import defaults_note, priors_sentence

    sentence = priors_sentence(estimate.prior_sensitivity()) or (
        "The claims, not the bias priors, decide every headline (power-scaling sensitivity)."
    )
    note = defaults_note(estimate.claims, estimate.settings.priors)
    return f"{sentence} {note}" if note else sentence


def _running(estimate: Estimate) -> bool:
    return bool(estimate.inputs.running)


def _horizon(head: pd.DataFrame) -> int:
    gaps: Iterable[Any] = head["estimable_until"] - head["last_claim"]
    return int(max((g.days for g in gaps), default=0))


def _failure_title(diag: Any) -> str:
    if not diag.converged:
        return "The sampler did not converge well enough to trust these intervals:"
    return "The model cannot explain the claims as given (model check failed):"
