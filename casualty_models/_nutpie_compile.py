"""nutpie's compiled form of a model, built so that a rerun of the same fit compiles nothing.

nutpie calls a model through two C callbacks (the log density with its gradient, and a
draw expanded to every variable) that ``nutpie.compile_pymc_model`` compiles with numba
in every process, linking in PyTensor's compiled graph: 17-18 s on the war or PNAS data.
Its callbacks are closures, which numba cannot cache. Here the same callbacks are source
text that PyTensor's cache locator files in its numba cache under a key of the graph, so
a second fit of the same claims and settings loads them (about 0.1 s).

The key includes the claim arrays, which the graph holds as constants: new claims, a new
``as_of`` or new priors compile afresh. Passing the arrays as inputs instead
(pytensor#1759) gave the same numbers but numba took more than five minutes to compile
the callback (docs/benchmarks.md).
"""

from __future__ import annotations

import hashlib
from importlib.metadata import version
from pathlib import Path
from typing import Any

import numpy as np

_CALLBACK_VERSION = 1
"""Part of every cache key: raise it when the callbacks' source changes."""

CACHE_KEEP = 40
"""Claim sets whose callbacks stay in the cache (about 3 MB each, PNAS-sized): a
new one removes the oldest beyond this number, so refitting many simulated or past
claim sets (SBC, backtests) cannot fill the disk."""

_LOGP_SRC = """
def logp_callback(dim, x_ptr, grad_ptr, logp_ptr, user_data):
    if dim != N_DIM:
        return -1
    try:
        x = carray(x_ptr, (N_DIM,))
        grad_out = carray(grad_ptr, (N_DIM,))
        value, grad = graph(x)
        carray(logp_ptr, ())[()] = value
        grad_out[:] = grad
        if not np.all(np.isfinite(grad_out)):
            return 3
        if not np.isfinite(value):
            return 4
    except Exception:
        return 1
    return 0
"""
_EXPAND_SRC = """
def expand_callback(dim, n_out, x_ptr, out_ptr, user_data):
    if dim != N_DIM or n_out != N_EXPANDED:
        return -1
    try:
        x = carray(x_ptr, (N_DIM,))
        (values,) = graph(x)
        carray(out_ptr, (N_EXPANDED,))[:] = values
    except Exception:
        return -2
    return 0
"""


def _inlined(fn: Any) -> Any:
    """The numba function of PyTensor's compiled ``fn``, to be inlined where it is
    called: compiled on its own too, it would be compiled twice (and cached unused)."""
    from pytensor.link.numba.dispatch.basic import numba_njit

    wrapper = fn.vm.jit_fn.py_func  # def f(*args): return jitable_func(*args)
    graph = wrapper.__globals__["jitable_func"].py_func
    return numba_njit(graph, cache=False, inline="always")


def prune_cache(folder: Path, keep: int = CACHE_KEEP) -> list[str]:
    """Remove the callbacks of all but the ``keep`` most recently compiled claim sets
    from numba's cache ``folder``; returns the keys removed. Files of one key (the
    index, ``.nbi``, and its code, ``.nbc``) go together; PyTensor's own files stay."""
    files: dict[str, list[Path]] = {}
    for f in folder.glob("*-casualty_models_*_callback_*"):
        key = f.name.split("_callback_")[1].split(".")[0]
        files.setdefault(key, []).append(f)
    newest = sorted(files, key=lambda k: max(f.stat().st_mtime for f in files[k]))
    removed = newest[: max(len(newest) - 2 * keep, 0)]  # a logp and an expand key each
    for key in removed:
        for f in files[key]:
            f.unlink(missing_ok=True)  # another process may have removed it
    return removed


def compile_model(model: Any) -> Any:
    """nutpie's compiled ``model`` (as ``nutpie.compile_pymc_model`` returns it), whose
    callbacks load from numba's cache when the same graph was compiled before. Falls
    back to nutpie's own compilation when PyTensor cannot cache the graph."""
    import numba
    import nutpie
    from nutpie import compile_pymc as ncp
    from pymc.initial_point import make_initial_point_fn
    from pytensor.link.numba.cache import (
        CACHED_SRC_FUNCTIONS,
        NUMBA_CACHE_PATH,
        compile_numba_function_src,
    )

    point_fn = make_initial_point_fn(
        model=model,
        jitter_rvs=set(model.free_RVs),
        default_strategy="support_point",
        return_transformed=True,
    )
    n_dim, n_expanded, logp_fn, expand_fn, initial_point, shape_info = ncp._make_functions(
        model,
        mode="NUMBA",
        compute_grad=True,
        join_expanded=True,
        pymc_initial_point_fn=ncp._wrap_with_lock(point_fn),
    )
    fns = {"logp": logp_fn, "expand": expand_fn}
    keys = {kind: CACHED_SRC_FUNCTIONS.get(fn.vm.jit_fn.py_func) for kind, fn in fns.items()}
    if None in keys.values() or logp_fn.get_shared() or expand_fn.get_shared():
        return nutpie.compile_pymc_model(model)

    double_p = numba.types.CPointer(numba.types.double)
    signatures = {
        "logp": numba.types.int64(
            numba.types.uint64, double_p, double_p, double_p, numba.types.voidptr
        ),
        "expand": numba.types.int64(
            numba.types.uint64, numba.types.uint64, double_p, double_p, numba.types.voidptr
        ),
    }
    callbacks = {}
    for kind, src in (("logp", _LOGP_SRC), ("expand", _EXPAND_SRC)):
        # everything the compiled code depends on: the graph (PyTensor's key of its
        # operations and constants), this source, the sizes frozen into it
        stamp = [_CALLBACK_VERSION, src, keys[kind], n_dim, n_expanded]
        stamp += [version(p) for p in ("nutpie", "numba", "pytensor")]
        name = f"{kind}_callback"
        py_func = compile_numba_function_src(
            src,
            name,
            global_env={
                "__name__": __name__,  # numba's cache rebuilds the environment from it
                "carray": numba.carray,
                "np": np,
                "graph": _inlined(fns[kind]),
                "N_DIM": n_dim,
                "N_EXPANDED": n_expanded,
            },
            cache_key=f"casualty_models_{name}_" + hashlib.sha256(repr(stamp).encode()).hexdigest(),
        )
        callbacks[kind] = numba.cfunc(signatures[kind], cache=True)(py_func)
    if not callbacks["logp"].cache_hits:
        prune_cache(NUMBA_CACHE_PATH)

    dims, coords = ncp._prepare_dims_and_coords(model, shape_info)
    return ncp.CompiledPyMCModel(
        _n_dim=n_dim,
        dims=dims,
        _coords=coords,
        _shapes={name: tuple(shape) for name, _, shape in zip(*shape_info, strict=True)},
        compiled_logp_func=callbacks["logp"],
        compiled_expand_func=callbacks["expand"],
        initial_point_func=initial_point,
        shared_data={},
        user_data=ncp.make_user_data({}, {}),
        n_expanded=n_expanded,
        shape_info=shape_info,
        logp_func=logp_fn,
        expand_func=expand_fn,
    )
