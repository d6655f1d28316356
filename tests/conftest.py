"""Shared fixtures. MCMC fixtures are session-scoped: each real fit runs once per session."""

from __future__ import annotations

from pathlib import Path

import matplotlib
import pytest

matplotlib.use("Agg")

ROOT = Path(__file__).resolve().parents[1]
SEED_CSV = ROOT / "seeds" / "ukraine_2022-03.csv"


@pytest.fixture(scope="session")
def seed_claims():
    import casualty_models as cm

    return cm.read_claims(SEED_CSV)


@pytest.fixture(scope="session")
def seed_estimate(seed_claims):
    """The seed claims fitted once per session at default settings."""
    import casualty_models as cm

    return cm.fit(seed_claims, random_seed=11)
