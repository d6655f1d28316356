"""The day grid and its knots (:class:`Grid`), and the stretches no claim looks inside
(:class:`Stretches`): where the model's latent curves have parameters, and which.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
from dataclasses import dataclass

import numpy as np

from casualty_models.model.priors import Priors

__all__ = ["Grid", "Stretches", "find_stretches", "looked_grid", "place_knots"]


@dataclass(frozen=True)
class Grid:
    """Daily grid ``start .. end`` (inclusive) and the knots of the log-rate walk.

    Knots lie on a lattice every ``knot_days`` days. With ``looked`` (day offsets that
    claims look at: their as_of and period_start days) only the lattice knots near those
    days are kept, and going away from them knots thin out with doubling gaps: a stretch
    that no claim looks inside costs a handful of parameters, not one per gap (see
    :func:`place_knots`). Without ``looked``, the whole lattice.
    """

    start: dt.date
    end: dt.date
    knot_days: int
    looked: tuple[int, ...] = ()

    @property
    def n_days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def knots(self) -> np.ndarray:
        """Day offsets of the knots: always 0 and the last day."""
        return place_knots(self.n_days, self.knot_days, np.array(self.looked, dtype=int))

    @property
    def dates(self) -> np.ndarray:
        return np.datetime64(self.start, "D") + np.arange(self.n_days)

    def day(self, date: dt.date) -> int:
        return (date - self.start).days

    def interpolation(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(left knot index, right knot index, fraction toward right) for every day."""
        knots = self.knots
        days = np.arange(self.n_days)
        if len(knots) == 1:
            zeros = np.zeros(self.n_days, dtype=int)
            return zeros, zeros, np.zeros(self.n_days)
        right = np.clip(np.searchsorted(knots, days, side="right"), 1, len(knots) - 1)
        left = right - 1
        frac = (days - knots[left]) / (knots[right] - knots[left])
        return left, right, frac

    def cumulative(self, log_rate_knots: np.ndarray) -> np.ndarray:
        """Numpy mirror of the model: knots (..., n_knots) -> cumulative (..., n_days)."""
        left, right, frac = self.interpolation()
        log_daily = log_rate_knots[..., left] * (1 - frac) + log_rate_knots[..., right] * frac
        return np.cumsum(np.exp(log_daily), axis=-1)


def looked_grid(start: dt.date, end: dt.date, priors: Priors, looked: set[int]) -> Grid:
    """The grid ``start .. end`` whose claims look at the day offsets ``looked``: knots
    dense near them, sparse elsewhere (:func:`place_knots`), spaced by
    :meth:`Priors.knot_spacing` of the days from the first looked-at one to the end."""
    n_days = (end - start).days + 1
    spacing = priors.knot_spacing(n_days - min(looked))
    return Grid(start, end, spacing, tuple(sorted(looked)))


def place_knots(n_days: int, spacing: int, looked: np.ndarray) -> np.ndarray:
    """Knots of a grid of ``n_days``: the lattice ``0, spacing, 2 spacing, ...`` and the
    last day, of which (when ``looked`` is not empty) only those are kept that lie within
    two ``spacing`` of a looked-at day, or nearest to a point ``spacing * 2**i`` days
    (i = 1, 2, ...) into a gap between looked-at days from either end, up to its
    middle (before the first and after the last, from the one end); day 0 and the last
    day always. Claims that look every few days keep the whole lattice."""
    lattice = np.arange(0, n_days, spacing)
    if lattice[-1] != n_days - 1:
        lattice = np.append(lattice, n_days - 1)
    if not len(looked):
        return lattice
    looked = np.unique(looked)
    near = np.abs(lattice[:, None] - looked[None, :]).min(axis=1) < 2 * spacing
    near[[0, -1]] = True
    targets: list[int] = []
    ends = np.concatenate([[-np.inf], looked, [np.inf]])
    for left, right in itertools.pairwise(ends):
        reach = spacing * 2
        half = (right - left) / 2
        while reach < min(half, n_days):
            targets += [int(left + reach)] if np.isfinite(left) else []
            targets += [int(right - reach)] if np.isfinite(right) else []
            reach *= 2
    inside = [t for t in targets if 0 < t < n_days - 1]
    if inside:
        near[np.abs(lattice[None, :] - np.array(inside)[:, None]).argmin(axis=1)] = True
    return lattice[near]


