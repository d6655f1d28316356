"""fit() and the immutable Estimate it returns: summaries, source biases, claim checks."""

from __future__ import annotations

import datetime as dt
import json
import logging
import secrets
import warnings
from collections.abc import Iterable
from dataclasses import dataclass, field, fields
from functools import cached_property
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from casualty_models._version import __version__
from casualty_models.claims import ClaimSet, parse_date, read_claims
from casualty_models.diagnostics import ConvergenceWarning, Diagnostics
from casualty_models.model import NOISE_NU, ModelInputs, prepare
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
    """
    claims = read_claims(claims)
    if len(claims) == 0:
        raise ValueError("no claims to fit")
    priors = Priors() if priors is None else priors
    if not isinstance(priors, Priors):
        raise TypeError(f"priors must be a casualty_models.Priors, got {type(priors).__name__}")
    draws, tune, chains = (
        _positive_int(n, v) for n, v in (("draws", draws), ("tune", tune), ("chains", chains))
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
    last_claim = max(c.as_of for c in claims)
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
    )
    inputs = prepare(claims, start=settings.start, end=settings.end, priors=priors)
    idata = _sample(inputs, settings, cores=cores, progressbar=progressbar)
    est = Estimate(claims=claims, settings=settings, idata=idata)
    if not est.diagnostics.ok:
        warnings.warn(est.diagnostics.message(), ConvergenceWarning, stacklevel=2)
    return est


def _sample(
    inputs: ModelInputs, settings: FitSettings, *, cores: int, progressbar: bool
) -> az.InferenceData:
    from casualty_models._backend import pymc
    from casualty_models.model import build_model

    pm = pymc()
    model = build_model(inputs)
    n_params = sum(np.size(v) for v in model.initial_point().values())
    sampler = settings.sampler
    if sampler == "auto":
        sampler = "nutpie" if n_params >= NUTPIE_MIN_PARAMS else "pymc"
    logger = logging.getLogger("pymc")
    level = logger.level
    if not progressbar:  # PyMC announces each stage at INFO; quiet unless asked
        logger.setLevel(logging.WARNING)
    try:
        with warnings.catch_warnings():
            # PyMC's own convergence messages are replaced by ours (Diagnostics)
            warnings.filterwarnings("ignore", module="pymc")
            if sampler == "nutpie":
                idata = _sample_nutpie(model, settings, cores=cores, progressbar=progressbar)
            else:
                idata = pm.sample(
                    model=model,
                    draws=settings.draws,
                    tune=settings.tune,
                    chains=settings.chains,
                    cores=cores,
                    init="jitter+adapt_full",
                    target_accept=settings.target_accept,
                    max_treedepth=MAX_TREE_DEPTH,
                    random_seed=settings.random_seed,
                    progressbar=progressbar,
                    compute_convergence_checks=False,
                )
    finally:
        logger.setLevel(level)
    idata.sample_stats.attrs["sampler"] = sampler
    # keep only what results need: the latent curve, biases and claim-level counts
    keep = ["log_rate", "log_factor", "ratio", "bias", "bias_drift", "log_count", "claim_loc"]
    idata.posterior = idata.posterior[[v for v in keep if v in idata.posterior]]
    return idata


def _sample_nutpie(
    model: Any, settings: FitSettings, *, cores: int, progressbar: bool
) -> az.InferenceData:
    """Sample with nutpie and name its statistics as PyMC does."""
    import nutpie

    compiled = nutpie.compile_pymc_model(model)
    idata = nutpie.sample(
        compiled,
        draws=settings.draws,
        tune=settings.tune,
        chains=settings.chains,
        cores=cores,
        seed=settings.random_seed,
        save_warmup=False,
        progress_bar=progressbar,
        low_rank_modified_mass_matrix=True,
        target_accept=settings.target_accept,
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
        """R-hat, ESS and divergences over the curve, the biases and the claim counts."""
        import xarray as xr

        from casualty_models.diagnostics import compute

        post = self.idata.posterior
        cum = xr.DataArray(
            np.log(self.cumulative_draws),
            dims=("chain", "draw", "series", "date"),
            coords={
                "series": post["log_factor"].coords["series"].values,
                "date": [str(d) for d in self.inputs.grid.dates],
            },
        )
        quantities = {"log_cumulative": cum, "bias": post["bias"], "log_count": post["log_count"]}
        if "ratio" in post:
            quantities["ratio"] = post["ratio"]
        return compute(quantities, self.idata.sample_stats, MAX_TREE_DEPTH)

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
        """Bias factor of each speaker (source about one side), posterior and prior.

        ``bias_factor`` is the posterior median of claim / truth (×3.1 means the speaker
        reports 3.1 times the true count); ``learned`` is 1 − posterior sd / prior sd of
        the log factor: near 0 means the claims taught the model nothing about this
        source and its factor is the prior's.
        """
        return self._memo(("sources", level), lambda: self._sources(level))

    def _sources(self, level: float) -> pd.DataFrame:
        post = self._flat(np.asarray(self.idata.posterior["bias"]))  # (sample, speaker)
        q = _quantiles(np.exp(post), _levels(level))
        rows = []
        for j, ((source, side), source_type) in enumerate(
            zip(self.inputs.speakers, self.inputs.speaker_types, strict=True)
        ):
            prior = self.inputs.speaker_priors[j]
            p_lo, p_med, p_hi = prior.factor_interval(level)
            prior_sd = prior.log_sd
            rows.append(
                {
                    "source": source,
                    "side": side,
                    "source_type": source_type,
                    "n_claims": int(np.sum(self.inputs.claim_speaker == j)),
                    "bias_factor": float(q["median"][j]),
                    **{k: float(v[j]) for k, v in q.items() if k.startswith(("low_", "high_"))},
                    f"prior_low_{_pct(level)}": p_lo,
                    "prior_median": p_med,
                    f"prior_high_{_pct(level)}": p_hi,
                    "learned": float(1 - post[:, j].std(ddof=1) / prior_sd) if prior_sd else 0.0,
                }
            )
        return pd.DataFrame(rows)

    def predictive_draws(self, *, random_seed: int | None = None) -> np.ndarray:
        """Posterior predictive log-figures each claim's speaker would state: (sample, claim).

        Deterministic for a given seed (default: the fit's seed).
        """
        seed = self.settings.random_seed if random_seed is None else random_seed
        rng = np.random.default_rng([seed, 1])
        inp = self.inputs
        loc = self._flat(np.asarray(self.idata.posterior["claim_loc"]))
        scale = np.sqrt(inp.claim_noise**2 + inp.claim_extra_sigma**2)
        return loc + scale * rng.standard_t(NOISE_NU, size=loc.shape)

    def claims_check(self, *, level: float = DEFAULT_LEVEL) -> pd.DataFrame:
        """Per claim: what the model expects that source to say, and how surprising it is.

        ``p_value`` is the posterior predictive probability of a figure at least as
        extreme as a point claim (two-sided), or of the stated event for a range, floor
        or ceiling; ``surprising`` flags p < 1 − ``level``. The claim itself is part of
        the fit, so this understates surprise (see leave-one-source-out for the strict
        version).
        """
        return self._memo(("claims_check", level), lambda: self._claims_check(level))

    def _claims_check(self, level: float) -> pd.DataFrame:
        pred = self.predictive_draws()
        inp = self.inputs
        q = _quantiles(np.exp(pred), _levels(level))
        rows = []
        for i, c in enumerate(self.claims):
            draws = pred[:, i]
            if inp.claim_kind[i] == 0:  # a point, or a range with a stated probability
                y = inp.claim_log_value[i]
                p = 2 * min(np.mean(draws <= y), np.mean(draws >= y))
            else:
                p = float(
                    np.mean((draws >= inp.claim_log_low[i]) & (draws <= inp.claim_log_high[i]))
                )
            p = float(min(p, 1.0))
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
                    "predicted_median": float(q["median"][i]),
                    **{
                        f"predicted_{k}": float(v[i])
                        for k, v in q.items()
                        if k.startswith(("low_", "high_"))
                    },
                    "p_value": p,
                    "surprising": p < 1 - level,
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
                "ok": d.ok,
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
