"""Running tallies: which figures form one, which of them are wild, and the rises observed.

A *chain* is one speaker's point figures (no stated interval) for one series and one
window (``period_start``), in ``as_of`` order. On a day given twice, only the latest
publication counts (a restatement repeats its chain's figure and is not new evidence).
A chain of at least ``Priors.running_min_claims`` dates is read in three steps:

1. **Spikes.** A figure more than ``Priors.spike_factor`` times above the straight
   line between its neighbours and above the next figure (an isolated jump the next
   figure undoes: a figure that belongs months later, a 10x typo), or as far below it
   and below the previous figure (a one-day drop the next figure recovers from), is a
   spike. Spikes are found one at a time, most extreme first, each
   judged against the figures that are left, so a run of two wild figures is found
   too. The first figure is a spike only if it stands above the next *two*; the last
   one cannot be judged until the next figure arrives. A spike is reported (file and
   row) and left out of the likelihood: it is never the reference of a rise.
2. **Coarse sources.** If, besides its spikes, the chain still falls often, or has
   many spikes — more than ``max(2, Priors.coarse_share x dates)`` spikes and falls in
   all — it is not one running count but a label mixing outlets. It is then read as
   ordinary claims (each figure its own observation with the speaker's constant bias
   and heavy-tailed noise), with a warning that names it.
3. **Rises.** Otherwise it is a running tally: its first figure is an ordinary claim,
   and every later figure enters through its rise since the previous figure kept (in
   people; a fall is a negative rise). See :mod:`casualty_models.model` for their
   likelihood.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np

from casualty_models._format import people
from casualty_models.claims import ClaimSet
from casualty_models.model.priors import Priors


class DecreasingTallyWarning(UserWarning):
    """A running tally's cumulative figures fall over time, which the truth cannot."""


class SpikeWarning(UserWarning):
    """Isolated wild figures in a running tally were left out of the fit."""


class CoarseSourceWarning(UserWarning):
    """A speaker's many figures do not behave as one running count; read one by one."""


@dataclass(frozen=True)
class Increments:
    """A running tally's rises from one figure to the next: one observation each.

    ``claim`` is the later figure and ``prev_claim`` the earlier (indices into the
    claims); the rise counts the days ``first_day .. last_day`` (grid offsets) and is
    ``value`` people (negative for a fall), from the earlier figure's ``level``.
    ``rate_sd`` is the relative sd of the rise from the source's day-to-day noise
    (``running_noise / sqrt(days)``) and ``rho`` the
    correlation of its standardised error with the previous rise of the same tally
    (``prev``, -1 for none).
    """

    claim: np.ndarray
    prev_claim: np.ndarray
    first_day: np.ndarray
    last_day: np.ndarray
    value: np.ndarray
    level: np.ndarray
    rate_sd: np.ndarray
    rho: np.ndarray
    prev: np.ndarray

    def __len__(self) -> int:
        return len(self.claim)


@dataclass(frozen=True)
class TallyReading:
    """How each claim enters the model: ``(n_claims,)`` arrays and the rises.

    ``running``: a figure of a running tally; ``observed``: has a likelihood term of its
    own (a running tally's first figure, and every ordinary claim); ``spike``: left out
    as a spike; ``restated``: an earlier publication of a figure given again later;
    ``alternative``: another figure a running tally gave for a day, in the same
    publication, than the one its chain follows (left out).
    """

    running: np.ndarray
    observed: np.ndarray
    spike: np.ndarray
    restated: np.ndarray
    alternative: np.ndarray
    increments: Increments
    coarse: tuple[tuple[str, str, str], ...]  # (source, side, category) read one by one


