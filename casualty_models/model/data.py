"""The model's data as named arrays, and their packing into two flat arrays.

Everything the log density needs from the claims, the grid and the priors is an array of
:data:`SCHEMA`: claim figures and bounds, which curve, day and speaker each claim
observes, the knots, the prior scales. :func:`model_data` builds them from
:class:`~casualty_models.model.inputs.ModelInputs`; :func:`pack` puts them in one
float64 and one int64 vector with a header of offsets and shapes, so one compiled
function of ``(x, floats, ints)`` serves every claim set: new claims, dates, grids or
priors change the data, never the program (docs/benchmarks.md, "Compile once").

A term with no claims (no central estimates, say) is present with zero-length arrays.
Day queries of the cumulative curve are given as ``(knot gap, days into it)``, so the
graph never looks at the day grid itself (:class:`casualty_models.model.graph.Counts`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from casualty_models.model.inputs import FAR_LOG, KIND_CODES, central_sides

if TYPE_CHECKING:
    from casualty_models.model.grid import Grid
    from casualty_models.model.inputs import ModelInputs

__all__ = [
    "LAYOUT",
    "PARAMS",
    "SCALARS",
    "SCHEMA",
    "check_data",
    "day_query",
    "model_data",
    "pack",
    "param_sizes",
]

SCALARS = (
    "level_sigma",
    "rate_volatility",
    "bias_drift",
    "running_noise",
    "running_noise_sd",
    "running_level_noise",
)
"""Prior settings the graph reads, in the order of the ``scalars`` array."""

# name: ("f" float64 or "i" int64, its dimensions, the dimension an index array's
# values point into ("ratio+1": one past the end means none), else None)
LAYOUT: dict[str, tuple[str, tuple[str, ...], str | None]] = {
    "sizes": ("i", ("size",), None),  # n_bases, n_knots, n_speakers, n_claims, n_groups, n_running
    "scalars": ("f", ("scalar",), None),  # SCALARS
    # curves: a random walk of the log daily rate at the knots
    "level_mu": ("f", ("curve",), None),
    "anchor": ("i", ("curve",), "knot"),  # knot where the level is set
    "step_sd": ("f", ("gap",), None),  # sqrt of each knot gap, days
    "gap": ("f", ("gap",), None),  # days between knots
    "seg_len": ("f", ("knot",), None),  # days counted from each knot: its gap, 1 at the last
    # stretches no claim looks inside (model.grid.Stretches)
    "st_curve": ("i", ("stretch",), "curve"),
    "st_left": ("i", ("stretch",), "knot"),  # left end knot (0 for a head, see st_head)
    "st_right": ("i", ("stretch",), "knot"),
    "st_head": ("f", ("stretch",), None),  # 1 for a head (no left end)
    "st_sd": ("f", ("stretch",), None),  # prior sd of each stretch's log total about its line
    "st_scale": ("f", ("stretch",), None),  # scale of its parameter (Stretches.scale)
    # the first stretch it is joined with (Stretches.owner)
    "st_owner": ("i", ("stretch",), "stretch"),
    "st_before": ("f", ("stretch", "stretch"), None),  # 1 on earlier stretches joined with it
    "st_later": ("f", ("stretch", "stretch"), None),  # ... and on later ones
    "st_days": ("f", ("stretch",), None),  # inner days
    "st_inner": ("f", ("stretch", "knot"), None),  # 1 on inner knots
    "st_first_j": ("i", ("stretch",), "knot"),  # the count before the first inner day: a day query
    "st_first_into": ("f", ("stretch",), None),
    "st_last_j": ("i", ("stretch",), "knot"),  # ... and through the last
    "st_last_into": ("f", ("stretch",), None),
    # categories: each series is its curve times 1, a ratio or 1 + a ratio
    "ratio_mu": ("f", ("ratio",), None),
    "ratio_sigma": ("f", ("ratio",), None),
    "series_ratio": ("i", ("series",), "ratio+1"),  # index into the ratios; n_ratios for none
    "series_add_one": ("f", ("series",), None),
    # speakers' biases: type mean + group offset + own deviation (softly capped)
    "bias_mu": ("f", ("speaker",), None),
    "bias_sd": ("f", ("speaker",), None),
    "group_sd": ("f", ("speaker",), None),
    "group_of": ("i", ("speaker",), "group+1"),  # index into the groups; n_groups for none
    "free_idx": ("i", ("free",), "speaker"),  # speakers with an own, uncapped deviation
    "capped_idx": ("i", ("capped",), "speaker"),  # speakers with a capped deviation
    "capped_upper": ("f", ("capped",), None),
    "capped_k": ("f", ("capped",), None),
    # every count the claims and rises read, once: a curve's count before a day, as a
    # day query (many claims and rises share a day: a daily tally's rise starts where
    # the one before ended, and its figures end on the same days)
    "day_base": ("i", ("query",), "curve"),
    "day_j": ("i", ("query",), "knot"),
    "day_into": ("f", ("query",), None),
    # claims: the count over [first, last] of their curve
    "claim_series": ("i", ("claim",), "series"),
    "claim_speaker": ("i", ("claim",), "speaker"),
    "end_q": ("i", ("claim",), "query"),  # the day query through the claim's last day
    "start_q": ("i", ("claim",), "query"),  # ... before its first day
    "spread_idx": ("i", ("spread",), "claim"),  # claims whose as_of is known to the month or year
    "spread_days": ("f", ("spread",), None),  # days its count is averaged over
    "spread_owner": ("i", ("pair",), "spread"),  # index into spread_idx
    "spread_q": ("i", ("pair",), "query"),  # the day query through each of its days
    # running tallies: a drifting bias, and rises
    "run_mask": ("f", ("running", "gap"), None),  # 1 on steps from the first knot on
    "on_idx": ("i", ("on",), "claim"),  # claims of a running tally
    "on_row": ("i", ("on",), "running"),
    "on_left": ("i", ("on",), "knot"),
    "on_right": ("i", ("on",), "knot"),
    "on_frac": ("f", ("on",), None),
    "inc_claim": ("i", ("rise",), "claim"),
    "inc_series": ("i", ("rise",), "series"),
    "inc_tally": ("i", ("rise",), "running"),
    "inc_prev": ("i", ("rise",), "rise"),  # previous rise of the tally, 0 when none (rho is 0 then)
    "inc_end_q": ("i", ("rise",), "query"),
    "inc_start_q": ("i", ("rise",), "query"),
    "inc_value": ("f", ("rise",), None),
    "inc_level": ("f", ("rise",), None),
    "inc_rate_sd": ("f", ("rise",), None),
    "inc_rho": ("f", ("rise",), None),
    # likelihood terms
    "point_idx": ("i", ("point",), "claim"),
    "point_y": ("f", ("point",), None),
    "point_scale": ("f", ("point",), None),
    "central_idx": ("i", ("central",), "claim"),
    "central_y": ("f", ("central",), None),
    "central_below": ("f", ("central",), None),
    "central_above": ("f", ("central",), None),
    "censored_idx": ("i", ("censored",), "claim"),
    "censored_lo": ("f", ("censored",), None),
    "censored_hi": ("f", ("censored",), None),
    "censored_scale": ("f", ("censored",), None),
}
"""Every array of the model's data: its type, dimensions and index target. The compiled
model trusts these (it checks neither lengths nor indices on each gradient);
:func:`check_data` checks them once per claim set."""

SCHEMA: tuple[tuple[str, str, int], ...] = tuple(
    (name, kind, len(dims)) for name, (kind, dims, _) in LAYOUT.items()
)
"""(name, kind, number of dimensions) of each array of :data:`LAYOUT`, in order: the
packed vectors' layout (:func:`pack`)."""

