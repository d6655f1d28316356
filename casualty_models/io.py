"""Save and load an Estimate as one netCDF file (posterior + claims + settings)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from casualty_models._atomic import atomic_write_with
from casualty_models.claims import records_to_claims

if TYPE_CHECKING:
    from casualty_models.estimate import Estimate

_ATTR = "casualty_models"  # one JSON attribute on the posterior group


def save(estimate: Estimate, path: str | os.PathLike[str]) -> Path:
    """Write ``estimate`` to ``path`` (netCDF via h5netcdf), atomically."""
    idata = estimate.idata.copy()
    idata.posterior.attrs[_ATTR] = json.dumps(
        {
            "format": 1,
            "package_version": estimate.version,
            "claims_fingerprint": estimate.claims.fingerprint,
            "claims_origin": estimate.claims.origin,
            "claims": estimate.claims.to_records(),
            "claims_places": [list(place) for place in estimate.claims.places],
            "settings": estimate.settings.to_dict(),
        }
    )
    return atomic_write_with(path, lambda tmp: idata.to_netcdf(str(tmp), engine="h5netcdf"))


def load(path: str | os.PathLike[str]) -> Estimate:
    """Read an estimate written by :func:`save`; checks the claims fingerprint."""
    import arviz as az

    from casualty_models.estimate import Estimate, FitSettings

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no saved estimate at {path}")
    idata = az.from_netcdf(str(path), engine="h5netcdf")
    idata.load()  # read everything now so the file is not held open
    meta_text: Any = idata.posterior.attrs.get(_ATTR)
    if meta_text is None:
        raise ValueError(f"{path} is a netCDF file but not a saved casualty_models estimate")
    meta = json.loads(meta_text)
    claims = records_to_claims(meta["claims"], f"{path} (saved claims)")
    places = [tuple(p) for p in meta["claims_places"]] if "claims_places" in meta else None
    claims = type(claims)._trusted(tuple(claims), meta.get("claims_origin", str(path)), places)
    if claims.fingerprint != meta["claims_fingerprint"]:
        raise ValueError(
            f"{path}: the saved claims do not match their fingerprint; "
            "the file was altered or is corrupt"
        )
    del idata.posterior.attrs[_ATTR]
    return Estimate(
        claims=claims,
        settings=FitSettings.from_dict(meta["settings"]),
        idata=idata,
        version=meta["package_version"],
    )
