"""The atlas model: how far each kind of source was off, learned from past events.

For a scored claim *i* (:meth:`Atlas.observations`) by speaker *s* of cell *c* about a
series whose later count is *T*, on the log scale::

    log(figure_i) = log T + bias_s + early * x_i + noise_i
    bias_s        = mu_c + shared_c * u_g + spread_c * v_s        (u, v ~ Normal(0, 1))

* ``mu_c`` is the cell's median log factor for a figure dated at the event's end;
* ``u_g`` is shared by every speaker of the cell about one side in one event (the
  group offset of :class:`~casualty_models.model.priors.SourcePrior`), ``v_s`` is the
  speaker's own deviation; a tally's bias is softly capped below ×1 as in the main model
  (no group offset);
* ``x_i`` is the share of the event still to come at the figure's date, so ``early``
  is how much lower (or higher) a figure dated at the event's start reads than one dated
  at its end: it takes up the counts-to-date as well as early ignorance;
* ``noise_i`` is Student-t (4 df, as in the main model) with one scale for every cell,
  learned from the speakers who gave more than one figure;
* ``log T`` is the later count with its own uncertainty: a split normal whose
  sides put ``low`` and ``high`` at its 5% and 95% points.

Ranges are interval-censored, "at least" and "at most" one-sided, exactly as the main
model reads them. Priors: ``mu_c ~ Normal(0, 1)`` (a factor within ×0.14–×7.4 at 95%),
``spread_c, shared_c ~ HalfNormal(0.5)``, ``noise = 0.05 + HalfNormal(0.3)``,
``early ~ Normal(0, 1)``; cells without claims keep them.

:meth:`AtlasFit.cells` gives, per cell, the posterior predictive of a **new** event's
speaker bias: its median factor, its log-sd, and how that variance splits into a part
shared within a group (the uncertainty of ``mu_c`` itself, which every speaker of a new
event shares, plus ``shared_c``) and a speaker's own part (``spread_c``). Those are the
numbers a preset needs (:mod:`casualty_models.atlas.preset`).
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from casualty_models.atlas.data import CELLS, Atlas, records
from casualty_models.model.priors import CAP_SHARPNESS

__all__ = [
    "MU_SD",
    "NOISE_FLOOR",
    "NOISE_SD",
    "SIGMA_SD",
    "AtlasFit",
    "AtlasInputs",
    "build_atlas_model",
    "fit_atlas",
    "prepare",
]

MU_SD = 1.0
"""Prior sd of a cell's median log factor."""
SIGMA_SD = 0.5
"""Prior scale (half-normal) of a cell's spread and shared sd: about the size of the
package defaults' spreads (0.15-0.6), wide enough for data to move it."""
NOISE_SD = 0.3
"""Prior scale (half-normal) of the claims' noise above :data:`NOISE_FLOOR`."""
NOISE_FLOOR = 0.05
"""Least noise scale: published figures are rounded ("about 20,000") and dated loosely, so
no kind of source repeats the truth to better than a few percent. The floor also keeps
the sampler out of the funnel that a noise near 0 makes with the speakers' offsets (on
simulated atlases with noise 0.002, tree depth 10 and R-hat 1.5)."""
CAPPED = frozenset({"tally"})
"""Cells whose bias is capped at ×1, with no group offset (as the main model's tally)."""

KIND_CODES = {"point": 0, "floor": 1, "ceiling": 2, "range": 3}


@dataclass(frozen=True)
class AtlasInputs:
    """The observations as arrays, with the index maps the model needs."""

    obs: pd.DataFrame
    cell: np.ndarray  # per speaker
    speaker: np.ndarray  # per claim
    group: np.ndarray  # per speaker: its group, -1 for capped cells
    group_cell: np.ndarray  # per group
    series: np.ndarray  # per claim
    count_log: np.ndarray  # per series
    count_sd_low: np.ndarray
    count_sd_high: np.ndarray
    kind: np.ndarray  # per claim, KIND_CODES
    y: np.ndarray  # log value (point), else 0
    lo: np.ndarray  # log low (floor, range), else 0
    hi: np.ndarray  # log high (ceiling, range), else 0
    early: np.ndarray  # per claim
    speakers: list[str]
    groups: list[str]
    series_keys: list[str]


