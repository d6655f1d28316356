"""Lazy, configured import of PyMC.

``import casualty_models`` stays fast (no PyMC) so that validating a claims file is
instant; the sampler is imported on the first fit.

pip-installed PyTensor searches for a system BLAS on first use, takes a moment, and
warns when it finds none. Our model uses only elementwise operations, gathers and
cumulative sums, never a matrix product, so BLAS would not speed it up. We therefore
set ``blas__ldflags`` to empty (unless the user configured it), which skips the search
and its warning. Compiled C code is cached by PyTensor in its ``compiledir``
(``~/.pytensor`` by default), so only the first fit on a machine pays the compile.

PyTensor's numba backend (the code nutpie runs) compiles with fast-math flags by
default, under which LLVM may reorder floating-point sums differently in a fresh
compilation and in code loaded from the cache: the same seed then gave different
numbers on a machine's first fit and its later ones (PNAS data: Ukrainian killed
41,874 against 41,657). We set ``numba__fastmath`` off, which made them identical at
no measurable cost (docs/benchmarks.md).
"""

from __future__ import annotations

import os
import sys
import warnings
from types import ModuleType

DEFAULT_FLAGS = {"blas__ldflags": "", "numba__fastmath": "False"}
"""PyTensor settings we set when the user has not (see above)."""


def configure_pytensor() -> None:
    """Set our PyTensor defaults, unless PyTensor is already imported or configured."""
    if "pytensor" in sys.modules:
        return
    flags = os.environ.get("PYTENSOR_FLAGS", "")
    user_rc = os.environ.get("PYTENSORRC") or os.path.exists(os.path.expanduser("~/.pytensorrc"))
    if user_rc:
        return
    ours = [f"{k}={v}" for k, v in DEFAULT_FLAGS.items() if k not in flags]
    os.environ["PYTENSOR_FLAGS"] = ",".join(f for f in (flags, *ours) if f)


def pymc() -> ModuleType:
    """Import and return :mod:`pymc`, configured as described above."""
    configure_pytensor()
    with warnings.catch_warnings():
        # ArviZ announces its upcoming 1.0 refactor on import; irrelevant to users here
        warnings.filterwarnings("ignore", category=FutureWarning, module="arviz")
        import arviz  # noqa: F401
        import pymc as pm
    return pm


configure_pytensor()