def find_spikes(days: np.ndarray, values: np.ndarray, factor: float) -> np.ndarray:
    """Indices of isolated spikes in a chain's figures (in date order), ascending.

    A figure is compared with the straight line between its neighbours (by date): a
    spike up stands more than ``factor`` times above that line and above the next
    figure (which a cumulative count cannot); a spike down stands more than ``factor``
    times below it and below the previous figure. The first figure is a spike if it
    stands ``factor`` times above both of the next two.
    """
    days = np.asarray(days, dtype=float)
    values = np.asarray(values, dtype=float)
    keep = list(range(len(values)))
    threshold = math.log(factor)
    spikes = []
    while len(keep) >= 3:
        t, y = days[keep], values[keep]
        score = np.full(len(y), -np.inf)
        mid = np.arange(1, len(y) - 1)
        w = (t[mid] - t[mid - 1]) / (t[mid + 1] - t[mid - 1])
        line = np.log((1 - w) * y[mid - 1] + w * y[mid + 1])
        up = np.where(y[mid] > y[mid + 1], np.log(y[mid]) - line, -np.inf)
        down = np.where(y[mid] < y[mid - 1], line - np.log(y[mid]), -np.inf)
        score[mid] = np.maximum(up, down)
        score[0] = math.log(y[0]) - math.log(max(y[1], y[2]))
        worst = int(np.argmax(score))
        if score[worst] <= threshold:
            break
        spikes.append(keep.pop(worst))
    return np.array(sorted(spikes), dtype=int)


def read_tallies(
    claims: ClaimSet, plain_point: np.ndarray, start: dt.date, priors: Priors
) -> TallyReading:
    """Find the running tallies among ``claims`` and turn their figures into rises.

    ``plain_point`` (n_claims,) marks point figures without a stated interval, the only
    ones a chain holds. Warns (:class:`SpikeWarning`, :class:`CoarseSourceWarning`,
    :class:`DecreasingTallyWarning`) naming file and row.
    """
    n = len(claims)
    running = np.zeros(n, dtype=bool)
    observed = np.ones(n, dtype=bool)
    spike = np.zeros(n, dtype=bool)
    restated = np.zeros(n, dtype=bool)
    alternative = np.zeros(n, dtype=bool)
    # later claim, earlier claim, first day, last day, rise, earlier figure, previous rise
    rises: list[tuple[int, int, int, int, float, float, int]] = []
    coarse: list[tuple[str, str, str]] = []
    coarse_notes, spike_notes, fall_notes = [], [], []
    chains: dict[tuple[Any, ...], list[int]] = {}
    for i, c in enumerate(claims):
        if plain_point[i]:
            chains.setdefault((c.speaker, c.series, c.period_start), []).append(i)
    for members in chains.values():
        # reported is always set once a Claim is built (it defaults to as_of)
        members.sort(
            key=lambda i: (claims[i].as_of, -(claims[i].reported or claims[i].as_of).toordinal())
        )
        by_day: dict[dt.date, list[int]] = {}
        for i in members:
            by_day.setdefault(claims[i].as_of, []).append(i)
        latest = {}  # a day's figures in its latest publication; earlier ones are restated
        for day, same_day in by_day.items():
            newest = claims[same_day[0]].reported  # first in the sort: the latest publication
            latest[day] = [i for i in same_day if claims[i].reported == newest]
            for i in same_day:
                if claims[i].reported != newest:
                    restated[i] = True
                    observed[i] = False
        if len(by_day) < priors.running_min_claims:
            continue
        # a running count follows one figure a day: the one nearest its neighbours
        dated = [_nearest_to_neighbours(claims, latest[day], members) for day in by_day]
        values = np.array([claims[i].value for i in dated], dtype=float)
        days = np.array([(claims[i].as_of - start).days for i in dated])
        wild = find_spikes(days, values, priors.spike_factor)
        left_out = set(wild.tolist())
        kept = [i for k, i in enumerate(dated) if k not in left_out]
        kept_values = np.array([claims[i].value for i in kept], dtype=float)
        falls = np.flatnonzero(np.diff(kept_values) < 0)
        first = claims[dated[0]]
        who = f"{first.source!r} about {first.side} {first.category}"
        if len(wild) + len(falls) > max(2, priors.coarse_share * len(dated)):
            coarse.append((first.source, first.side, first.category))
            coarse_notes.append(
                f"{who} ({len(dated)} dates, {claims.where(dated[0])}): "
                f"{len(wild)} spikes and {len(falls)} falls"
            )
            continue
        running[members] = True
        for day, chosen in zip(by_day, dated, strict=True):
            for i in latest[day]:
                if i != chosen:
                    alternative[i] = True
                    observed[i] = False
        for k in wild:
            i = dated[k]
            spike[i] = True
            observed[i] = False
            spike_notes.append(f"{claims.where(i)}: {who} {people(values[k])} on {claims[i].as_of}")
        for k in falls:
            high, low = claims[kept[k]], claims[kept[k + 1]]
            was, now = people(high.value), people(low.value)
            if was == now:  # a fall inside the rounding (fractional, simulated figures)
                was, now = f"{high.value:,}", f"{low.value:,}"
            fall_notes.append(
                f"{high.source} {high.category} {was} on {high.as_of} -> "
                f"{now} on {low.as_of} ({claims.where(kept[k + 1])})"
            )
        last_rise = -1
        for a, b in itertools.pairwise(kept):
            observed[b] = False
            old, new = claims[a], claims[b]
            assert new.value is not None and old.value is not None
            first_day, last_day = (old.as_of - start).days + 1, (new.as_of - start).days
            rises.append((b, a, first_day, last_day, new.value - old.value, old.value, last_rise))
            last_rise = len(rises) - 1
    if spike_notes:
        warnings.warn(
            f"{len(spike_notes)} isolated spikes in running tallies were left out of the fit "
            "(each stands far above or below the figures either side of it); see "
            "claims_check(): " + "; ".join(spike_notes),
            SpikeWarning,
            stacklevel=4,
        )
    if coarse_notes:
        warnings.warn(
            "read as separate claims, not as running tallies, because their figures jump "
            "and fall too often for one running count (a label mixing several outlets?): "
            + "; ".join(coarse_notes),
            CoarseSourceWarning,
            stacklevel=4,
        )
    if fall_notes:
        warnings.warn(
            f"running tallies decrease, which a cumulative count cannot: {'; '.join(fall_notes)}",
            DecreasingTallyWarning,
            stacklevel=4,
        )
    return TallyReading(
        running=running,
        observed=observed,
        spike=spike,
        restated=restated,
        alternative=alternative,
        increments=_increments(rises, priors),
        coarse=tuple(coarse),
    )


