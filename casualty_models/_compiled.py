"""The model compiled once, for every claim set: a function of the parameters and the data.

:func:`casualty_models.model.graph.density` is written against named data arrays; here
they are read out of two flat vectors (:func:`casualty_models.model.data.pack`) by one
operation of our own (views, no copies), and the parameters out of one, all of whose
sizes are read from the data. So the compiled code has no claim, date, grid, prior
setting or size in it: PyTensor compiles it with numba once per machine and package
version (into numba's cache on disk), and every later fit, in this process or another,
runs it on its own data (docs/benchmarks.md, "Compile once"). Within a process the
compiled functions are kept (:func:`compiled`), so a second fit builds nothing.

nutpie calls it through two C callbacks (log density with gradient; the kept quantities
of a draw), which find the data through nutpie's ``user_data`` pointer: a table of six
numbers (the two vectors' addresses and lengths, an affine map's address and rank).
nutpie samples ``y``, the callbacks evaluate the model at ``x = shift + scale * (I + U'
diag(f) U) y``: the identity for a cold run and for continued chains; for a warm start
from another fit (``fit(warm_start=...)``, ``update``) the previous posterior's mean, sd
and strongest correlations (:func:`casualty_models._warm.low_rank`), which is how such a
run reuses the previous mass matrix (nutpie's own cannot be set, and adapted afresh from
the identity in a warm run's 150 tuning steps it mixed slowly). Continued chains keep the
identity: under the map, continuations of heavy-tailed posteriors diverged
(docs/benchmarks.md).
:func:`nutpie_model` wraps one claim set's data around them.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import inspect
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from casualty_models._backend import configure_pytensor
from casualty_models.model.data import PARAMS, SCHEMA, pack, param_sizes
from casualty_models.model.skeleton import KEEP, Skeleton

if TYPE_CHECKING:
    from casualty_models._warm import Warm

_VERSION = 1
"""Part of every cache key: raise it when this module's compiled source changes."""

_STRETCH_SRC = """
def stretch(affine, v):
    out = v.copy()
    for i in range(affine.shape[0] - 3):
        out += affine[2, i] * (affine[3 + i] * v).sum() * affine[3 + i]
    return out
"""
"""``(I + U' diag(f) U) v`` for the affine map's rows ``U`` (orthonormal) and factors
``f`` (see :func:`_table`): symmetric, so the gradient goes back through it too."""
_LOGP_SRC = """
def logp_callback(dim, y_ptr, grad_ptr, logp_ptr, user_data):
    try:
        table = carray(user_data, (6,), np.int64)
        floats = carray(address_as_void_pointer(table[0]), (table[1],), np.float64)
        ints = carray(address_as_void_pointer(table[2]), (table[3],), np.int64)
        affine = carray(address_as_void_pointer(table[4]), (3 + table[5], dim), np.float64)
        x = affine[0] + affine[1] * stretch(affine, carray(y_ptr, (dim,)))
        grad_out = carray(grad_ptr, (dim,))
        value, grad = logp_graph(x, floats, ints)
        carray(logp_ptr, ())[()] = value
        grad_out[:] = stretch(affine, grad * affine[1])
        if not np.all(np.isfinite(grad_out)):
            return 3
        if not np.isfinite(value):
            return 4
    except Exception:
        return 1
    return 0
"""
_EXPAND_SRC = """
def expand_callback(dim, n_out, y_ptr, out_ptr, user_data):
    try:
        table = carray(user_data, (6,), np.int64)
        floats = carray(address_as_void_pointer(table[0]), (table[1],), np.float64)
        ints = carray(address_as_void_pointer(table[2]), (table[3],), np.int64)
        affine = carray(address_as_void_pointer(table[4]), (3 + table[5], dim), np.float64)
        x = affine[0] + affine[1] * stretch(affine, carray(y_ptr, (dim,)))
        (values,) = expand_graph(x, floats, ints)
        carray(out_ptr, (n_out,))[:] = values
    except Exception:
        return -2
    return 0
"""


