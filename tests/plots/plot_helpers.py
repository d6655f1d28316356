"""Helpers shared by the plot tests (a plain module: tests/conftest.py keeps the fixtures)."""

from __future__ import annotations

import dataclasses

import casualty_models as cm


def with_claims(est, change):
    """The same fit with claim text/values changed (same count and order): cheap, no refit."""
    claims = cm.ClaimSet(
        [cm.Claim(**{**c.__dict__, **change(i, c)}) for i, c in enumerate(est.claims)]
    )
    return dataclasses.replace(est, claims=claims)