def _nearest_to_neighbours(claims: ClaimSet, candidates: list[int], chain: list[int]) -> int:
    """Of one day's figures, the one nearest (log scale) the median of the chain's figures
    within a week of it (that day's included): the figure consistent with the running
    count. Ties go to the lower figure."""
    if len(candidates) == 1:
        return candidates[0]
    day = claims[candidates[0]].as_of
    near = [
        math.log(v)
        for i in chain
        if abs((claims[i].as_of - day).days) <= 7 and (v := claims[i].value) is not None
    ]
    centre = float(np.median(near))
    return min(
        candidates, key=lambda i: (abs(math.log(claims[i].value or 1) - centre), claims[i].value)
    )


def _increments(
    rises: list[tuple[int, int, int, int, float, float, int]], priors: Priors
) -> Increments:
    table = np.array(rises, dtype=float).reshape(-1, 7)
    claim, prev_claim, first_day, last_day, prev = (
        table[:, k].astype(int) for k in (0, 1, 2, 3, 6)
    )
    # daily errors with sd running_noise that are AR(1) with memory running_memory days:
    # a rise over more days is relatively more precise, and consecutive rises share errors
    gap = last_day - last_day[np.maximum(prev, 0)]
    return Increments(
        claim=claim,
        prev_claim=prev_claim,
        first_day=first_day,
        last_day=last_day,
        # contiguous copies: a strided column becomes a constant numba cannot cache
        value=np.ascontiguousarray(table[:, 4]),
        level=np.ascontiguousarray(table[:, 5]),
        rate_sd=priors.running_noise / np.sqrt(last_day - first_day + 1),
        rho=np.where(prev >= 0, np.exp(-gap / priors.running_memory), 0.0),
        prev=prev,
    )
