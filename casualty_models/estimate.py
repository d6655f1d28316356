"""fit() and the immutable Estimate it returns: summaries, source biases, claim checks."""

from __future__ import annotations

import datetime as dt
import json
import logging
import math
import secrets
import time
import warnings
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field, fields, replace
from functools import cached_property
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from scipy import stats

from casualty_models._version import __version__
from casualty_models.claims import ClaimSet, parse_date, read_claims
from casualty_models.diagnostics import (
    MODEL_CHECK_LEVEL,
    R_HAT_MAX,
    ConvergenceWarning,
    Diagnostics,
    ModelCheckWarning,
    draws_needed,
)
from casualty_models.model import (
    KIND_CODES,
    NOISE_NU,
    RISE_T_SCALE,
    ModelInputs,
    central_sides,
    prepare,
    rise_scale,
)
from casualty_models.sources import DEFAULT_LEVEL, SUMMARY_LEVELS, Priors

if TYPE_CHECKING:
    import arviz as az

    from casualty_models.plotting import PlotAccessor

MAX_TREE_DEPTH = 10
SAMPLERS = ("auto", "pymc", "nutpie")
# Every claim ties a curve's level to its speaker's bias, a correlation a diagonal mass
# matrix cannot absorb. Small models: PyMC's NUTS with a dense mass matrix, whose compiled
# C code is cached across runs. Larger ones (running tallies, years of knots): nutpie's
# low-rank mass matrix, which adapts where PyMC's dense adaptation stalled (one chain
# at step size 0.001 on the bundled war data; R-hat 1.09-1.36 on synthetic sets of
# 120-140 parameters, where nutpie reached 1.003-1.008) and costs O(d) per step.
NUTPIE_MIN_PARAMS = 100


@dataclass(frozen=True)
class FitSettings:
    """Everything besides the claims that determines a fit's numbers."""

    start: dt.date
    end: dt.date
    as_of: dt.date
    as_reported_on: dt.date | None = None
    draws: int = 1500
    tune: int = 1000
    chains: int = 2
    target_accept: float = 0.8
    random_seed: int = 0
    priors: Priors = field(default_factory=Priors)
    sampler: str = "auto"
    max_attempts: int = 3

    def to_dict(self) -> dict[str, Any]:
        out = {f.name: getattr(self, f.name) for f in fields(self)}
        out["priors"] = self.priors.to_dict()
        for key in ("start", "end", "as_of", "as_reported_on"):
            out[key] = None if out[key] is None else out[key].isoformat()
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FitSettings:
        data = dict(data)
        for key in ("start", "end", "as_of", "as_reported_on"):
            data[key] = None if data.get(key) is None else dt.date.fromisoformat(data[key])
        data["priors"] = Priors.from_dict(data["priors"])
        return cls(**data)