def prepare(obs: pd.DataFrame) -> AtlasInputs:
    """Arrays of the observation table ``obs`` (:meth:`Atlas.observations`)."""
    obs = obs.reset_index(drop=True)
    speakers = list(dict.fromkeys(obs["speaker"]))
    spk_index = {s: i for i, s in enumerate(speakers)}
    first = obs.drop_duplicates("speaker").set_index("speaker")
    cell = np.array([CELLS.index(first.loc[s, "cell"]) for s in speakers], dtype=int)
    groups = list(
        dict.fromkeys(g for g, c in zip(obs["group"], obs["cell"], strict=True) if c not in CAPPED)
    )
    grp_index = {g: i for i, g in enumerate(groups)}
    group = np.array(
        [grp_index.get(first.loc[s, "group"], -1) for s in speakers],
        dtype=int,
    )
    group_cell = np.array([CELLS.index(g.rsplit("|", 1)[1]) for g in groups], dtype=int)
    series_of = obs["event"] + "|" + obs["side"] + "|" + obs["category"]
    series_keys = list(dict.fromkeys(series_of))
    ser_index = {k: i for i, k in enumerate(series_keys)}
    per_series = obs.assign(series=series_of).drop_duplicates("series").set_index("series")
    kind = obs["kind"].map(KIND_CODES).to_numpy(dtype=int)

    def col(name: str) -> np.ndarray:
        return np.nan_to_num(obs[name].to_numpy(dtype=float), nan=0.0)

    return AtlasInputs(
        obs=obs,
        cell=cell,
        speaker=np.array([spk_index[s] for s in obs["speaker"]], dtype=int),
        group=group,
        group_cell=group_cell,
        series=np.array([ser_index[k] for k in series_of], dtype=int),
        count_log=per_series.loc[series_keys, "count_log"].to_numpy(dtype=float),
        count_sd_low=per_series.loc[series_keys, "count_sd_low"].to_numpy(dtype=float),
        count_sd_high=per_series.loc[series_keys, "count_sd_high"].to_numpy(dtype=float),
        kind=kind,
        y=col("log_value"),
        lo=col("log_low"),
        hi=col("log_high"),
        early=obs["early"].to_numpy(dtype=float),
        speakers=speakers,
        groups=groups,
        series_keys=series_keys,
    )


def _t4_logpdf(z: Any) -> Any:
    import pytensor.tensor as pt

    const = math.lgamma(2.5) - math.lgamma(2.0) - 0.5 * math.log(4 * math.pi)
    return const - 2.5 * pt.log1p(z * z / 4.0)


def _t4_interval(zl: Any, zh: Any) -> Any:
    """log(F(zh) - F(zl)) for zl < zh, in the tail where it is accurate."""
    import pymc as pm
    import pytensor.tensor as pt

    from casualty_models.model.graph import t4_logcdf

    flip = (zl + zh) > 0  # both in the upper tail: use the mirror image
    a = pt.switch(flip, -zh, zl)
    b = pt.switch(flip, -zl, zh)
    return pm.math.logdiffexp(t4_logcdf(b), t4_logcdf(a))