@dataclass(frozen=True)
class Stretches:
    """Stretches of the curves that no claim looks inside: before a curve's first
    looked-at day (its *head*) and between two looked-at days far apart.

    The claims say how many died in such a stretch, not when. So its total is set by a
    parameter of its own, ``exp(line + lambda)``, and the walk gives only its shape:
    ``line`` is the log of its days times the geometric mean of the daily rates at its
    two end knots (the right end's rate for a head), and ``lambda ~ Normal(0, sd)``.
    Otherwise every step inside a long unobserved stretch would be tied to the claims
    through one sum, a curved ridge for the sampler; ``line`` is linear in the log
    rates, so a stretch's log total is too.

    A stretch's inner knots are those strictly between knot ``left`` (-1 for a head)
    and knot ``right``; its days run from the first inner knot to the last, inclusive.

    Consecutive stretches of a curve that no claim's count ends between (a head, and
    the period of a claim that starts where it ends, say) are *joined*: claims see
    their sum, not their split, and the graph gives them one total and shares
    (:func:`casualty_models.model.graph.stretch_totals`).
    """

    curve: np.ndarray  # (n,) index into the curves (plan.bases)
    left: np.ndarray  # (n,) knot index before the inner knots, -1 for a head
    right: np.ndarray  # (n,) knot index after the inner knots
    sd: np.ndarray  # (n,) prior sd of lambda
    # (n,) shares one total with the stretch before it: no claim's count ends between them
    joined: np.ndarray

    def __len__(self) -> int:
        return len(self.curve)

    def first_day(self, knots: np.ndarray) -> np.ndarray:
        """(n,) the first inner day of each stretch."""
        return np.where(self.left >= 0, knots[np.maximum(self.left, 0) + 1], 0)

    def last_day(self, knots: np.ndarray) -> np.ndarray:
        """(n,) the last inner day of each stretch."""
        return knots[self.right - 1]

    def inner(self, n_knots: int) -> np.ndarray:
        """(n, n_knots) bool: the inner knots of each stretch."""
        k = np.arange(n_knots)[None, :]
        return (k > self.left[:, None]) & (k < self.right[:, None])

    def group(self) -> np.ndarray:
        """(n,) which run of joined stretches each is in (stretches are listed per curve
        in time order, and a curve's first is never joined)."""
        return np.cumsum(~self.joined.astype(bool)) - 1

    def order(self) -> tuple[np.ndarray, np.ndarray]:
        """(before, later): (n, n) bool, stretch ``j`` joined with stretch ``k`` (see
        :meth:`group`) and before / after it."""
        group = self.group()
        same = group[:, None] == group[None, :]
        idx = np.arange(len(self))
        return same & (idx[None, :] < idx[:, None]), same & (idx[None, :] > idx[:, None])

    def owner(self) -> np.ndarray:
        """(n,) the first stretch of each one's group: its parameter is their total."""
        group = self.group()
        return np.searchsorted(group, group).astype(int)

    def scale(self) -> np.ndarray:
        """(n,) the scale of each stretch's standard normal parameter: for the first of
        a group, the largest ``sd`` of its group (their log total); for a later one,
        that of its log share against those before it, ``hypot(sd, largest sd
        before)``. A stretch joined with no other keeps its ``sd``."""
        before, _ = self.order()
        group = self.group()
        out = np.empty(len(self))
        for k in range(len(self)):
            if before[k].any():
                out[k] = math.hypot(self.sd[k], self.sd[before[k]].max())
            else:
                out[k] = self.sd[group == group[k]].max()
        return out

    def z_of(self, lam: np.ndarray, line: np.ndarray) -> np.ndarray:
        """The parameters (n,) of the model's graph that give the stretches log totals
        ``line + lam`` (both (n,)): the inverse of the graph's
        ``model.graph.stretch_totals``."""
        before, _ = self.order()
        group = self.group()
        h = line + lam
        z = np.empty(len(self))
        for k in range(len(self)):
            if before[k].any():
                share = np.logaddexp.reduce(h[before[k]]) - h[k]
                z[k] = share - (np.logaddexp.reduce(line[before[k]]) - line[k])
            else:
                mine = group == group[k]
                z[k] = np.logaddexp.reduce(h[mine]) - np.logaddexp.reduce(line[mine])
        return z / self.scale()


def find_stretches(
    grid: Grid,
    claim_base: np.ndarray,
    claim_first_day: np.ndarray,
    claim_last_from: np.ndarray,
    claim_last_day: np.ndarray,
    n_bases: int,
    rate_volatility: float,
) -> Stretches:
    """The stretches of every curve (see :class:`Stretches`): between consecutive days
    its claims look at (each claim's as_of, all of ``claim_last_from .. claim_last_day``
    for one known only to the month or year, and a first day after the grid start), and
    before the first, wherever at least two knots lie wholly inside.

    The sd of ``lambda`` is that of a random walk's average log value over the stretch,
    measured from its line: a Brownian bridge over ``T`` days for an inner stretch
    (``rate_volatility * sqrt(T / 12)``), and for a head ``T`` days long whose last gap
    is ``g`` days, a walk seen from its right end
    (``rate_volatility * sqrt(g + (T - g) / 3)``).
    """
    knots = grid.knots
    curve, left, right, sd, joined = [], [], [], [], []
    for b in range(n_bases):
        mine = claim_base == b
        # (first, last day, 1 where a count ends: an as_of; 0 where one starts)
        spans = [
            (lo, hi, 1) for lo, hi in zip(claim_last_from[mine], claim_last_day[mine], strict=True)
        ]
        spans += [(d, d, 0) for d in claim_first_day[mine] if d > 0]
        spans.sort()
        end = -1  # last looked-at day so far
        ended = True  # a count ended since the last stretch (or there was none)
        for lo, hi, ends in spans:
            if lo > end + 1:
                # knots after the day ``end`` (its count ends there) and at or before ``lo``
                p = -1 if end < 0 else int(np.searchsorted(knots, end, side="right"))
                q = int(np.searchsorted(knots, lo, side="right")) - 1
                if q - p >= 3:
                    curve.append(b)
                    left.append(p)
                    right.append(q)
                    joined.append(not ended)
                    ended = False
                    length = int(knots[q] - (knots[p] if p >= 0 else 0))
                    if p < 0:
                        gap = int(knots[q] - knots[q - 1])
                        sd.append(rate_volatility * math.sqrt(gap + (length - gap) / 3))
                    else:
                        sd.append(rate_volatility * math.sqrt(length / 12))
            end = max(end, int(hi))
            ended = ended or bool(ends)
    return Stretches(
        np.array(curve, dtype=int),
        np.array(left, dtype=int),
        np.array(right, dtype=int),
        np.array(sd, dtype=float),
        np.array(joined, dtype=bool),
    )