def _positive_int(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def fit(
    claims: ClaimSet | Any,
    *,
    as_of: dt.date | str | None = None,
    start: dt.date | str | None = None,
    as_reported_on: dt.date | str | None = None,
    priors: Priors | None = None,
    draws: int = 1500,
    tune: int = 1000,
    chains: int = 2,
    cores: int | None = None,
    target_accept: float = 0.8,
    random_seed: int | None = None,
    sampler: str = "auto",
    max_attempts: int = 3,
    progressbar: bool = False,
) -> Estimate:
    """Fit the model to ``claims`` and return a new :class:`Estimate`.

    ``as_of`` is the date of the headline estimate (default: the latest claim's
    ``as_of``); the daily grid runs from ``start`` (default: the earliest
    ``period_start`` among the claims) to the later of ``as_of`` and the latest claim.
    ``as_reported_on`` keeps only the claims published by that date (a vintage: what
    could have been known then) and makes it the default ``as_of``; a later ``as_of``
    extends the estimate past the last claim, with intervals that widen.
    ``random_seed`` fixes every random number; when None a seed is drawn and recorded in
    ``estimate.settings`` so the fit can be repeated exactly. ``cores`` (default
    ``min(chains, 2)``) does not change the numbers, only the wall time. ``sampler``:
    "pymc" (NUTS, dense mass matrix), "nutpie" (NUTS, low-rank mass matrix) or "auto"
    (PyMC below :data:`NUTPIE_MIN_PARAMS` parameters, else nutpie).

    When the sampler's checks fail (R-hat, ESS, divergences), ``fit`` continues on its
    own, up to ``max_attempts`` runs in all (1: never): more draws when only the ESS is
    short, else longer tuning, a higher ``target_accept`` after divergences, and then
    the other sampler; the best run is kept and every run is listed in
    :attr:`Estimate.attempts`. The continuation is seeded from ``random_seed``, so a fit
    stays exactly repeatable. Each run costs at most about twice the first.
    """
    claims = read_claims(claims)
    if len(claims) == 0:
        raise ValueError("no claims to fit")
    priors = Priors() if priors is None else priors
    if not isinstance(priors, Priors):
        raise TypeError(f"priors must be a casualty_models.Priors, got {type(priors).__name__}")
    draws, tune, chains, max_attempts = (
        _positive_int(n, v)
        for n, v in (
            ("draws", draws),
            ("tune", tune),
            ("chains", chains),
            ("max_attempts", max_attempts),
        )
    )
    if sampler not in SAMPLERS:
        raise ValueError(f"sampler must be one of {', '.join(SAMPLERS)}, got {sampler!r}")
    if not 0.5 <= target_accept < 1:
        raise ValueError(f"target_accept must be in [0.5, 1), got {target_accept}")
    cores = min(chains, 2) if cores is None else _positive_int("cores", cores)
    if random_seed is None:
        random_seed = secrets.randbits(31)
    elif (
        isinstance(random_seed, bool)
        or not isinstance(random_seed, int | np.integer)
        or random_seed < 0
    ):
        raise ValueError(f"random_seed must be a non-negative integer, got {random_seed!r}")

    starts = [c.period_start for c in claims if c.period_start is not None]
    if start is not None:
        start_date = parse_date(start)
    elif starts:
        start_date = min(starts)
    else:
        raise ValueError(
            "no start date: give fit(..., start='YYYY-MM-DD') (the day counting began, "
            "e.g. the first day of the war), or set period_start on the claims"
        )
    vintage = None
    if as_reported_on is not None:
        vintage = parse_date(as_reported_on)
        claims = claims.filter(reported_by=vintage)
        if len(claims) == 0:
            raise ValueError(f"no claims were published by {vintage} (as_reported_on)")
    last_claim = max(c.end() or c.as_of for c in claims)
    default_as_of = last_claim if vintage is None else max(vintage, last_claim)
    as_of_date = default_as_of if as_of is None else parse_date(as_of)
    if as_of_date < start_date:
        raise ValueError(f"as_of {as_of_date} is before start {start_date}")
    settings = FitSettings(
        start=start_date,
        end=max(as_of_date, last_claim),
        as_of=as_of_date,
        as_reported_on=vintage,
        draws=draws,
        tune=tune,
        chains=chains,
        target_accept=float(target_accept),
        random_seed=int(random_seed),
        priors=priors,
        sampler=sampler,
        max_attempts=max_attempts,
    )
    inputs = prepare(claims, start=settings.start, end=settings.end, priors=priors)
    est = _sample_until_converged(claims, inputs, settings, cores=cores, progressbar=progressbar)
    d = est.diagnostics
    if not d.converged:
        tried = "; ".join(f"{a['reason']} ({a['sampler']})" for a in est.attempts)
        warnings.warn(
            "; ".join(d.sampler_problems())
            + f". Runs tried: {tried}. Remedies: "
            + "; ".join(r for r in d.remedies() if "claims_check() (surprising" not in r),
            ConvergenceWarning,
            stacklevel=2,
        )
    if not d.model_ok:
        warnings.warn(
            "; ".join(d.model_problems()) + ". Remedy: " + d.remedies()[-1],
            ModelCheckWarning,
            stacklevel=2,
        )
    return est


@dataclass(frozen=True)
class Attempt:
    """One sampler run of :func:`fit`: its settings, and why it was run."""

    sampler: str
    draws: int
    tune: int
    target_accept: float
    random_seed: int
    reason: str = "first run"


def _next_attempt(prev: Attempt, d: Diagnostics, k: int, settings: FitSettings) -> Attempt:
    """The ``k``-th continuation (1, 2, ...) after a run whose sampler checks failed.

    Short ESS alone: the same run with the draws the ESS asks for (at most 4x).
    Otherwise (R-hat, divergences): twice the tuning and draws and, after divergences,
    a higher target_accept; from the second continuation on, the other sampler too.
    Every run costs at most about twice the first, so a fit is at most 5x the work of
    its first run with the default three attempts.
    """
    seed = int(np.random.SeedSequence([settings.random_seed, k]).generate_state(1)[0] >> 1)
    if d.divergences == 0 and d.r_hat_max <= R_HAT_MAX:
        draws = min(max(draws_needed(d), prev.draws), 4 * settings.draws)
        return replace(prev, draws=draws, random_seed=seed, reason="ESS below 400: more draws")
    other = {"pymc": "nutpie", "nutpie": "pymc"}[prev.sampler] if k >= 2 else prev.sampler
    target = max(prev.target_accept, 0.95) if d.divergences else prev.target_accept
    why = "divergent transitions" if d.divergences else f"R-hat {d.r_hat_max:.3f}"
    return Attempt(
        sampler=other,
        draws=2 * settings.draws,
        tune=2 * settings.tune,
        target_accept=target,
        random_seed=seed,
        reason=f"{why}: longer tuning"
        + (", higher target_accept" if target > prev.target_accept else "")
        + (f", sampler {other}" if other != prev.sampler else ""),
    )


def _sample_until_converged(
    claims: ClaimSet, inputs: ModelInputs, settings: FitSettings, *, cores: int, progressbar: bool
) -> Estimate:
    """Sample; while the sampler checks fail, continue (at most ``settings.max_attempts``
    runs, see :func:`_next_attempt`); return the best run, with every run recorded in
    ``idata.sample_stats.attrs["attempts"]`` (JSON)."""
    from casualty_models.model import build_model

    model = build_model(inputs)
    sampler = settings.sampler
    if sampler == "auto":
        n_params = sum(np.size(v) for v in model.initial_point().values())
        sampler = "nutpie" if n_params >= NUTPIE_MIN_PARAMS else "pymc"
    attempt = Attempt(
        sampler, settings.draws, settings.tune, settings.target_accept, settings.random_seed
    )
    compiled: dict[str, Any] = {}  # nutpie's compiled model, reused by later runs
    runs: list[tuple[Estimate, dict[str, Any]]] = []
    for k in range(settings.max_attempts):
        if k:
            attempt = _next_attempt(attempt, runs[-1][0].diagnostics, k, settings)
        began = time.perf_counter()
        idata = _run(model, attempt, settings.chains, cores, progressbar, compiled)
        est = Estimate(claims=claims, settings=settings, idata=idata)
        d = est.diagnostics
        record = {
            **asdict(attempt),
            "seconds": round(time.perf_counter() - began, 1),
            "r_hat_max": d.r_hat_max,
            "ess_bulk_min": d.ess_bulk_min,
            "ess_tail_min": d.ess_tail_min,
            "divergences": d.divergences,
            "converged": d.converged,
        }
        runs.append((est, record))
        if d.converged:
            break
    best, _ = min(runs, key=lambda run: _badness(run[0].diagnostics))
    best.idata.sample_stats.attrs["attempts"] = json.dumps([r for _, r in runs], default=float)
    return best


def _badness(d: Diagnostics) -> tuple[Any, ...]:
    """Orders runs: converged first, then fewer divergences, lower R-hat, higher ESS."""
    r_hat = d.r_hat_max if np.isfinite(d.r_hat_max) else np.inf
    return (not d.converged, d.divergences > 0, r_hat, -min(d.ess_bulk_min, d.ess_tail_min))


def _run(
    model: Any,
    attempt: Attempt,
    chains: int,
    cores: int,
    progressbar: bool,
    compiled: dict[str, Any],
) -> az.InferenceData:
    """One sampler run; keeps only what results need."""
    from casualty_models._backend import pymc

    pm = pymc()
    logger = logging.getLogger("pymc")
    level = logger.level
    if not progressbar:  # PyMC announces each stage at INFO; quiet unless asked
        logger.setLevel(logging.WARNING)
    try:
        with warnings.catch_warnings():
            # PyMC's own convergence messages are replaced by ours (Diagnostics)
            warnings.filterwarnings("ignore", module="pymc")
            if attempt.sampler == "nutpie":
                idata = _sample_nutpie(model, attempt, chains, cores, progressbar, compiled)
            else:
                idata = pm.sample(
                    model=model,
                    draws=attempt.draws,
                    tune=attempt.tune,
                    chains=chains,
                    cores=cores,
                    init="jitter+adapt_full",
                    target_accept=attempt.target_accept,
                    max_treedepth=MAX_TREE_DEPTH,
                    random_seed=attempt.random_seed,
                    progressbar=progressbar,
                    compute_convergence_checks=False,
                )
    finally:
        logger.setLevel(level)
    idata.sample_stats.attrs["sampler"] = attempt.sampler
    # keep only what results need: the latent curve, biases and claim-level counts
    keep = [
        "log_rate",
        "log_factor",
        "ratio",
        "bias",
        "bias_drift",
        "rise_noise",
        "log_count",
        "claim_loc",
    ]
    idata.posterior = idata.posterior[[v for v in keep if v in idata.posterior]]
    return idata


def _sample_nutpie(
    model: Any,
    attempt: Attempt,
    chains: int,
    cores: int,
    progressbar: bool,
    compiled: dict[str, Any],
) -> az.InferenceData:
    """Sample with nutpie and name its statistics as PyMC does."""
    import nutpie

    if "nutpie" not in compiled:
        compiled["nutpie"] = nutpie.compile_pymc_model(model)
    idata = nutpie.sample(
        compiled["nutpie"],
        draws=attempt.draws,
        tune=attempt.tune,
        chains=chains,
        cores=cores,
        seed=attempt.random_seed,
        save_warmup=False,
        progress_bar=progressbar,
        low_rank_modified_mass_matrix=True,
        target_accept=attempt.target_accept,
        maxdepth=MAX_TREE_DEPTH,
    )
    idata.sample_stats = idata.sample_stats.rename({"depth": "tree_depth", "logp": "lp"})
    return idata


def _quantiles(draws: np.ndarray, levels: Iterable[float]) -> dict[str, np.ndarray]:
    """Mean, median and equal-tailed interval bounds over axis 0."""
    out = {"mean": draws.mean(axis=0), "median": np.median(draws, axis=0)}
    for level in levels:
        lo, hi = np.quantile(draws, [(1 - level) / 2, (1 + level) / 2], axis=0)
        out[f"low_{_pct(level)}"] = lo
        out[f"high_{_pct(level)}"] = hi
    return out


def _pct(level: float) -> str:
    return f"{100 * level:g}"


def _tail(level: float) -> float:
    """1 − level without its floating-point residue (1 − 0.9 is 0.09999999999999998),
    so that a p-value of exactly 0.1 is judged the same way at every level."""
    return round(1 - level, 12)


def _interval_names(level: float) -> list[str]:
    """Interval bound columns in the order summaries give them: low_50, high_50, ..."""
    return [f"{end}_{_pct(lv)}" for lv in _levels(level) for end in ("low", "high")]


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


@dataclass(frozen=True, eq=False)
class Estimate:
    """Result of :func:`fit`: the claims, the settings and the posterior. Immutable.

    Intervals are equal-tailed (they map to the same interval of the log count and of
    any increasing transform, unlike HDIs); the default level is
    :data:`casualty_models.DEFAULT_LEVEL`, and every summary also reports the 50%
    interval.
    """

    claims: ClaimSet
    settings: FitSettings
    idata: az.InferenceData
    version: str = __version__

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

        from casualty_models.diagnostics import compute

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
        sampler = compute(quantities, self.idata.sample_stats, MAX_TREE_DEPTH)
        # the model check covers the claims the fit used (not spikes and restatements)
        used = np.flatnonzero(self.inputs.claim_used)
        p = self._predictive_p[used]
        worst = used[np.argsort(p, kind="stable")[:3]]
        return replace(
            sampler,
            claims_checked=len(used),
            claims_implausible=int((p < _tail(MODEL_CHECK_LEVEL)).sum()),
            worst_claims=tuple(
                f"{self.claims[int(i)].source} {self.claims[int(i)].describe()} "
                f"({self.claims[int(i)].side} {self.claims[int(i)].category}, "
                f"{self.claims[int(i)].as_of}; {self.claims.where(int(i))})"
                for i in worst
            ),
        )

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
        ``high_90`` at the default level), in people.
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
        return out

    def _memo(self, key: tuple[Any, ...], compute: Any) -> pd.DataFrame:
        """Results are pure functions of the estimate: compute once, hand out copies."""
        memo = self.__dict__.setdefault("_results", {})
        if key not in memo:
            memo[key] = compute()
        return memo[key].copy()

    def headline(self, *, level: float = DEFAULT_LEVEL) -> pd.DataFrame:
        """:meth:`summary` at the ``as_of`` date only: one row per series.

        ``last_claim`` is the latest ``as_of`` of any claim on the series' curve (its
        linked categories included): after it the curve is extrapolated by its prior
        alone, and the interval widens with every day.
        """
        out = self.summary(dates=[self.settings.as_of], level=level)
        inp = self.inputs
        base = np.array(inp.plan.series_base)
        last = np.full(len(inp.plan.bases), -1)
        np.maximum.at(last, base[inp.claim_series], inp.claim_last_day)
        by_series = {
            s: pd.Timestamp(inp.grid.dates[last[b]]) for s, b in zip(inp.series, base, strict=True)
        }
        out["last_claim"] = [
            by_series[(str(side), str(cat))]
            for side, cat in zip(out["side"], out["category"], strict=True)
        ]
        return out

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
                    f"prior_low_{_pct(level)}": p_lo,
                    "prior_median": p_med,
                    f"prior_high_{_pct(level)}": p_hi,
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
        or ceiling; ``surprising`` flags p < 1 − ``level``. The claim itself is part of
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
                    "surprising": bool(p[i] < _tail(level)),
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
        from casualty_models.trust import sensitivity

        return sensitivity(self, **kwargs)

    def leave_one_source_out(self, **kwargs: Any) -> pd.DataFrame:
        """How the headline moves when each source is left out (a refit per source).

        Keyword arguments as :func:`casualty_models.trust.leave_one_source_out`
        (``sources``, ``executor``, ``draws``, ``tune``, ``level``).
        """
        from casualty_models.trust import leave_one_source_out

        return leave_one_source_out(self, **kwargs)

    # ------------------------------------------------------------------ plots and I/O
    @property
    def plot(self) -> PlotAccessor:
        """Plot namespace: ``est.plot.claims()``, ``.timeline()``, ``.sources()``."""
        from casualty_models.plotting import PlotAccessor

        return PlotAccessor(self)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready results: series, sources, diagnostics, fingerprint, version."""
        summ = self.summary()
        lvl = _pct(DEFAULT_LEVEL)
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
        d = self.diagnostics
        return {
            "package_version": self.version,
            "claims_fingerprint": self.claims.fingerprint,
            "credible_level": DEFAULT_LEVEL,
            "as_of": self.settings.as_of.isoformat(),
            "settings": self.settings.to_dict(),
            "series": series,
            "sources": sources,
            "diagnostics": {
                "r_hat_max": d.r_hat_max,
                "ess_bulk_min": d.ess_bulk_min,
                "ess_tail_min": d.ess_tail_min,
                "divergences": d.divergences,
                "converged": d.converged,
                "claims_checked": d.claims_checked,
                "claims_implausible": d.claims_implausible,
                "worst_claims": list(d.worst_claims),
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
            from casualty_models._atomic import atomic_write

            atomic_write(path, text + "\n")
        return text

    def save(self, path: Any) -> None:
        """Write the whole estimate (posterior, claims, settings) to one netCDF file."""
        from casualty_models.io import save

        save(self, path)

    def __repr__(self) -> str:
        head = self.headline()
        lvl = _pct(DEFAULT_LEVEL)
        parts = [
            f"{r.side}/{r.category}: {r.median:,.0f} ({lvl}% {getattr(r, f'low_{lvl}'):,.0f}–"
            f"{getattr(r, f'high_{lvl}'):,.0f})"
            for r in head.itertuples()
        ]
        return (
            f"Estimate(as_of {self.settings.as_of}, {len(self.claims)} claims; "
            + "; ".join(parts)
            + ")"
        )


def _json_default(x: Any) -> Any:
    if isinstance(x, np.integer | np.bool_):
        return x.item()
    if isinstance(x, np.floating):
        return float(x)
    if isinstance(x, dt.date):
        return x.isoformat()
    raise TypeError(f"not JSON serialisable: {type(x).__name__}")