def _unpack_source() -> str:
    """Source of the numba function that reads every schema array out of the two packed
    vectors, as :func:`casualty_models.model.data.pack` lays them out (views, no copy)."""
    lines = ["def unpack(floats, ints):"]
    for k, (_, kind, ndim) in enumerate(SCHEMA):
        src = "floats" if kind == "f" else "ints"
        lines.append(f"    o, r, c = ints[{3 * k}], ints[{3 * k + 1}], ints[{3 * k + 2}]")
        shaped = ".reshape((r, c))" if ndim == 2 else ""
        lines.append(f"    a{k} = {src}[o : o + r * c]{shaped}")
    lines.append(f"    return ({', '.join(f'a{k}' for k in range(len(SCHEMA)))},)")
    return "\n".join(lines)


@functools.cache
def _unpack_op() -> Any:
    """One PyTensor operation whose outputs are the schema's arrays (views of the packed
    vectors). Read with PyTensor's own slicing they took about 470 of the graph's 1,180
    nodes, most a small allocation on every gradient (a 0-d array for every offset and
    size): seed claims 90 -> 57 us per gradient."""
    import pytensor.tensor as pt
    from pytensor.gradient import DisconnectedType
    from pytensor.graph.basic import Apply
    from pytensor.graph.op import Op
    from pytensor.link.numba.cache import compile_numba_function_src
    from pytensor.link.numba.dispatch.basic import (
        numba_njit,
        register_funcify_default_op_cache_key,
    )

    class Unpack(Op):
        __props__ = ()

        def __init__(self) -> None:
            # every output is a view of an input: PyTensor must never write into it
            self.view_map = {k: [0 if kind == "f" else 1] for k, (_, kind, _) in enumerate(SCHEMA)}

        def make_node(self, *inputs: Any) -> Apply:
            outs = [
                pt.TensorType("float64" if kind == "f" else "int64", shape=(None,) * ndim)()
                for _, kind, ndim in SCHEMA
            ]
            return Apply(self, list(inputs), outs)  # floats, ints

        def perform(self, node: Any, inputs: Any, output_storage: Any) -> None:
            # the numba function's own Python source, run on NumPy arrays
            for storage, value in zip(output_storage, unpack(*inputs), strict=True):
                storage[0] = value

        def connection_pattern(self, node: Any) -> list[list[bool]]:
            return [[False] * len(SCHEMA)] * 2

        def L_op(self, inputs: Any, outputs: Any, grads: Any) -> list[Any]:
            return [DisconnectedType()(), DisconnectedType()()]

    source = _unpack_source()
    unpack = compile_numba_function_src(source, "unpack")

    # keyed, so PyTensor caches the whole graph's function (see _jitted); the salt
    # follows the schema
    @register_funcify_default_op_cache_key(Unpack)
    def _funcify(op: Any, node: Any = None, **kwargs: Any) -> tuple[Any, int]:
        salt = int(hashlib.sha256(source.encode()).hexdigest()[:12], 16)
        return numba_njit(unpack), salt

    return Unpack()


def _views(floats: Any, ints: Any) -> dict[str, Any]:
    """Each array of the schema, read out of the two packed vectors (PyTensor)."""
    return dict(zip((name for name, _, _ in SCHEMA), _unpack_op()(floats, ints), strict=True))


def _param_blocks(d: dict[str, Any]) -> dict[str, tuple[Any, ...]]:
    """The symbolic shape of every parameter, as :func:`param_sizes` gives it."""
    import pytensor.tensor as pt

    n_bases, n_knots = d["sizes"][0], d["sizes"][1]
    n_groups, n_running = d["sizes"][4], d["sizes"][5]
    rises = pt.switch(d["inc_claim"].shape[0] > 0, n_running, 0)
    return {
        "level_z": (n_bases,),
        "steps_z": (n_bases, n_knots - 1),
        "stretch_z": (d["st_sd"].shape[0],),
        "ratio_z": (d["ratio_mu"].shape[0],),
        "bias_z": (d["free_idx"].shape[0],),
        "bias_z_capped": (d["capped_idx"].shape[0],),
        "group_z": (n_groups,),
        "drift_z": (n_running, n_knots - 1),
        "rise_noise_z": (rises,),
    }


