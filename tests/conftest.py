"""Shared fixtures. MCMC fixtures are session-scoped: each real fit runs once per session."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")

ROOT = Path(__file__).resolve().parents[1]


def claim(**kw):
    """A claim about side "a", killed, on 2022-03-10, by a neutral "S"; ``kw`` overrides."""
    import casualty_models as cm

    base = dict(
        source="S",
        source_type="neutral",
        side="a",
        category="killed",
        as_of=dt.date(2022, 3, 10),
        citation="test",
    )
    return cm.Claim(**{**base, **kw})


SEED_CSV = ROOT / "seeds" / "ukraine_2022-03.csv"

LONGEST_FIRST = (
    "test_wheel.py",
    "test_kill.py",
    "test_model.py",
    "test_atlas.py",
    "test_compiled.py",
    "test_estimate.py",
)
"""The files that take longest, collected first: ``make test`` hands whole files to one
worker per core in collection order, and the wheel test (about a minute), collected
last, kept one worker busy after the other had finished."""


def pytest_collection_modifyitems(config, items):
    rank = {name: k for k, name in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))  # stable otherwise


@pytest.fixture(scope="session")
def seed_claims():
    import casualty_models as cm

    return cm.read_claims(SEED_CSV)


@pytest.fixture(scope="session")
def seed_estimate(seed_claims):
    """The seed claims fitted once per session at default settings."""
    import casualty_models as cm

    return cm.fit(seed_claims, random_seed=11)


def offline_estimate(claims, *, loc_shift=None, drift=None, start=dt.date(2022, 2, 24), seed=0):
    """An Estimate without sampling, for tests of what is computed from a posterior.

    Its 'posterior' puts each claim's expected figure at the claim's own value (times
    ``loc_shift``, per claim) with sd 0.05; other quantities are noise of the right
    shapes. ``drift`` (log units) is every running tally's drift at every knot after its
    first (sd 0.05 about it).
    """
    import arviz as az

    import casualty_models as cm
    from casualty_models.estimate import FitSettings
    from casualty_models.model import KIND_CODES, prepare

    end = max(c.as_of for c in claims)
    settings = FitSettings(start=start, end=end, as_of=end)
    inp = prepare(claims, start=settings.start, end=settings.end, priors=settings.priors)
    rng = np.random.default_rng(seed)
    shape = (2, 500)
    centre = np.where(
        inp.claim_kind == KIND_CODES["point"],
        inp.claim_log_value,
        np.nan_to_num(inp.claim_log_low, neginf=0),
    )
    if loc_shift is not None:
        centre = centre + np.log(loc_shift)
    n_claims, n_knots = len(claims), len(inp.grid.knots)
    posterior = {
        "log_rate": rng.normal(size=(*shape, len(inp.plan.bases), n_knots)),
        "log_factor": np.zeros((*shape, len(inp.series))),
        "bias": rng.normal(scale=0.1, size=(*shape, len(inp.speakers))),
        "log_count": rng.normal(size=(*shape, n_claims)),
        "claim_loc": centre + 0.05 * rng.normal(size=(*shape, n_claims)),
    }
    if inp.running:
        after = np.arange(n_knots)[None, :] > inp.running_first_knot[:, None]
        level = (drift or 0.0) + 0.05 * rng.normal(size=(*shape, len(inp.running), n_knots))
        posterior["bias_drift"] = np.where(after, level, 0.0)
        posterior["rise_noise"] = np.full((*shape, len(inp.running)), inp.priors.running_noise)
    coords = {"series": [f"{s}|{c}" for s, c in inp.series]}
    idata = az.from_dict(
        posterior=posterior,
        sample_stats={"diverging": np.zeros(shape, bool), "tree_depth": np.ones(shape)},
        coords=coords,
        dims={"log_factor": ["series"]},
    )
    return cm.Estimate(claims=claims, settings=settings, idata=idata)


def without_our_script(html: str) -> str:
    """The report without the explorable figure's script, ours and static
    (``report/templates/explorable.js.j2``); every other ``<script`` is a leak."""
    import importlib.resources
    import re

    template = importlib.resources.files("casualty_models.report") / "templates"
    text = (template / "explorable.js.j2").read_text(encoding="utf-8")
    js = text.split("{% raw %}", 1)[1].split("{% endraw %}", 1)[0].strip()
    ours = re.compile(r"<script>\s*" + re.escape(js) + r"\s*</script>")
    assert len(ours.findall(html)) <= 1
    return ours.sub("", html)
