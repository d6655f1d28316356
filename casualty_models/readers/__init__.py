"""Reading claims: the package's own CSV and YAML layouts, DataFrames, and named formats.

:func:`read_claims` is the entry point. The package's own layout (the columns of
:data:`casualty_models.claims.COLUMNS`) is read here; claims published in other layouts
are read by a module per format (:mod:`.radford2023`), named with ``format=``. Every
reader validates through :mod:`casualty_models.claims` and raises one
:class:`~casualty_models.claims.ClaimsError` listing every problem at once.
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from casualty_models.claims import ClaimsError, ClaimSet, Problem
from casualty_models.readers.native import read_csv, read_frame, read_yaml
from casualty_models.readers.radford2023 import FORMATS, ReaderNote, read_formatted

__all__ = ["FORMATS", "ReaderNote", "read_claims"]


def read_claims(
    source: str | os.PathLike[str] | pd.DataFrame | ClaimSet, *, format: str | None = None
) -> ClaimSet:
    """Read and validate claims from a CSV or YAML file, a DataFrame or a ClaimSet.

    The file type follows the suffix (``.csv``; ``.yaml``/``.yml``). Raises
    :class:`ClaimsError` listing every problem (file, row, column, reason) at once.

    ``format`` names a file laid out as published elsewhere, read by
    :mod:`casualty_models.readers.radford2023` (``"radford2023"``: the PNAS replication data of
    Radford et al. 2023); that reader warns a ``ReaderNote`` with what it did. An
    unknown ``format`` raises ValueError listing the known ones.
    """
    if format is not None:
        return read_formatted(source, format)
    if isinstance(source, ClaimSet):
        return source
    if isinstance(source, pd.DataFrame):
        return read_frame(source)
    path = Path(source)
    if not path.is_file():
        raise FileNotFoundError(f"claims file not found: {path}")
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return read_csv(path)
    if suffix in (".yaml", ".yml"):
        return read_yaml(path)
    raise ClaimsError(
        [Problem(str(path), None, None, f"unknown file type {suffix!r}; use .csv, .yaml or .yml")]
    )