def _graph() -> tuple[Any, Any, Any, Any, Any]:
    """(x, floats, ints, [logp, grad], expanded): the model's log density (the standard
    normal priors of the parameters included, constants left out) and its kept
    quantities, as PyTensor variables of the three flat inputs."""
    import pytensor
    import pytensor.tensor as pt

    from casualty_models.model.graph import density

    x = pt.dvector("x")
    floats, ints = pt.dvector("floats"), pt.lvector("ints")
    d = _views(floats, ints)
    params, at = {}, 0
    for name in PARAMS:
        shape = _param_blocks(d)[name]
        size = shape[0] * shape[1] if len(shape) == 2 else shape[0]
        params[name] = x[at : at + size].reshape(shape)
        at = at + size
    terms, values = density(params, d)
    logp = -0.5 * pt.sum(x**2) + terms["rises"] + terms["stretches"]
    logp += sum(terms[k].sum() for k in ("point", "central", "censored"))
    grad = pytensor.grad(logp, x)
    expanded = pt.concatenate([x] + [values[k].ravel() for k in KEEP])
    return x, floats, ints, [logp, grad], expanded


@dataclass(frozen=True)
class Compiled:
    """nutpie's two C callbacks of the model (see the module docstring)."""

    logp_callback: Any
    expand_callback: Any


_LOCK = threading.RLock()  # compiled() builds the functions under it too
_COMPILED: dict[str, Any] = {}


@functools.cache
def cache_key() -> str:
    """The compiled model's key in numba's cache: what its code is made from (the graph
    module, the data layout, the functions here that assemble the density, the
    callbacks) and the versions of what compiles it. Not PyTensor's key of the rewritten
    graph, which differs between processes (its rewrites depend on hash order) though
    every version of it computes the same density."""
    import pytensor

    from casualty_models.model import graph

    stamp = [
        str(_VERSION),
        str(pytensor.config.numba__fastmath),
        repr(SCHEMA),
        repr(PARAMS),
        repr(KEEP),
        _STRETCH_SRC,
        _LOGP_SRC,
        _EXPAND_SRC,
    ]
    stamp += [
        inspect.getsource(f) for f in (_unpack_op, _views, _param_blocks, _graph, _mode, _jitted)
    ]
    stamp.append(_unpack_source())
    stamp += [version(p) for p in ("nutpie", "numba", "pytensor", "numpy")]
    digest = hashlib.sha256("|".join(stamp).encode())
    digest.update(Path(graph.__file__).read_bytes())
    return digest.hexdigest()[:32]


def warm_up() -> str:
    """Compile (or load) the model ahead of any fit, as ``make venv`` does; says how long
    it took."""
    import time

    began = time.perf_counter()
    compiled()
    return f"model compiled or loaded in {time.perf_counter() - began:.0f} s (key {cache_key()})"


def compiled() -> Compiled:
    """The model's callbacks: kept once built in this process, else loaded from numba's
    cache on disk, else compiled (minutes, once per machine and package version; then
    cached). A cache entry that cannot be loaded is removed and compiled again. Across
    processes one compiles while the others wait for it (a lock file in the cache)."""
    configure_pytensor()  # before PyTensor is imported: its flags are part of the code
    with _LOCK:
        if "callbacks" not in _COMPILED:
            found = _load()
            if found is None:
                with _cache_lock():
                    found = _load() or _build()  # another process may have built it
            _COMPILED["callbacks"] = found
        return _COMPILED["callbacks"]


@contextlib.contextmanager
def _cache_lock() -> Iterator[None]:
    """An exclusive lock on the model's entries in numba's cache, across processes."""
    import fcntl

    from pytensor.link.numba.cache import NUMBA_CACHE_PATH

    folder = Path(NUMBA_CACHE_PATH)
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / f"casualty_models_{cache_key()}.lock", "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)  # released when the file is closed
        yield


def _signatures() -> dict[str, Any]:
    import numba

    double_p = numba.types.CPointer(numba.types.double)
    return {
        "logp": numba.types.int64(
            numba.types.uint64, double_p, double_p, double_p, numba.types.voidptr
        ),
        "expand": numba.types.int64(
            numba.types.uint64, numba.types.uint64, double_p, double_p, numba.types.voidptr
        ),
    }


def _callback_source(kind: str, graph: Any) -> Any:
    """The callback's Python function, registered under the model's cache key."""
    import numba
    from nutpie.compile_pymc import address_as_void_pointer
    from pytensor.link.numba.cache import compile_numba_function_src

    name = f"{kind}_callback"
    return compile_numba_function_src(
        {"logp": _LOGP_SRC, "expand": _EXPAND_SRC}[kind],
        name,
        global_env={
            "__name__": __name__,  # numba's cache rebuilds the environment from it
            "carray": numba.carray,
            "np": np,
            "address_as_void_pointer": address_as_void_pointer,
            "stretch": numba.njit(compile_numba_function_src(_STRETCH_SRC, "stretch")),
            f"{kind}_graph": graph,
        },
        cache_key=f"casualty_models_{name}_{cache_key()}",
    )


