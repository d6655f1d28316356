"""One netCDF file per estimate: the InferenceData plus one JSON attribute of metadata.

This module knows files, not estimates: :meth:`Estimate.save` and :func:`load` (in
:mod:`casualty_models.estimate`) decide what the metadata holds.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from casualty_models._atomic import atomic_write_with

if TYPE_CHECKING:
    import arviz as az

_ATTR = "casualty_models"  # one JSON attribute on the posterior group


def write_netcdf(
    path: str | os.PathLike[str], idata: az.InferenceData, meta: dict[str, Any]
) -> Path:
    """Write ``idata`` with ``meta`` (JSON-ready) to ``path`` (h5netcdf), atomically."""
    idata = idata.copy()
    idata.posterior.attrs[_ATTR] = json.dumps(meta)
    return atomic_write_with(path, lambda tmp: idata.to_netcdf(str(tmp), engine="h5netcdf"))


def read_netcdf(path: str | os.PathLike[str]) -> tuple[az.InferenceData, dict[str, Any]]:
    """Read a file written by :func:`write_netcdf`: (idata without the attribute, meta)."""
    import arviz as az

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no saved estimate at {path}")
    idata = az.from_netcdf(str(path), engine="h5netcdf")
    idata.load()  # read everything now so the file is not held open
    meta_text: Any = idata.posterior.attrs.get(_ATTR)
    if meta_text is None:
        raise ValueError(f"{path} is a netCDF file but not a saved casualty_models estimate")
    del idata.posterior.attrs[_ATTR]
    return idata, json.loads(meta_text)
