"""The immutable Estimate that fit() returns: summaries, source biases, claim checks.

Imports only the layers below it (claims, model, diagnostics, io); the methods whose
work lives above it (plots, trust) are bound through :mod:`casualty_models._hooks`.

Over 500 lines because the Estimate is the one result object users hold: its summaries
(series, sources, drift, claims check, JSON) share one set of memoised posterior draws.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import warnings
from collections.abc import Iterable
from dataclasses import dataclass, field, fields, replace
from functools import cached_property
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from scipy import stats

from casualty_models import _hooks
from casualty_models._atomic import atomic_write
from casualty_models._format import level_pct
from casualty_models._version import __version__
from casualty_models.claims import ClaimSet, parse_date, records_to_claims
from casualty_models.diagnostics import (
    SURPRISE_P,
    Diagnostics,
    compute,
)
from casualty_models.io import read_netcdf, write_netcdf
from casualty_models.model import (
    KIND_CODES,
    NOISE_NU,
    RISE_T_SCALE,
    ModelInputs,
    central_sides,
    prepare,
    rise_scale,
)
from casualty_models.model.priors import DEFAULT_LEVEL, SUMMARY_LEVELS, Priors

if TYPE_CHECKING:
    import arviz as az

    from casualty_models.compare import Comparison
    from casualty_models.plots import PlotAccessor

EXTRAPOLATION_HORIZON_DAYS = 90
"""Days after a series' last claim for which its headline is still reported. Past it the
random walk of the daily rate has run for a quarter year with nothing to hold it: the
interval then spans orders of magnitude and says more about the prior than the event
(docs/model.md)."""

MAX_TREE_DEPTH = 10
"""NUTS tree depth of PyMC's sampler; a run records its own cap in
``sample_stats.attrs["max_tree_depth"]`` (nutpie: ``_nutpie.NUTPIE_MAX_TREE_DEPTH``), and
the diagnostics count the transitions that reach it."""


@dataclass(frozen=True)
class FitSettings:
    """Everything besides the claims that determines a fit's numbers."""

    start: dt.date
    """First day of the daily grid: day 0 of every cumulative count."""
    end: dt.date
    """Last day of the grid: the latest ``as_of`` of the claims, or ``as_of`` if later."""
    as_of: dt.date
    """The headline date."""
    as_reported_on: dt.date | None = None
    """Only claims published by this date were used (a vintage); None: all."""
    draws: int | None = 1500  # None: the sampler's default (fit() records the number)
    """Posterior draws per chain of the first sampler run."""
    tune: int = 1000
    """Tuning steps per chain."""
    chains: int = 2
    """Number of chains."""
    target_accept: float = 0.8
    """NUTS target acceptance rate, in [0.5, 1)."""
    random_seed: int = 0
    """Seed of every random number of the fit."""
    priors: Priors = field(default_factory=Priors)
    """The bias and curve priors (:class:`casualty_models.Priors`)."""
    sampler: str = "auto"
    """``auto``, ``pymc`` or ``nutpie``: the NUTS implementation asked for."""
    max_attempts: int = 3
    """Sampler runs :func:`casualty_models.fit` may make while checks fail."""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready settings: dates as ISO text, priors as :meth:`Priors.to_dict`."""
        out = {f.name: getattr(self, f.name) for f in fields(self)}
        out["priors"] = self.priors.to_dict()
        for key in ("start", "end", "as_of", "as_reported_on"):
            out[key] = None if out[key] is None else out[key].isoformat()
        return out

    def fit_kwargs(self, **overrides: Any) -> dict[str, Any]:
        """The keyword arguments of :func:`casualty_models.fit` that reproduce these
        settings (every one; ``end`` follows from the claims), with ``overrides``."""
        out = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "end"}
        unknown = set(overrides) - set(out) - {"cores", "progressbar"}
        if unknown:
            raise TypeError(f"not a fit setting: {', '.join(sorted(unknown))}")
        return {**out, **overrides}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FitSettings:
        """The settings :meth:`to_dict` wrote."""
        data = dict(data)
        for key in ("start", "end", "as_of", "as_reported_on"):
            data[key] = None if data.get(key) is None else dt.date.fromisoformat(data[key])
        data["priors"] = Priors.from_dict(data["priors"])
        return cls(**data)


def _quantiles(draws: np.ndarray, levels: Iterable[float]) -> dict[str, np.ndarray]:
    """Mean, median and equal-tailed interval bounds over axis 0, equal to
    ``np.median`` and ``np.quantile`` (linear) to the bit."""
    # one sort along a contiguous axis instead of a partition per call along axis 0
    # (the whole war: 2.9 s -> 1 s)
    s = np.ascontiguousarray(np.moveaxis(draws, 0, -1))
    s.sort(axis=-1)
    n = s.shape[-1]
    half = n // 2
    median = s[..., half] if n % 2 else (s[..., half - 1] + s[..., half]) / 2
    out = {"mean": draws.mean(axis=0), "median": median}
    for level in levels:
        out[f"low_{level_pct(level)}"] = _sorted_quantile(s, (1 - level) / 2)
        out[f"high_{level_pct(level)}"] = _sorted_quantile(s, (1 + level) / 2)
    return out


def _sorted_quantile(s: np.ndarray, q: float) -> np.ndarray:
    """``np.quantile(s, q, axis=-1)`` (linear interpolation) of ``s`` sorted along its
    last axis, computed as NumPy computes it."""
    n = s.shape[-1]
    at = (n - 1) * q
    lo = int(np.floor(at))
    hi = min(lo + 1, n - 1)
    g = at - lo
    a, b = s[..., lo], s[..., hi]
    return b - (b - a) * (1 - g) if g >= 0.5 else a + (b - a) * g


def _tail(level: float) -> float:
    """1 − level without its floating-point residue (1 − 0.9 is 0.09999999999999998),
    so that a p-value of exactly 0.1 is judged the same way at every level."""
    return round(1 - level, 12)


def _interval_names(level: float) -> list[str]:
    """Interval bound columns in the order summaries give them: low_50, high_50, ..."""
    return [f"{end}_{level_pct(lv)}" for lv in _levels(level) for end in ("low", "high")]


def _prior_with_drift(
    prior: Any, drift_var: float, level: float
) -> tuple[float, float, float, float]:
    """(low, median, high) of a speaker's prior bias factor with an independent normal
    log drift of variance ``drift_var`` added, and the prior sd of the log factor."""
    if drift_var == 0:
        return (*prior.factor_interval(level), prior.log_sd)
    tail = (1 - level) / 2
    if prior.bias_upper is None:  # normal plus normal
        sd = math.sqrt(prior.log_sd**2 + drift_var)
        lo, med, hi = stats.norm.ppf([tail, 0.5, 1 - tail], prior.bias_mu, sd)
        return (math.exp(lo), math.exp(med), math.exp(hi), sd)
    # a capped bias plus a drift has no closed form: a fixed-seed Monte Carlo
    rng = np.random.default_rng(0)
    draws = prior.log_dist().rvs(size=40_000, random_state=rng)
    draws = draws + math.sqrt(drift_var) * rng.standard_normal(draws.size)
    lo, med, hi = np.quantile(draws, [tail, 0.5, 1 - tail])
    return (math.exp(lo), math.exp(med), math.exp(hi), float(draws.std()))


def _levels(level: float) -> tuple[float, ...]:
    if not 0 < level < 1:
        raise ValueError(f"level must be between 0 and 1, got {level}")
    return tuple(sorted({*SUMMARY_LEVELS[:-1], level}))


@dataclass(frozen=True)
class WarmState:
    """What ``fit(warm_start=...)`` reads from a previous estimate, alone: each chain's
    last draw, the posterior's mean, variances and strongest correlations, and the step
    sizes, as JSON (about 0.1 MB for the whole war's 372 parameters, against tens of MB
    of draws). Picklable: a worker process starts warm from it
    (:attr:`Estimate.warm_state`)."""

    json: str
    """The state as JSON: parameter labels, last draws (chain, parameter), mean and
    variances (parameter,), low-rank directions, step sizes."""


@dataclass(frozen=True, eq=False)
class Estimate:
    """Result of :func:`fit`: the claims, the settings and the posterior. Immutable.

    Intervals are equal-tailed (they map to the same interval of the log count and of
    any increasing transform, unlike HDIs); the default level is
    :data:`casualty_models.DEFAULT_LEVEL`, and every summary also reports the 50%
    interval.
    """

    claims: ClaimSet
    """The claims the fit was given (never mutated)."""
    settings: FitSettings
    """Everything besides the claims that determines the numbers."""
    idata: az.InferenceData
    """The posterior and sampler statistics (ArviZ ``InferenceData``; log-scale parameters)."""
    version: str = __version__
    """The package version that made the fit."""

    # ------------------------------------------------------------------ derived arrays
    @cached_property
    def inputs(self) -> ModelInputs:
        """The model arrays, rebuilt deterministically from claims and settings."""
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # fit() has shown the input warnings once
            return prepare(
                self.claims,
                start=self.settings.start,
                end=self.settings.end,
                priors=self.settings.priors,
            )

    @cached_property
    def cumulative_draws(self) -> np.ndarray:
        """Posterior draws of the cumulative count: (chain, draw, series, day)."""
        post = self.idata.posterior
        curves = self.inputs.grid.cumulative(np.asarray(post["log_rate"]))
        factor = np.exp(np.asarray(post["log_factor"]))  # (chain, draw, series)
        base = np.array(self.inputs.plan.series_base)
        return curves[:, :, base, :] * factor[..., None]

    def _flat(self, array: np.ndarray) -> np.ndarray:
        """(chain, draw, ...) -> (sample, ...)."""
        return array.reshape(-1, *array.shape[2:])

    @cached_property
    def diagnostics(self) -> Diagnostics:
        """R-hat, ESS and divergences over what the results report, and the model check.

        Checked: the log cumulative count of every series at every knot and on the
        ``as_of`` day (between knots the curve is a smooth function of its values there;
        every day of a four-year grid would be 16,000 near-copies, over a minute of
        ArviZ), every bias and drift, each tally's rise noise, the ratios, and the count
        of every claim that is not a running tally's figure (those lie on the curve).
        """
        import xarray as xr

        post = self.idata.posterior
        inp = self.inputs
        days = np.union1d(inp.grid.knots, [inp.grid.day(self.settings.as_of)])
        cum = xr.DataArray(
            np.log(self.cumulative_draws[..., days]),
            dims=("chain", "draw", "series", "date"),
            coords={
                "series": post["log_factor"].coords["series"].values,
                "date": [str(d) for d in inp.grid.dates[days]],
            },
        )
        claims = np.flatnonzero(~inp.claim_running)
        quantities = {
            "log_cumulative": cum,
            "bias": post["bias"],
            "log_count": post["log_count"].isel({post["log_count"].dims[-1]: claims}),
        }
        quantities.update({k: post[k] for k in ("ratio", "bias_drift", "rise_noise") if k in post})
        stats = self.idata.sample_stats
        sampler = compute(quantities, stats, int(stats.attrs.get("max_tree_depth", MAX_TREE_DEPTH)))
        # the model check covers the claims the fit used (not spikes and restatements)
        used = np.flatnonzero(self.inputs.claim_used)
        p = self._predictive_p[used]
        worst = used[np.argsort(p, kind="stable")[:3]]
        return replace(
            sampler,
            priors_decide=_hooks.call("Estimate.priors_decide", self),
            claims_checked=len(used),
            claims_implausible=int((p < SURPRISE_P).sum()),
            worst_claims=tuple(
                f"{self.claims[int(i)].source} {self.claims[int(i)].describe()} "
                f"({self.claims[int(i)].side} {self.claims[int(i)].category}, "
                f"{self.claims[int(i)].as_of}; {self.claims.where(int(i))})"
                for i in worst
            ),
        )

    @property
    def warm_state(self) -> WarmState | None:
        """The state a later fit can start warm from (``fit(warm_start=...)``), without
        the draws; None for an estimate made by a version that did not record it."""
        text = self.idata.sample_stats.attrs.get("warm_state")
        return WarmState(text) if text else None

    @property
    def attempts(self) -> list[dict[str, Any]]:
        """Every sampler run :func:`fit` made, in order: settings, reason, diagnostics,
        seconds; the estimate holds the best of them."""
        text = self.idata.sample_stats.attrs.get("attempts")
        return json.loads(text) if text else []

    # ------------------------------------------------------------------------ results
    def summary(
        self, *, dates: Iterable[Any] | None = None, level: float = DEFAULT_LEVEL
    ) -> pd.DataFrame:
        """Posterior of the cumulative true count per series and day.

        One row per (side, category, date); ``dates`` selects days (default: every day
        of the grid). Columns: mean, median, sd and the bounds of the 50% and
        ``level`` equal-tailed credible intervals (``low_50``, ``high_50``, ``low_90``,
        ``high_90`` at the default level), in people; ``extrapolated`` is True after the
        series' last claim (see :meth:`headline`), ``before_claims`` before the first day
        any claim on its curve looks at, when that leaves a head of two knots or more
        (:class:`~casualty_models.model.Stretches`): there the claims say how many died
        by then, not when, and the curve's shape is the prior's.
        """
        grid = self.inputs.grid
        wanted = range(grid.n_days) if dates is None else [self._day_index(d) for d in dates]
        idx = np.asarray(list(wanted), dtype=int)
        return self._memo(("summary", tuple(idx), level), lambda: self._summary(idx, level))

    def _summary(self, idx: np.ndarray, level: float) -> pd.DataFrame:
        draws = self._flat(self.cumulative_draws)[:, :, idx]  # (sample, series, day)
        stats = _quantiles(draws, _levels(level))
        stats["sd"] = draws.std(axis=0, ddof=1)
        n_series = len(self.inputs.series)
        series = self.inputs.series
        out = pd.DataFrame(
            {
                "side": np.repeat([side for side, _ in series], len(idx)),
                "category": np.repeat([cat for _, cat in series], len(idx)),
                "date": pd.to_datetime(np.tile(self.inputs.grid.dates[idx], n_series)),
            }
        )
        for key in ("mean", "median", "sd", *[k for k in stats if k.startswith(("low_", "high_"))]):
            out[key] = stats[key].reshape(-1)  # (series, day) row-major, as the rows
        last = self._last_claim_by_series()
        out["extrapolated"] = out["date"].to_numpy() > np.repeat(
            np.array([last[s] for s in series], dtype="datetime64[ns]"), len(idx)
        )
        first = self._first_claim_by_series()
        inp = self.inputs
        headed = set(inp.stretches.curve[inp.stretches.left < 0].tolist())
        start = pd.Timestamp(inp.grid.start)
        ends = [
            first[s] if inp.plan.series_base[r] in headed else start for r, s in enumerate(series)
        ]
        out["before_claims"] = out["date"].to_numpy() < np.repeat(
            np.array(ends, dtype="datetime64[ns]"), len(idx)
        )
        return out

    def _memo(self, key: tuple[Any, ...], compute: Any) -> pd.DataFrame:
        """Results are pure functions of the estimate: compute once, hand out copies."""
        memo = self.__dict__.setdefault("_results", {})
        if key not in memo:
            memo[key] = compute()
        return memo[key].copy()

    def headline(self, *, level: float = DEFAULT_LEVEL) -> pd.DataFrame:
        """:meth:`summary` at the ``as_of`` date only: one row per series.

        ``first_claim`` is the first day any claim the fit used on the series' curve looks
        at (``before_claims`` in :meth:`summary`). ``last_claim`` is the latest ``as_of``
        of any claim the fit used on the series'
        curve (its linked categories included): after it the curve is extrapolated by
        its prior alone, and the interval widens with every day. ``estimable_until`` is
        ``last_claim`` plus :data:`EXTRAPOLATION_HORIZON_DAYS`; ``estimable`` is False
        when ``as_of`` is later, and then the row's numbers rest on the prior alone: the
        report, the command line and :meth:`to_dict` withhold them.
        """
        out = self.summary(dates=[self.settings.as_of], level=level)
        last = self._last_claim_by_series()
        out["last_claim"] = [
            last[(str(side), str(cat))]
            for side, cat in zip(out["side"], out["category"], strict=True)
        ]
        first = self._first_claim_by_series()
        out["first_claim"] = [
            first[(str(side), str(cat))]
            for side, cat in zip(out["side"], out["category"], strict=True)
        ]
        out["estimable_until"] = out["last_claim"] + pd.Timedelta(days=EXTRAPOLATION_HORIZON_DAYS)
        out["estimable"] = pd.Timestamp(self.settings.as_of) <= out["estimable_until"]
        return out

    def _last_claim_by_series(self) -> dict[tuple[str, str], pd.Timestamp]:
        """(side, category) -> the last day of the latest used claim on its curve."""
        inp = self.inputs
        base = np.array(inp.plan.series_base)
        used = inp.claim_used
        last = np.full(len(inp.plan.bases), 0)
        np.maximum.at(last, base[inp.claim_series[used]], inp.claim_last_day[used])
        return {
            s: pd.Timestamp(inp.grid.dates[last[b]]) for s, b in zip(inp.series, base, strict=True)
        }

    def _first_claim_by_series(self) -> dict[tuple[str, str], pd.Timestamp]:
        """(side, category) -> the first day any used claim on its curve looks at: before
        it the claims fix how many died, not when (the curve's head, see
        :class:`~casualty_models.model.Stretches`)."""
        inp = self.inputs
        base = np.array(inp.plan.series_base)
        used = inp.claim_used
        looks = np.where(
            inp.claim_first_day > 0,
            np.minimum(inp.claim_first_day, inp.claim_last_from),
            inp.claim_last_from,
        )
        first = np.full(len(inp.plan.bases), inp.grid.n_days - 1)
        np.minimum.at(first, base[inp.claim_series[used]], looks[used])
        return {
            s: pd.Timestamp(inp.grid.dates[first[b]]) for s, b in zip(inp.series, base, strict=True)
        }

    def _day_index(self, date: Any) -> int:
        d = parse_date(date)
        grid = self.inputs.grid
        if not grid.start <= d <= grid.end:
            raise ValueError(f"date {d} is outside the fitted grid {grid.start}..{grid.end}")
        return grid.day(d)

    def sources(self, *, level: float = DEFAULT_LEVEL) -> pd.DataFrame:
        """Bias factor of each speaker (source about one side) at ``as_of``, posterior and
        prior.

        ``bias_factor`` is the posterior median of claim / truth (×3.1 means the speaker
        reports 3.1 times the true count) on the ``as_of`` date: for a running tally, its
        bias plus its drift to that day (``drift_factor``, the drift alone; 1 for other
        speakers; see :meth:`drift` for its path). The prior columns include the drift's
        prior to that day. ``learned`` is 1 − posterior sd / prior sd of the log factor:
        near 0 means the claims taught the model nothing about this source and its factor
        is the prior's.
        """
        return self._memo(("sources", level), lambda: self._sources(level))

    def _drift_at(self, day: int) -> np.ndarray:
        """Posterior log drift of every speaker on grid day ``day``: (sample, speaker)."""
        inp = self.inputs
        post = self.idata.posterior
        out = np.zeros((post.sizes["chain"] * post.sizes["draw"], len(inp.speakers)))
        if inp.running:
            left, right, frac = inp.grid.interpolation()
            knots = self._flat(np.asarray(self.idata.posterior["bias_drift"]))
            at = knots[..., left[day]] * (1 - frac[day]) + knots[..., right[day]] * frac[day]
            out[:, inp.running] = at
        return out

    def _drift_prior_var(self, day: int) -> np.ndarray:
        """Prior variance of every speaker's log drift on grid day ``day``: (speaker,)."""
        inp = self.inputs
        out = np.zeros(len(inp.speakers))
        knots = inp.grid.knots
        left, right, frac = inp.grid.interpolation()
        l_, r_ = left[day], right[day]
        for row, j in enumerate(inp.running):
            k0 = inp.running_first_knot[row]
            if r_ <= k0:
                continue  # before the tally's first knot the drift is fixed at 0
            var_left = knots[l_] - knots[k0] if l_ > k0 else 0.0
            out[j] = inp.priors.bias_drift**2 * (
                var_left + frac[day] ** 2 * (knots[r_] - knots[l_])
            )
        return out

    def _sources(self, level: float) -> pd.DataFrame:
        day = self.inputs.grid.day(self.settings.as_of)
        drift = self._drift_at(day)
        post = self._flat(np.asarray(self.idata.posterior["bias"])) + drift  # (sample, speaker)
        q = _quantiles(np.exp(post), _levels(level))
        drift_median = np.median(np.exp(drift), axis=0)
        drift_var = self._drift_prior_var(day)
        rows = []
        for j, ((source, side), source_type) in enumerate(
            zip(self.inputs.speakers, self.inputs.speaker_types, strict=True)
        ):
            p_lo, p_med, p_hi, prior_sd = _prior_with_drift(
                self.inputs.speaker_priors[j], drift_var[j], level
            )
            rows.append(
                {
                    "source": source,
                    "side": side,
                    "source_type": source_type,
                    "n_claims": int(np.sum(self.inputs.claim_speaker == j)),
                    "bias_factor": float(q["median"][j]),
                    **{k: float(v[j]) for k, v in q.items() if k.startswith(("low_", "high_"))},
                    "drift_factor": float(drift_median[j]),
                    f"prior_low_{level_pct(level)}": p_lo,
                    "prior_median": p_med,
                    f"prior_high_{level_pct(level)}": p_hi,
                    "learned": float(1 - post[:, j].std(ddof=1) / prior_sd) if prior_sd else 0.0,
                }
            )
        return pd.DataFrame(rows)

    def drift(self, *, level: float = DEFAULT_LEVEL) -> pd.DataFrame:
        """Posterior path of each running tally's drift factor, at the knots.

        One row per (source, side, date); ``median`` and the interval bounds are of
        exp(drift): the factor by which the tally's bias on that date differs from its
        bias at its first figure (1 before it). Empty when no speaker has a running
        tally. The drift is linear between knots.
        """
        return self._memo(("drift", level), lambda: self._drift(level))

    def _drift(self, level: float) -> pd.DataFrame:
        inp = self.inputs
        columns = ["source", "side", "date", "median", *_interval_names(level)]
        if not inp.running:
            return pd.DataFrame(columns=columns)
        knots = self._flat(np.asarray(self.idata.posterior["bias_drift"]))  # (s, run, knot)
        q = _quantiles(np.exp(knots), _levels(level))
        dates = pd.to_datetime(inp.grid.dates[inp.grid.knots])
        frames = []
        for row, j in enumerate(inp.running):
            source, side = inp.speakers[j]
            frame = pd.DataFrame({"source": source, "side": side, "date": dates})
            frame["median"] = q["median"][row]
            for name in _interval_names(level):
                frame[name] = q[name][row]
            frames.append(frame)
        return pd.concat(frames, ignore_index=True)[columns]

    def predictive_draws(self, *, random_seed: int | None = None) -> np.ndarray:
        """Posterior predictive log-figures each claim's speaker would state: (sample, claim).

        As the likelihood reads each claim: count × bias × heavy-tailed noise for an
        ordinary claim; for a running tally's later figure, its previous figure plus a
        rise drawn as the model reads rises (given the previous rise's error), i.e. what
        the tally would say next. Deterministic for a given seed (default: the fit's).
        """
        seed = self.settings.random_seed if random_seed is None else random_seed
        rng = np.random.default_rng([seed, 1])
        inp = self.inputs
        loc = self._flat(np.asarray(self.idata.posterior["claim_loc"]))
        scale = np.sqrt(inp.claim_noise**2 + inp.claim_extra_sigma**2)
        out = loc + scale * rng.standard_t(NOISE_NU, size=loc.shape)
        central = np.flatnonzero(inp.claim_kind == KIND_CODES["central"])
        if len(central):
            # the two-piece likelihood: above loc with probability below / (below + above)
            below, above = central_sides(inp, central)
            size = (loc.shape[0], len(central))
            up = rng.random(size) < below / (below + above)
            t = np.abs(rng.standard_t(NOISE_NU, size=size))
            out[:, central] = loc[:, central] + np.where(up, below * t, -above * t)
        inc = inp.increments
        if len(inc):
            mean, sd, u_prev = self._rise_terms(loc)
            e = RISE_T_SCALE * rng.standard_t(NOISE_NU, size=mean.shape)
            rise = mean + sd * (inc.rho * u_prev + np.sqrt(1 - inc.rho**2) * e)
            # a draw below zero is a figure nobody would give: the smallest positive one
            out[:, inc.claim] = np.log(np.maximum(inc.level + rise, np.finfo(float).tiny))
        return out

    def _rise_terms(self, loc: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per draw and rise (sample, rise): expected rise, its sd, and the previous
        rise's standardised error (0 for a tally's first rise), as the likelihood has them."""
        inp = self.inputs
        inc = inp.increments
        cum = self._flat(self.cumulative_draws)  # (sample, series, day), category included
        series = inp.claim_series[inc.claim]
        rise = cum[:, series, inc.last_day] - cum[:, series, inc.first_day - 1]
        log_count = self._flat(np.asarray(self.idata.posterior["log_count"]))
        mean = rise * np.exp(loc[:, inc.claim] - log_count[:, inc.claim])
        noise = self._flat(np.asarray(self.idata.posterior["rise_noise"]))  # (sample, running)
        rate_sd = inc.rate_sd * noise[:, inp.rise_tally] / inp.priors.running_noise
        sd = rise_scale(mean, inc.level, rate_sd, inp.priors.running_level_noise)
        u = (inc.value - mean) / sd
        u_prev = np.where(inc.prev >= 0, u[:, np.maximum(inc.prev, 0)], 0.0)
        return mean, sd, u_prev

    def claims_check(self, *, level: float = DEFAULT_LEVEL) -> pd.DataFrame:
        """Per claim: what the model expects that source to say, and how surprising it is.

        ``p_value`` is the posterior predictive probability of a figure at least as
        extreme as a point claim (two-sided), or of the stated event for a range, floor
        or ceiling; ``surprising`` flags p < 0.01 (outside the 99% predictive interval,
        :data:`~casualty_models.diagnostics.MODEL_CHECK_LEVEL`, whatever ``level``, which
        sets the ``predicted_*`` interval columns). The claim itself is part of
        the fit, so this understates surprise (see leave-one-source-out for the strict
        version). ``role`` says how the claim entered the fit: ``claim``, ``tally rise``
        (a running tally's later figure, read through its rise: the prediction is what
        the tally would say next, given its previous figure), ``spike (left out)`` or
        ``restatement`` (published again later; only the latest publication counts).
        """
        return self._memo(("claims_check", level), lambda: self._claims_check(level))

    @cached_property
    def _predictive_p(self) -> np.ndarray:
        """(n_claims,) posterior predictive p-value of each claim (see claims_check)."""
        pred = self.predictive_draws()
        inp = self.inputs
        # a point (or a range with a stated probability) or a central estimate
        point = np.isin(inp.claim_kind, [KIND_CODES["point"], KIND_CODES["central"]])
        y = np.where(point, inp.claim_log_value, 0.0)
        two_sided = 2 * np.minimum((pred <= y).mean(axis=0), (pred >= y).mean(axis=0))
        inside = ((pred >= inp.claim_log_low) & (pred <= inp.claim_log_high)).mean(axis=0)
        return np.minimum(np.where(point, two_sided, inside), 1.0)

    def _claims_check(self, level: float) -> pd.DataFrame:
        inp = self.inputs
        q = _quantiles(np.exp(self.predictive_draws()), _levels(level))
        p = self._predictive_p
        role = inp.claim_role
        rows = []
        for i, c in enumerate(self.claims):
            rows.append(
                {
                    "claim": i,
                    "source": c.source,
                    "source_type": c.source_type,
                    "side": c.side,
                    "category": c.category,
                    "as_of": pd.Timestamp(c.as_of),
                    "kind": c.kind,
                    "claimed": c.describe(),
                    "value": c.value,
                    "low": c.low,
                    "high": c.high,
                    "role": role[i],
                    "predicted_median": float(q["median"][i]),
                    **{
                        f"predicted_{k}": float(v[i])
                        for k, v in q.items()
                        if k.startswith(("low_", "high_"))
                    },
                    "p_value": float(p[i]),
                    "surprising": bool(p[i] < SURPRISE_P),
                }
            )
        return pd.DataFrame(rows)

    # ------------------------------------------------------------------------ trust
    def sensitivity(self, **kwargs: Any) -> pd.DataFrame:
        """How the headline moves when each source type's bias prior changes.

        Keyword arguments as :func:`casualty_models.trust.sensitivity` (``scales``,
        ``shifts``, ``source_types``, ``method``, ``executor``, ``draws``, ``tune``,
        ``level``); unknown ones raise TypeError.
        """
        result: pd.DataFrame = _hooks.call("Estimate.sensitivity", self, **kwargs)
        return result

    def prior_sensitivity(self) -> pd.DataFrame:
        """Do the bias priors decide the answer? Power-scaling sensitivity of each
        headline and each speaker's bias, from the draws (no refit); a ``verdict`` per
        row: ``fine``, ``prior dominates`` or ``prior-data conflict``. See
        :func:`casualty_models.sensitivity.prior_sensitivity`."""
        return self._memo(
            ("prior_sensitivity",), lambda: _hooks.call("Estimate.prior_sensitivity", self)
        )

    def leave_one_source_out(self, **kwargs: Any) -> pd.DataFrame:
        """How the headline moves when each source is left out (a refit per source).

        Keyword arguments as :func:`casualty_models.trust.leave_one_source_out`
        (``sources``, ``executor``, ``draws``, ``tune``, ``level``).
        """
        result: pd.DataFrame = _hooks.call("Estimate.leave_one_source_out", self, **kwargs)
        return result

    def compare(self, old: Any, **kwargs: Any) -> Comparison:
        """What changed since ``old`` (an earlier Estimate, a saved ``.nc`` file, or the
        output folder holding one): claims added, removed and edited, the headlines and
        source biases before and after, and how far each changed claim alone moved each
        headline.

        Keyword arguments as :func:`casualty_models.compare.compare` (``method``,
        ``executor``, ``level``, ``pareto_k_max``, ``progress``).
        """
        result: Comparison = _hooks.call("Estimate.compare", self, old, **kwargs)
        return result

    # ------------------------------------------------------------------ plots and I/O
    @property
    def plot(self) -> PlotAccessor:
        """Plot namespace: ``est.plot.panels()`` (the main figure), ``.claims()``,
        ``.timeline()``, ``.sources()``, ``.drift()``, ``.ppc()``."""
        accessor: PlotAccessor = _hooks.call("Estimate.plot", self)
        return accessor

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready results: series, sources, diagnostics, fingerprint, version."""
        summ = self.summary()
        lvl = level_pct(DEFAULT_LEVEL)
        series = []
        for (side, category), frame in summ.groupby(["side", "category"], sort=False):
            values = [
                {
                    "date": date.strftime("%Y-%m-%d"),
                    "mean": mean,
                    "median": median,
                    "interval_50": [lo50, hi50],
                    f"interval_{lvl}": [lo, hi],
                }
                for date, mean, median, lo50, hi50, lo, hi in zip(
                    frame["date"],
                    frame["mean"],
                    frame["median"],
                    frame["low_50"],
                    frame["high_50"],
                    frame[f"low_{lvl}"],
                    frame[f"high_{lvl}"],
                    strict=True,
                )
            ]
            series.append({"side": side, "category": category, "values": values})
        src = self.sources()
        sources = [
            {
                "source": r["source"],
                "side": r["side"],
                "source_type": r["source_type"],
                "n_claims": r["n_claims"],
                "bias_factor": r["bias_factor"],
                f"interval_{lvl}": [r[f"low_{lvl}"], r[f"high_{lvl}"]],
                "drift_factor": r["drift_factor"],
                "prior_median": r["prior_median"],
                "learned": r["learned"],
            }
            for r in src.to_dict(orient="records")
        ]
        head = []
        for r in self.headline().to_dict(orient="records"):
            row: dict[str, Any] = {
                "side": r["side"],
                "category": r["category"],
                "estimable": bool(r["estimable"]),
                "last_claim": r["last_claim"].strftime("%Y-%m-%d"),
                "estimable_until": r["estimable_until"].strftime("%Y-%m-%d"),
            }
            # a figure resting on the prior alone is withheld, not published
            keys = ("median", "mean", "low_50", "high_50", f"low_{lvl}", f"high_{lvl}")
            row.update({k: (r[k] if r["estimable"] else None) for k in keys})
            head.append(row)
        d = self.diagnostics
        return {
            "package_version": self.version,
            "claims_fingerprint": self.claims.fingerprint,
            "credible_level": DEFAULT_LEVEL,
            "as_of": self.settings.as_of.isoformat(),
            "settings": self.settings.to_dict(),
            "headline": head,
            "series": series,
            "sources": sources,
            "prior_sensitivity": _hooks.call("Estimate.prior_sensitivity_json", self),
            "diagnostics": {
                "r_hat_max": d.r_hat_max,
                "ess_bulk_min": d.ess_bulk_min,
                "ess_tail_min": d.ess_tail_min,
                "divergences": d.divergences,
                "converged": d.converged,
                "claims_checked": d.claims_checked,
                "claims_implausible": d.claims_implausible,
                "worst_claims": list(d.worst_claims),
                "priors_decide": list(d.priors_decide),
                "model_ok": d.model_ok,
                "ok": d.ok,
                "problems": d.problems(),
                "attempts": self.attempts,
            },
        }

    def to_json(self, path: Any = None, *, indent: int | None = 2) -> str:
        """:meth:`to_dict` as JSON text; also written atomically to ``path`` if given."""
        text = json.dumps(self.to_dict(), indent=indent, allow_nan=False, default=_json_default)
        if path is not None:
            atomic_write(path, text + "\n")
        return text

    def save(self, path: Any) -> None:
        """Write the whole estimate (posterior, claims, settings) to one netCDF file."""
        meta = {
            "format": 1,
            "package_version": self.version,
            "claims_fingerprint": self.claims.fingerprint,
            "claims_origin": self.claims.origin,
            "claims": self.claims.to_records(),
            "claims_places": [list(place) for place in self.claims.places],
            "settings": self.settings.to_dict(),
        }
        write_netcdf(path, self.idata, meta)

    @classmethod
    def load(cls, path: Any) -> Estimate:
        """Read an estimate written by :meth:`save`; checks the claims fingerprint."""
        idata, meta = read_netcdf(path)
        claims = records_to_claims(meta["claims"], f"{path} (saved claims)")
        places = [tuple(p) for p in meta["claims_places"]] if "claims_places" in meta else None
        claims = ClaimSet._trusted(tuple(claims), meta.get("claims_origin", str(path)), places)
        if claims.fingerprint != meta["claims_fingerprint"]:
            raise ValueError(
                f"{path}: the saved claims do not match their fingerprint; "
                "the file was altered or is corrupt"
            )
        return cls(
            claims=claims,
            settings=FitSettings.from_dict(meta["settings"]),
            idata=idata,
            version=meta["package_version"],
        )

    def _repr_html_(self) -> str:
        """Rich display in a notebook: headline table, one sentence per series, a
        diagnostics badge and the main figure (:mod:`casualty_models.report.notebook`)."""
        html: str = _hooks.call("Estimate._repr_html_", self)
        return html

    def __repr__(self) -> str:
        head = self.headline()
        lvl = level_pct(DEFAULT_LEVEL)
        parts = [
            f"{r.side}/{r.category}: {r.median:,.0f} ({lvl}% {getattr(r, f'low_{lvl}'):,.0f}–"
            f"{getattr(r, f'high_{lvl}'):,.0f})"
            if r.estimable
            else f"{r.side}/{r.category}: not estimable since {r.estimable_until:%Y-%m-%d}"
            for r in head.itertuples()
        ]
        return (
            f"Estimate(as_of {self.settings.as_of}, {len(self.claims)} claims; "
            + "; ".join(parts)
            + ")"
        )

    # ---- data for plots
    # The tables :mod:`casualty_models.plots` draws (besides summary, headline, sources,
    # drift and claims_check): every number a figure shows is computed here, none in
    # the plotting code. Owned by the plots; nothing above this block depends on it.
    def claim_figures(self) -> pd.DataFrame:
        """One row per claim, in order: what it states and how it lies on the curves.

        Columns: ``claim`` (index), ``source``, ``source_type``, ``side``,
        ``category``, ``as_of``, ``reported``, ``period_start`` (NaT when the claim
        counts since the event began), ``kind`` (``point``, ``central``, ``range``,
        ``floor`` or ``ceiling``), ``value``, ``low``, ``high`` (NaN where absent),
        ``cumulative`` (the claim counts from the grid's start, so it is a level of the
        cumulative curve of :meth:`summary`; False for a count of a later window) and
        ``used`` (it informs the fit; False for a spike, a restatement, an echo or a
        same-day alternative, see ``claims_check()["role"]``).
        """
        return self._memo(("claim_figures",), self._claim_figures)

    def _claim_figures(self) -> pd.DataFrame:
        start = self.settings.start
        columns = ["claim", "source", "source_type", "side", "category", "as_of", "reported"]
        columns += ["period_start", "kind", "value", "low", "high", "cumulative", "used"]
        rows = [
            {
                "claim": i,
                "source": c.source,
                "source_type": c.source_type,
                "side": c.side,
                "category": c.category,
                "as_of": pd.Timestamp(c.as_of),
                "reported": pd.Timestamp(c.reported or c.as_of),
                "period_start": pd.Timestamp(c.period_start) if c.period_start else pd.NaT,
                "kind": c.kind,
                "value": math.nan if c.value is None else c.value,
                "low": math.nan if c.low is None else c.low,
                "high": math.nan if c.high is None else c.high,
                "cumulative": c.period_start is None or c.period_start == start,
                "used": bool(used),
            }
            for i, (c, used) in enumerate(zip(self.claims, self.inputs.claim_used, strict=True))
        ]
        out = pd.DataFrame(rows, columns=columns)
        for col in ("as_of", "reported", "period_start"):
            out[col] = pd.to_datetime(out[col])
        return out.astype({"value": float, "low": float, "high": float})

    def claim_counts(self, *, level: float = DEFAULT_LEVEL) -> pd.DataFrame:
        """Posterior of the true count each claim is about: one row per claim, in order.

        The count is that of the claim's series over the claim's own window (since the
        start, or from its ``period_start``) on its ``as_of`` date. Columns: ``claim``
        (index), ``median`` and the bounds of the 50% and ``level`` equal-tailed
        intervals (``low_50``, ``high_50``, ``low_90``, ``high_90`` at the default
        level), in people: quantiles of the log count, exponentiated.
        """
        return self._memo(("claim_counts", level), lambda: self._claim_counts(level))

    def _claim_counts(self, level: float) -> pd.DataFrame:
        log_count = self._flat(np.asarray(self.idata.posterior["log_count"]))  # (sample, claim)
        out = pd.DataFrame({"claim": np.arange(log_count.shape[1])})
        out["median"] = np.exp(np.median(log_count, axis=0))
        for lv in _levels(level):
            lo, hi = np.exp(np.quantile(log_count, [(1 - lv) / 2, (1 + lv) / 2], axis=0))
            out[f"low_{level_pct(lv)}"] = lo
            out[f"high_{level_pct(lv)}"] = hi
        return out


def _json_default(x: Any) -> Any:
    if isinstance(x, np.integer | np.bool_):
        return x.item()
    if isinstance(x, np.floating):
        return float(x)
    if isinstance(x, dt.date):
        return x.isoformat()
    raise TypeError(f"not JSON serialisable: {type(x).__name__}")


def load(path: Any) -> Estimate:
    """Read an estimate written by :meth:`Estimate.save` (same as :meth:`Estimate.load`)."""
    return Estimate.load(path)
