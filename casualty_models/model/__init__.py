"""The statistical model: priors, categories, running tallies, inputs and the PyMC graph.

Layers inside, each importing only those before it: :mod:`.priors` (bias and curve
priors) and :mod:`.categories` (how categories relate) → :mod:`.grid` (the knots, and
the stretches no claim looks inside) and :mod:`.tallies` (running tallies read as
rises) → :mod:`.inputs` (claims to arrays, :func:`prepare`) →
:mod:`.graph` (:func:`build_model`, the only place the PyMC graph is defined).
:mod:`.priors_file` reads and writes priors as files.
"""

from casualty_models.model.graph import (
    RISE_T_SCALE,
    build_model,
    central_logp,
    density,
    rise_scale,
    t4_logcdf,
)
from casualty_models.model.grid import Grid, Stretches, find_stretches, looked_grid
from casualty_models.model.inputs import (
    KIND_CODES,
    NOISE_NU,
    EarlyStartWarning,
    ModelInputs,
    anchor_knots,
    central_sides,
    prepare,
)
from casualty_models.model.tallies import DecreasingTallyWarning

__all__ = [
    "KIND_CODES",
    "NOISE_NU",
    "RISE_T_SCALE",
    "DecreasingTallyWarning",
    "EarlyStartWarning",
    "Grid",
    "ModelInputs",
    "Stretches",
    "anchor_knots",
    "build_model",
    "central_logp",
    "central_sides",
    "density",
    "find_stretches",
    "looked_grid",
    "prepare",
    "rise_scale",
    "t4_logcdf",
]