_SIZED = ("curve", "knot", "speaker", "claim", "group", "running")
"""The dimensions whose lengths ``sizes`` states, in its order."""


def check_data(data: dict[str, np.ndarray]) -> None:
    """Raise AssertionError, naming every array at fault, unless the arrays of
    :data:`SCHEMA` agree with :data:`LAYOUT`: one length per dimension, every index in
    range. These are the library's own arrays, so a fault is a bug, not bad input."""
    length = dict(zip(_SIZED, (int(v) for v in data["sizes"]), strict=True))
    length |= {"size": len(_SIZED), "scalar": len(SCALARS), "gap": length["knot"] - 1}
    faults = []
    for name, (_, dims, _) in LAYOUT.items():
        for dim, n in zip(dims, data[name].shape, strict=True):
            if length.setdefault(dim, n) != n:
                faults.append(f"{name}: {dim} has length {n}, not {length[dim]}")
    for name, (_, _, target) in LAYOUT.items():
        if target is None or not data[name].size:
            continue
        dim, _, extra = target.partition("+")
        top = length.get(dim, 0) + int(extra or 0)
        lo, hi = int(data[name].min()), int(data[name].max())
        if lo < 0 or hi >= top:
            faults.append(f"{name}: indices {lo}..{hi} outside {dim} (0..{top - 1})")
    if faults:
        raise AssertionError("model data inconsistent: " + "; ".join(faults))


PARAMS: tuple[str, ...] = (
    "level_z",
    "steps_z",
    "stretch_z",
    "ratio_z",
    "bias_z",
    "bias_z_capped",
    "group_z",
    "drift_z",
    "rise_noise_z",
)
"""The model's free parameters (all standard normal a priori), in their order in the
flat parameter vector."""


