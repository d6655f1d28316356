"""What one claim set's model looks like from outside: its parameters and kept quantities
with their shapes, dimension names and labels.

The compiled density (:mod:`casualty_models._compiled`) sees one flat vector of
parameters; :class:`Skeleton` says where each named parameter lies in it, what a draw
expands to, and what each element means (a curve, a knot's date, a speaker). The
labels are how a warm start carries a previous posterior across claim sets of other
shapes: an element whose label is found again starts where it was
(:mod:`casualty_models._warm`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from casualty_models.model.data import PARAMS, model_data, param_sizes

if TYPE_CHECKING:
    from casualty_models.model.inputs import ModelInputs

__all__ = ["KEEP", "Skeleton", "skeleton"]

KEEP = (
    "log_rate",
    "log_factor",
    "ratio",
    "bias",
    "bias_drift",
    "rise_noise",
    "log_count",
    "claim_loc",
)
"""Quantities a draw is expanded to, besides the parameters: what an Estimate keeps."""

DIMS: dict[str, tuple[str, ...]] = {
    "level_z": ("curve",),
    "steps_z": ("curve", "step"),
    "stretch_z": ("stretch",),
    "ratio_z": ("ratio_name",),
    "bias_z": ("free_speaker",),
    "bias_z_capped": ("capped_speaker",),
    "group_z": ("group",),
    "drift_z": ("running", "step"),
    "rise_noise_z": ("running",),
    "log_rate": ("curve", "knot"),
    "log_factor": ("series",),
    "ratio": ("ratio_name",),
    "bias": ("speaker",),
    "bias_drift": ("running", "knot"),
    "rise_noise": ("running",),
    "log_count": ("claim",),
    "claim_loc": ("claim",),
}
"""The dimensions of every parameter and kept quantity. A step is named by the knot it
ends at."""


@dataclass(frozen=True)
class Skeleton:
    """Names, shapes and labels of one claim set's parameters and kept quantities.

    ``params`` and ``kept`` map names to shapes, in the order of the flat vectors
    (:data:`~casualty_models.model.data.PARAMS`, then :data:`KEEP`); a name of size 0
    is a part of the model these claims do not have. ``coords`` labels each dimension.
    """

    params: dict[str, tuple[int, ...]]
    kept: dict[str, tuple[int, ...]]
    coords: dict[str, list[str]]

    @property
    def n_dim(self) -> int:
        """Parameters: the length of the vector the density is a function of."""
        return sum(int(np.prod(s)) for s in self.params.values())

    @property
    def n_expanded(self) -> int:
        """Length of an expanded draw: the parameters, then the kept quantities."""
        return self.n_dim + sum(int(np.prod(s)) for s in self.kept.values())

    @property
    def free(self) -> list[str]:
        """Parameters these claims have (size above 0), in vector order."""
        return [n for n, s in self.params.items() if np.prod(s) > 0]

    def dims(self, name: str) -> tuple[str, ...]:
        return DIMS[name]

    def labels(self, name: str) -> list[str]:
        """One label per element of parameter ``name`` (C order): its dimensions'
        labels joined with ``/``."""
        out = [""]
        for dim in DIMS[name]:
            out = [f"{a}/{b}" if a else b for a in out for b in self.coords[dim]]
        return out if np.prod(self.params.get(name) or self.kept[name]) else []

    def flat_labels(self) -> list[str]:
        """``name[label]`` of every element of the parameter vector, in order."""
        return [f"{n}[{lab}]" for n in self.free for lab in self.labels(n)]

    def split(self, flat: np.ndarray, which: str = "params") -> dict[str, np.ndarray]:
        """Named arrays (..., *shape) out of flat vectors (..., n): parameters, or the
        expanded draw (parameters then kept quantities) with ``which="expanded"``."""
        shapes = dict(self.params)
        if which == "expanded":
            shapes |= self.kept
        out, at = {}, 0
        for name, shape in shapes.items():
            n = int(np.prod(shape))
            out[name] = flat[..., at : at + n].reshape(*flat.shape[:-1], *shape)
            at += n
        return out


def skeleton(inputs: ModelInputs, data: dict[str, np.ndarray] | None = None) -> Skeleton:
    """The skeleton of the model of ``inputs`` (``data``: its :func:`model_data`)."""
    data = model_data(inputs) if data is None else data
    grid, the_plan = inputs.grid, inputs.plan
    knots = [str(grid.dates[k]) for k in grid.knots]
    curves = [f"{side}|{cat}" for side, cat in the_plan.bases]
    speakers = [f"{src}|{side}" for src, side in inputs.speakers]
    st_left, st_right = data["st_left"], data["st_right"]
    stretches = [
        f"{curves[c]}|{'head' if head else knots[a]}..{knots[b]}"
        for c, a, b, head in zip(data["st_curve"], st_left, st_right, data["st_head"], strict=True)
    ]
    coords = {
        "curve": curves,
        "series": [f"{side}|{cat}" for side, cat in the_plan.series],
        "knot": knots,
        "step": knots[1:],
        "stretch": stretches,
        "speaker": speakers,
        "free_speaker": [speakers[j] for j in data["free_idx"]],
        "capped_speaker": [speakers[j] for j in data["capped_idx"]],
        "claim": [str(i) for i in range(len(inputs.claim_kind))],
        "ratio_name": [f"{side}|{name}" for side, name in the_plan.ratios],
        "group": [f"{t}|{side}" for t, side in inputs.groups],
        "running": [speakers[j] for j in inputs.running],
    }
    sizes = param_sizes(data)
    n_bases, n_knots, n_speakers, n_claims, _, n_running = (int(v) for v in data["sizes"])
    kept = {
        "log_rate": (n_bases, n_knots),
        "log_factor": (len(coords["series"]),),
        "ratio": (len(coords["ratio_name"]),),
        "bias": (n_speakers,),
        "bias_drift": (n_running, n_knots),
        "rise_noise": sizes["rise_noise_z"],
        "log_count": (n_claims,),
        "claim_loc": (n_claims,),
    }
    return Skeleton({n: sizes[n] for n in PARAMS}, kept, coords)
