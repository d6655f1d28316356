"""Late-bound methods: a lower layer names a method, a higher layer provides it.

``Estimate.plot``, ``Estimate.sensitivity``, ``Estimate.leave_one_source_out`` and
``Backtest.plot`` do their work in :mod:`casualty_models.plots` and
:mod:`casualty_models.trust`, which themselves import the estimate. Rather than import
upward, those modules register their implementation here when the package is imported
(``import casualty_models`` imports them all), so every import arrow points one way.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])

_PROVIDED: dict[str, Callable[..., Any]] = {}


def provides(name: str) -> Callable[[F], F]:
    """Decorator: register the decorated callable as the implementation of ``name``."""

    def register(fn: F) -> F:
        _PROVIDED[name] = fn
        return fn

    return register


def call(name: str, *args: Any, **kwargs: Any) -> Any:
    """Call the implementation registered for ``name``."""
    try:
        fn = _PROVIDED[name]
    except KeyError:
        raise RuntimeError(
            f"{name} is provided by a module that has not been imported; "
            "import casualty_models (the package) first"
        ) from None
    return fn(*args, **kwargs)