def _load() -> Compiled | None:
    """Both callbacks from numba's cache, or None when either is not there (a damaged
    entry is removed, to be compiled afresh)."""
    import numba

    out = {}
    for kind, sig in _signatures().items():
        # no graph: a cached callback is loaded as compiled code, never traced
        try:
            out[kind] = numba.cfunc(sig, cache=True)(_callback_source(kind, None))
        except Exception:
            if _entries(kind):  # there but unreadable (truncated, foreign): rebuild
                _remove_entries(kind)
            return None
    return Compiled(out["logp"], out["expand"])


def _entries(kind: str) -> list[Path]:
    """The cache files of callback ``kind`` under the current key."""
    from pytensor.link.numba.cache import NUMBA_CACHE_PATH

    return list(Path(NUMBA_CACHE_PATH).glob(f"*casualty_models_{kind}_callback_{cache_key()}*"))


def _remove_entries(kind: str) -> None:
    """Delete the cache files of callback ``kind`` under the current key."""
    for f in _entries(kind):
        f.unlink(missing_ok=True)  # another process may have removed it


def _build() -> Compiled:
    """Compile both callbacks (minutes) into numba's cache, and drop older keys' code."""
    import numba
    import pytensor
    from pytensor.link.numba.cache import NUMBA_CACHE_PATH

    x, floats, ints, logp_outs, expanded = _graph()
    mode = _mode()
    fns = {
        "logp": pytensor.function([x, floats, ints], logp_outs, mode=mode),
        "expand": pytensor.function([x, floats, ints], [expanded], mode=mode),
    }
    callbacks = {}
    for kind, sig in _signatures().items():
        graph = _jitted(fns[kind])
        callbacks[kind] = numba.cfunc(sig, cache=True)(_callback_source(kind, graph))
    prune_cache(Path(NUMBA_CACHE_PATH))
    return Compiled(callbacks["logp"], callbacks["expand"])


def prune_cache(folder: Path, keep: int = 2) -> list[str]:
    """Remove the model's callbacks of all but the ``keep`` most recent keys from numba's
    cache ``folder`` (older package versions, and the per-claim-set callbacks of
    versions before the model was compiled once); returns the keys removed. PyTensor's
    own files stay."""
    files: dict[str, list[Path]] = {}
    for f in folder.glob("*-casualty_models_*_callback_*"):
        key = f.name.split("_callback_")[1].split(".")[0]
        files.setdefault(key, []).append(f)
    newest = sorted(files, key=lambda k: max(f.stat().st_mtime for f in files[k]))
    removed = newest[: max(len(newest) - keep, 0)]
    for key in removed:
        for f in files[key]:
            f.unlink(missing_ok=True)
    return removed


def _mode() -> Any:
    """PyTensor's NUMBA mode without its shape assertions: they would check on every
    gradient what :func:`~casualty_models.model.data.check_data` checks once per claim
    set (seed claims: 57 -> 44 us per gradient)."""
    from pytensor.compile.mode import get_mode

    return get_mode("NUMBA").including("local_remove_all_assert")


def _jitted(fn: Any) -> Any:
    """The numba function of PyTensor's compiled ``fn``, for the callback to call. Not
    inlined into it: the inlined callback took twice as long to compile (157 s against
    333 s on a busy machine) and ran 2.7 times slower (118-136 against 330-390 us per
    gradient on the seed claims), LLVM optimising one huge function worse than two."""
    from pytensor.link.numba.dispatch.basic import numba_njit

    wrapper = fn.vm.jit_fn.py_func  # def f(*args): return jitable_func(*args)
    graph = wrapper.__globals__["jitable_func"].py_func
    return numba_njit(graph, cache=False)