def day_query(grid: Grid, days: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(knot gap, days into it) of the cumulative count before each of ``days`` (0 ..
    n_days): the gap holding day ``days - 1``, and how many of its days are counted."""
    knots = grid.knots
    days = np.asarray(days, dtype=int)
    j = np.searchsorted(knots, np.minimum(days, knots[-1]), side="right") - 1
    return j.astype(np.int64), (days - knots[j]).astype(float)


def model_data(inputs: ModelInputs) -> dict[str, np.ndarray]:
    """Every array of :data:`SCHEMA` for ``inputs``."""
    grid, priors, pl = inputs.grid, inputs.priors, inputs.plan
    knots = grid.knots
    n_knots = len(knots)
    base = np.array(pl.series_base, dtype=int)
    out: dict[str, np.ndarray] = {
        "scalars": np.array([float(getattr(priors, n)) for n in SCALARS]),
        "level_mu": inputs.level_mu,
        "anchor": inputs.anchor_knot,
        "step_sd": np.sqrt(np.diff(knots)),
        "gap": np.diff(knots),
        "seg_len": np.append(np.diff(knots), 1),
    }
    st = inputs.stretches
    before, later = st.order()
    first_j, first_into = day_query(grid, st.first_day(knots))
    last_j, last_into = day_query(grid, st.last_day(knots) + 1)
    out |= {
        "st_curve": st.curve,
        "st_left": np.maximum(st.left, 0),
        "st_right": st.right,
        "st_head": (st.left < 0).astype(float),
        "st_sd": st.sd,
        "st_scale": st.scale(),
        "st_owner": st.owner(),
        "st_before": before.astype(float).reshape(len(st), len(st)),
        "st_later": later.astype(float).reshape(len(st), len(st)),
        "st_days": (st.last_day(knots) - st.first_day(knots) + 1).astype(float),
        "st_inner": st.inner(n_knots).astype(float).reshape(len(st), n_knots),
        "st_first_j": first_j,
        "st_first_into": first_into,
        "st_last_j": last_j,
        "st_last_into": last_into,
    }
    ratio_idx = np.array(pl.series_ratio, dtype=int)
    out |= {
        "ratio_mu": inputs.ratio_mu,
        "ratio_sigma": inputs.ratio_sigma,
        "series_ratio": np.where(ratio_idx < 0, len(pl.ratios), ratio_idx),
        "series_add_one": np.array(pl.series_add_one, dtype=float),
    }
    sp = inputs.speaker_priors
    sd = np.array([p.bias_sigma for p in sp])
    capped = np.array([p.bias_upper is not None for p in sp], dtype=bool) & (sd > 0)
    free = (sd > 0) & ~capped
    member = inputs.speaker_group >= 0
    from casualty_models.model.priors import CAP_SHARPNESS

    out |= {
        "bias_mu": np.array([p.bias_mu for p in sp]),
        "bias_sd": sd,
        "group_sd": np.where(member, [p.group_sigma for p in sp], 0.0),
        "group_of": np.where(member, inputs.speaker_group, len(inputs.groups)),
        "free_idx": np.flatnonzero(free),
        "capped_idx": np.flatnonzero(capped),
        "capped_upper": np.array([p.bias_upper for p, c in zip(sp, capped, strict=True) if c]),
        "capped_k": CAP_SHARPNESS / sd[capped],
    }
    first, last = inputs.claim_first_day, inputs.claim_last_day
    claim_base = base[inputs.claim_series]
    spread = np.flatnonzero(inputs.claim_last_from < last)
    lo, hi = inputs.claim_last_from[spread] + 1, last[spread] + 1
    owner = np.repeat(np.arange(len(spread)), hi - lo + 1)
    days = np.concatenate(
        [np.arange(a, b + 1) for a, b in zip(lo, hi, strict=True)] or [np.zeros(0)]
    )
    out |= {
        "claim_series": inputs.claim_series,
        "claim_speaker": inputs.claim_speaker,
        "spread_idx": spread,
        "spread_days": (hi - lo + 1).astype(float),
        "spread_owner": owner,
    }
    n_running = len(inputs.running)
    before = np.arange(n_knots - 1)[None, :] < inputs.running_first_knot[:, None]
    row = np.full(len(inputs.speakers), -1)
    row[inputs.running] = np.arange(n_running)
    claim_row = row[inputs.claim_speaker]
    on = np.flatnonzero(claim_row >= 0)
    left, right, frac = grid.interpolation()
    inc = inputs.increments
    out |= {
        "run_mask": np.where(before, 0.0, 1.0).reshape(n_running, n_knots - 1),
        "on_idx": on,
        "on_row": claim_row[on],
        "on_left": left[last[on]],
        "on_right": right[last[on]],
        "on_frac": frac[last[on]],
        "inc_claim": inc.claim,
        "inc_series": inputs.claim_series[inc.claim],
        "inc_tally": inputs.rise_tally,
        "inc_prev": np.maximum(inc.prev, 0),
        "inc_value": inc.value,
        "inc_level": inc.level,
        "inc_rate_sd": inc.rate_sd,
        "inc_rho": inc.rho,
    }
    out |= _day_queries(
        grid,
        start_q=(claim_base, first),
        end_q=(claim_base, last + 1),
        spread_q=(claim_base[spread][owner], days),
        inc_start_q=(claim_base[inc.claim], inc.first_day),
        inc_end_q=(claim_base[inc.claim], inc.last_day + 1),
    )
    kind, observed = inputs.claim_kind, inputs.claim_observed
    scale = np.sqrt(inputs.claim_noise**2 + inputs.claim_extra_sigma**2)
    point = np.flatnonzero((kind == KIND_CODES["point"]) & observed)
    central = np.flatnonzero((kind == KIND_CODES["central"]) & observed)
    below, above = central_sides(inputs, central)
    bounded = np.isin(kind, [KIND_CODES[k] for k in ("range", "floor", "ceiling")])
    censored = np.flatnonzero(bounded & observed)
    out |= {
        "point_idx": point,
        "point_y": inputs.claim_log_value[point],
        "point_scale": scale[point],
        "central_idx": central,
        "central_y": inputs.claim_log_value[central],
        "central_below": below,
        "central_above": above,
        "censored_idx": censored,
        "censored_lo": np.clip(inputs.claim_log_low[censored], -FAR_LOG, FAR_LOG),
        "censored_hi": np.clip(inputs.claim_log_high[censored], -FAR_LOG, FAR_LOG),
        "censored_scale": scale[censored],
    }
    out["sizes"] = np.array(
        [len(pl.bases), n_knots, len(inputs.speakers), len(kind), len(inputs.groups), n_running]
    )
    typed = {}
    for name, kind_, ndim in SCHEMA:
        arr = np.asarray(out[name], dtype=np.float64 if kind_ == "f" else np.int64)
        if arr.ndim != ndim:
            raise AssertionError(f"{name}: {arr.ndim} dimensions, the schema says {ndim}")
        typed[name] = np.ascontiguousarray(arr)
    return typed


def _day_queries(grid: Grid, **uses: tuple[np.ndarray, np.ndarray]) -> dict[str, np.ndarray]:
    """The distinct (curve, day) counts of ``uses`` (each a name and its curves and
    days) as day queries, and each use as indices into them."""
    curves = np.concatenate([np.asarray(c, dtype=np.int64) for c, _ in uses.values()])
    days = np.concatenate([np.asarray(d, dtype=np.int64) for _, d in uses.values()])
    pairs, index = np.unique(np.stack([curves, days]), axis=1, return_inverse=True)
    day_j, day_into = day_query(grid, pairs[1])
    out = {"day_base": pairs[0], "day_j": day_j, "day_into": day_into}
    cuts = np.cumsum([len(c) for c, _ in uses.values()])[:-1]
    return out | dict(zip(uses, np.split(index.ravel(), cuts), strict=True))


def param_sizes(data: dict[str, np.ndarray]) -> dict[str, tuple[int, ...]]:
    """The shape of every parameter of :data:`PARAMS` for these data."""
    n_bases, n_knots, _, _, n_groups, n_running = (int(v) for v in data["sizes"])
    return {
        "level_z": (n_bases,),
        "steps_z": (n_bases, n_knots - 1),
        "stretch_z": (len(data["st_sd"]),),
        "ratio_z": (len(data["ratio_mu"]),),
        "bias_z": (len(data["free_idx"]),),
        "bias_z_capped": (len(data["capped_idx"]),),
        "group_z": (n_groups,),
        "drift_z": (n_running, n_knots - 1),
        "rise_noise_z": (n_running,) if len(data["inc_claim"]) else (0,),
    }


def pack(data: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """(floats, ints): every array of :data:`SCHEMA` in one float64 and one int64
    vector. ``ints`` opens with a header of three numbers per array (its offset into
    its vector, and its two dimensions, the second 1 for a vector)."""
    check_data(data)
    header = np.zeros(3 * len(SCHEMA), dtype=np.int64)
    floats: list[np.ndarray] = []
    ints: list[np.ndarray] = []
    n_float, n_int = 0, len(header)
    for k, (name, kind, _) in enumerate(SCHEMA):
        arr = data[name]
        shape = arr.shape if arr.ndim == 2 else (arr.shape[0], 1)
        if kind == "f":
            header[3 * k : 3 * k + 3] = (n_float, *shape)
            floats.append(arr.ravel())
            n_float += arr.size
        else:
            header[3 * k : 3 * k + 3] = (n_int, *shape)
            ints.append(arr.ravel())
            n_int += arr.size
    return (
        np.concatenate([np.zeros(0), *floats]).astype(np.float64),
        np.concatenate([header, *ints]).astype(np.int64),
    )