def build_atlas_model(inp: AtlasInputs, *, early: bool = True) -> Any:
    """The atlas's PyMC model (see the module docstring). ``early=False`` drops the
    covariate."""
    import pymc as pm
    import pytensor
    import pytensor.tensor as pt

    from casualty_models.model.graph import t4_logcdf

    shared_cells = [c for c in CELLS if c not in CAPPED]
    coords = {
        "cell": list(CELLS),
        "shared_cell": shared_cells,
        "speaker": inp.speakers,
        "group": inp.groups,
        "series": inp.series_keys,
    }
    capped = np.array([CELLS[c] in CAPPED for c in inp.cell])
    shared_pos = np.array([shared_cells.index(CELLS[c]) for c in inp.group_cell], dtype=int)
    grouped = np.flatnonzero(inp.group >= 0)
    # every array is data, not a constant of the graph: atlases of one structure (the
    # simulated ones, or refits) then share the compiled code
    data = {
        "cell": inp.cell,
        "speaker": inp.speaker,
        "series": inp.series,
        "count_log": inp.count_log,
        "count_sd_low": inp.count_sd_low,
        "count_sd_high": inp.count_sd_high,
        "y": inp.y,
        "lo": inp.lo,
        "hi": inp.hi,
        "early": inp.early,
        "grouped": grouped,
        "group_of": inp.group[grouped],
        "shared_pos": shared_pos,
        "capped": np.flatnonzero(capped),
        **{f"kind{code}": np.flatnonzero(inp.kind == code) for code in KIND_CODES.values()},
    }
    d = {
        name: pytensor.shared(np.asarray(value), name=f"atlas_{name}")
        for name, value in data.items()
    }
    with pm.Model(coords=coords) as model:
        mu = pm.Normal("mu", 0.0, MU_SD, dims="cell")
        spread = pm.HalfNormal("spread", SIGMA_SD, dims="cell")
        shared = pm.HalfNormal("shared", SIGMA_SD, dims="shared_cell")
        above = pm.HalfNormal("noise_above_floor", NOISE_SD)
        noise = pm.Deterministic("noise", NOISE_FLOOR + above)
        v = pm.Normal("v", 0.0, 1.0, dims="speaker")
        u = pm.Normal("u", 0.0, 1.0, dims="group")
        z = pm.Normal("z_count", 0.0, 1.0, dims="series")

        raw = mu[d["cell"]] + spread[d["cell"]] * v
        offset = shared[d["shared_pos"]] * u
        raw = pt.inc_subtensor(raw[d["grouped"]], offset[d["group_of"]])
        # a capped cell's bias bends below 0 (×1) smoothly
        k = CAP_SHARPNESS / spread[d["cell"][d["capped"]]]
        bent = -pt.softplus(-k * raw[d["capped"]]) / k
        bias = pt.set_subtensor(raw[d["capped"]], bent)
        sd = pt.switch(z > 0, d["count_sd_high"], d["count_sd_low"])
        log_count = d["count_log"] + sd * z
        loc = log_count[d["series"]] + bias[d["speaker"]]
        if early:
            slope = pm.Normal("early", 0.0, 1.0)
            loc = loc + slope * d["early"]
        y, lo, hi = d["y"], d["lo"], d["hi"]
        terms = []
        for code, make in (
            (0, lambda i: _t4_logpdf((y[i] - loc[i]) / noise) - pt.log(noise)),
            (1, lambda i: t4_logcdf((loc[i] - lo[i]) / noise)),
            (2, lambda i: t4_logcdf((hi[i] - loc[i]) / noise)),
            (3, lambda i: _t4_interval((lo[i] - loc[i]) / noise, (hi[i] - loc[i]) / noise)),
        ):
            terms.append(pt.sum(make(d[f"kind{code}"])))  # a kind without claims adds 0
        pm.Potential("claims", pt.sum(pt.stack(terms)))
    return model


