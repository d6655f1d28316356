"""The bias atlas: how far each kind of source was off in past events whose toll was
later counted, and the ``historical`` bias priors learned from it (docs/atlas.md).

* :mod:`.data` reads and checks ``seeds/bias_atlas/`` and turns it into one row per
  scored claim (:func:`load_atlas`, :meth:`Atlas.observations`);
* :mod:`.model` is the atlas's own small PyMC model of log(claim / later count) and its
  predictive for a new event's source bias (:func:`fit_atlas`);
* :mod:`.preset` turns that predictive into the ``historical`` presets' YAML;
* :mod:`.simulate` draws atlases from known biases, to check that the model finds them;
* :mod:`.loo` refits without one event and scores the main model's interval for it;
* :mod:`.plot` draws the forest plot.

Importing this package is light: PyMC loads only when a model is fitted.
"""

from __future__ import annotations

from casualty_models.atlas.data import (
    CELLS,
    Atlas,
    AtlasError,
    default_atlas_dir,
    load_atlas,
)

__all__ = ["CELLS", "Atlas", "AtlasError", "default_atlas_dir", "load_atlas"]