def _table(
    data: dict[str, np.ndarray], affine: np.ndarray | None = None
) -> tuple[np.ndarray, tuple[np.ndarray, ...]]:
    """The callbacks' ``user_data`` for ``data``: six int64 (the packed vectors'
    addresses and lengths, the address of the affine map and its number of directions
    ``k``), and the arrays, which must stay alive while it is used. The map is ``(3 +
    k, parameter)``: shift, scale, the factors ``f`` (first ``k``), the directions
    ``U``; default the identity."""
    floats, ints = pack(data)
    if affine is None:
        n_dim = sum(int(np.prod(s)) for s in param_sizes(data).values())
        affine = np.stack([np.zeros(n_dim), np.ones(n_dim), np.zeros(n_dim)])
    affine = np.ascontiguousarray(affine, dtype=np.float64)
    addresses = [floats.ctypes.data, floats.size, ints.ctypes.data, ints.size]
    table = np.array([*addresses, affine.ctypes.data, len(affine) - 3], np.int64)
    return table, (floats, ints, affine)


def logp_and_grad(
    data: dict[str, np.ndarray], x: np.ndarray, affine: np.ndarray | None = None
) -> tuple[int, float, np.ndarray]:
    """(return code, log density, gradient) of the compiled callback at ``x`` (``y``
    under an ``affine`` map, :func:`_table`): code 0, or nutpie's codes for a
    non-finite gradient (3) or density (4)."""
    import ctypes

    table, _alive = _table(data, affine)
    x = np.ascontiguousarray(x, dtype=np.float64)
    grad, value = np.zeros(len(x)), np.zeros(())
    ptr = ctypes.POINTER(ctypes.c_double)
    code = compiled().logp_callback.ctypes(
        len(x),
        x.ctypes.data_as(ptr),
        grad.ctypes.data_as(ptr),
        value.ctypes.data_as(ptr),
        ctypes.c_void_p(table.ctypes.data),
    )
    return int(code), float(value), grad


def expand(
    data: dict[str, np.ndarray], sk: Skeleton, x: np.ndarray, affine: np.ndarray | None = None
) -> dict[str, np.ndarray]:
    """The parameters and kept quantities of the draw ``x`` (``y`` under an ``affine``
    map), by name (the callback)."""
    import ctypes

    table, _alive = _table(data, affine)
    x = np.ascontiguousarray(x, dtype=np.float64)
    out = np.zeros(sk.n_expanded)
    ptr = ctypes.POINTER(ctypes.c_double)
    code = compiled().expand_callback.ctypes(
        len(x),
        len(out),
        x.ctypes.data_as(ptr),
        out.ctypes.data_as(ptr),
        ctypes.c_void_p(table.ctypes.data),
    )
    if code:
        raise RuntimeError(f"the compiled model could not expand the draw (code {code})")
    return sk.split(out, "expanded")


def nutpie_model(
    data: dict[str, np.ndarray], sk: Skeleton, warm: Warm | None = None, standardise: bool = True
) -> Any:
    """nutpie's model of one claim set: the compiled callbacks, reading ``data``.

    Cold, each chain starts at uniform(-1, 1) draws of every parameter (PyMC's jitter
    around the prior's centre, 0 for every standard-normal parameter here), from its
    seed. Warm, each chain starts at a previous chain's last draw (which one is fixed by
    the chain's seed, so a run repeats exactly), and with ``standardise`` nutpie samples
    the parameters standardised by the previous posterior (see the module docstring)."""
    import pandas as pd
    from nutpie.compile_pymc import CompiledPyMCModel

    callbacks = compiled()
    mapped = warm is not None and standardise
    table, alive = _table(data, warm.affine() if warm is not None and standardise else None)
    shapes = {n: s for n, s in (sk.params | sk.kept).items() if np.prod(s) > 0}
    coords = {dim: pd.Index(labels) for dim, labels in sk.coords.items()}
    coords["unconstrained_parameter"] = pd.Index(sk.flat_labels())
    n_dim = sk.n_dim

    def initial_point(seed: Any) -> np.ndarray:
        if warm is None:
            return np.random.default_rng(seed).uniform(-1.0, 1.0, n_dim)
        k = int(np.random.default_rng(seed).integers(len(warm.starts)))
        return warm.to_sampled(warm.starts[k]) if mapped else warm.starts[k].copy()

    return CompiledPyMCModel(
        _n_dim=n_dim,
        dims={n: sk.dims(n) for n in shapes},
        _coords=coords,
        _shapes=shapes,
        compiled_logp_func=callbacks.logp_callback,
        compiled_expand_func=callbacks.expand_callback,
        initial_point_func=initial_point,
        shared_data={"arrays": alive, "table": table},  # kept alive
        user_data=table,
        n_expanded=sk.n_expanded,
        shape_info=(list(shapes), None, list(shapes.values())),
        logp_func=None,
        expand_func=None,
    )