@dataclass(frozen=True)
class AtlasFit:
    """A fitted atlas: the observations, the posterior (ArviZ) and the settings."""

    inputs: AtlasInputs
    idata: Any
    early: bool
    settings: dict[str, Any]

    @property
    def obs(self) -> pd.DataFrame:
        return self.inputs.obs

    def draws(self, name: str) -> np.ndarray:
        """Posterior draws of ``name``, chains stacked: (draws, ...)."""
        values = self.idata.posterior[name].to_numpy()
        return values.reshape(-1, *values.shape[2:])

    def diagnostics(self) -> dict[str, float]:
        """Largest R-hat and smallest bulk ESS of the hyperparameters, and divergences."""
        import arviz as az

        names = ["mu", "spread", "shared", "noise", *(["early"] if self.early else [])]
        rhat = az.rhat(self.idata, var_names=names)
        ess = az.ess(self.idata, var_names=names)
        div = int(self.idata.sample_stats["diverging"].sum())
        return {
            "max_rhat": float(max(float(rhat[n].max()) for n in names)),
            "min_ess": float(min(float(ess[n].min()) for n in names)),
            "divergences": div,
        }

    def cell_draws(self, cell: str) -> dict[str, np.ndarray]:
        """Draws of ``mu``, ``spread``, ``shared`` (0 for capped cells) and ``noise``."""
        i = CELLS.index(cell)
        mu = self.draws("mu")[:, i]
        spread = self.draws("spread")[:, i]
        if cell in CAPPED:
            shared = np.zeros_like(mu)
        else:
            shared = self.draws("shared")[:, [c for c in CELLS if c not in CAPPED].index(cell)]
        return {"mu": mu, "spread": spread, "shared": shared, "noise": self.draws("noise")}

    def predictive(self, cell: str, *, seed: int = 0) -> np.ndarray:
        """Draws of a new event's speaker log bias in ``cell`` (figure dated at the end)."""
        d = self.cell_draws(cell)
        rng = np.random.default_rng(seed)
        n = d["mu"].size
        raw = d["mu"] + d["shared"] * rng.standard_normal(n) + d["spread"] * rng.standard_normal(n)
        if cell in CAPPED:
            k = CAP_SHARPNESS / np.maximum(d["spread"], 1e-12)
            raw = -np.logaddexp(0.0, -k * raw) / k
        return np.asarray(raw)

    def cells(self) -> pd.DataFrame:
        """Per cell: claims, events, the posterior median factor ``mu`` (90% interval),
        and the predictive for a new event's speaker: median factor, 90% interval,
        log-sd, and its split into ``shared`` and own ``spread`` (log-sds whose squares add
        up to the predictive variance: shared² = Var(mu) + E[shared_c²], spread² =
        E[spread_c²]), the share of the variance that is shared, and the noise."""
        obs = self.obs
        rows = []
        for cell in CELLS:
            d = self.cell_draws(cell)
            pred = self.predictive(cell)
            mine = obs[obs["cell"] == cell]
            shared = math.sqrt(float(np.var(d["mu"]) + np.mean(d["shared"] ** 2)))
            spread = math.sqrt(float(np.mean(d["spread"] ** 2)))
            if cell in CAPPED:  # no group offset: all of it is the speaker's
                spread, shared = math.hypot(spread, shared), 0.0
            lo, med, hi = np.quantile(pred, [0.05, 0.5, 0.95])
            m_lo, m_med, m_hi = np.quantile(d["mu"], [0.05, 0.5, 0.95])
            rows.append(
                {
                    "cell": cell,
                    "claims": len(mine),
                    "events": mine["event"].nunique(),
                    "mu_factor": math.exp(m_med),
                    "mu_low": math.exp(m_lo),
                    "mu_high": math.exp(m_hi),
                    "mu_median_log": float(m_med),
                    "factor": math.exp(med),
                    "low_90": math.exp(lo),
                    "high_90": math.exp(hi),
                    "log_sd": float(np.std(pred)),
                    "shared": shared,
                    "spread": spread,
                    "shared_share": shared**2 / (shared**2 + spread**2),
                    "noise": math.sqrt(float(np.mean(d["noise"] ** 2))),
                }
            )
        return pd.DataFrame(rows)

    def cell_rows(self) -> dict[str, dict[str, Any]]:
        """:meth:`cells` as a dict: cell -> its row."""
        return {r["cell"]: r for r in records(self.cells())}

    def early_effect(self) -> dict[str, float]:
        """The early-claim slope: median, 90% interval, P(slope < 0), and the factor a
        figure dated at the event's start reads at against one dated at its end."""
        if not self.early:
            raise ValueError("fitted without the early-claim covariate")
        b = self.draws("early")
        lo, med, hi = np.quantile(b, [0.05, 0.5, 0.95])
        return {
            "median": float(med),
            "low_90": float(lo),
            "high_90": float(hi),
            "p_negative": float(np.mean(b < 0)),
            "factor_at_start": math.exp(med),
        }


def fit_atlas(
    atlas: Atlas | pd.DataFrame,
    *,
    draws: int = 1000,
    tune: int = 1000,
    chains: int = 2,
    cores: int = 1,
    target_accept: float = 0.95,
    random_seed: int = 1,
    early: bool = True,
    include_weak: bool = False,
    progressbar: bool = False,
) -> AtlasFit:
    """Fit the atlas model to ``atlas`` (or to an observation table). Seeded: the same
    arguments give the same draws."""
    import pymc as pm

    obs = atlas.observations(include_weak=include_weak) if isinstance(atlas, Atlas) else atlas
    if obs.empty:
        raise ValueError("no scored claims to fit")
    inp = prepare(obs)
    model = build_atlas_model(inp, early=early)
    with model, warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*(invalid value|overflow).*")
        idata = pm.sample(
            draws=draws,
            tune=tune,
            chains=chains,
            cores=cores,
            target_accept=target_accept,
            random_seed=random_seed,
            progressbar=progressbar,
            compute_convergence_checks=False,
        )
    settings = {
        "draws": draws,
        "tune": tune,
        "chains": chains,
        "target_accept": target_accept,
        "random_seed": random_seed,
        "early": early,
        "include_weak": include_weak,
    }
    return AtlasFit(inputs=inp, idata=idata, early=early, settings=settings)
