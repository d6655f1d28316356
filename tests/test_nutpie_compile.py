"""nutpie's compiled model: the same log density as nutpie's own, and cached callbacks."""

from __future__ import annotations

import ctypes
import datetime as dt

import numpy as np
import pytest
from conftest import claim as _claim

import casualty_models as cm
from casualty_models.model import build_model, prepare

START = dt.date(2022, 2, 24)


def _model():
    """A running tally (its rises hold the arrays of tallies.py) and a one-off claim."""
    claims = [
        _claim(
            source="D",
            source_type="enemy",
            value=100.0 * (d + 1) + 7 * (d % 3),
            as_of=START + dt.timedelta(days=d),
            period_start=START,
        )
        for d in range(30)
    ]
    claims.append(_claim(source="N", value=900, period_start=START))
    end = START + dt.timedelta(days=40)
    inputs = prepare(cm.ClaimSet(claims), start=START, end=end, priors=cm.Priors())
    return build_model(inputs)


def test_every_constant_of_the_graph_is_contiguous():
    """numba cannot cache compiled code holding a strided array constant (it embeds its
    address): one strided column made every fit with running tallies recompile."""
    from pytensor.graph.traversal import ancestors
    from pytensor.tensor.variable import TensorConstant

    model = _model()
    constants = [v for v in ancestors([model.logp()]) if isinstance(v, TensorConstant)]
    assert constants
    strided = [c.data.shape for c in constants if not c.data.flags.c_contiguous]
    assert strided == []


def _logp_and_grad(compiled, x):
    fn = ctypes.CFUNCTYPE(
        ctypes.c_int64,
        ctypes.c_uint64,
        *[ctypes.POINTER(ctypes.c_double)] * 3,
        ctypes.c_void_p,
    )(compiled.compiled_logp_func.address)
    grad, logp = np.zeros(compiled.n_dim), np.zeros(())
    ptr = ctypes.POINTER(ctypes.c_double)
    code = fn(
        compiled.n_dim,
        x.ctypes.data_as(ptr),
        grad.ctypes.data_as(ptr),
        logp.ctypes.data_as(ptr),
        compiled.user_data.ctypes.data,
    )
    return code, float(logp), grad


@pytest.mark.mcmc
def test_compiled_model_matches_nutpie_and_loads_from_the_cache_the_second_time():
    import nutpie

    from casualty_models._nutpie_compile import compile_model

    model = _model()
    first = compile_model(model)
    again = compile_model(_model())  # a new model of the same claims
    # the second compilation of the same graph is read from numba's cache
    assert again.compiled_logp_func.cache_hits == 1
    assert again.compiled_expand_func.cache_hits == 1
    reference = nutpie.compile_pymc_model(model)
    x = first.initial_point_func(5)
    code, logp, grad = _logp_and_grad(first, x)
    ref_code, ref_logp, ref_grad = _logp_and_grad(reference, x)
    assert code == ref_code == 0
    assert logp == pytest.approx(ref_logp, rel=1e-12)
    np.testing.assert_allclose(grad, ref_grad, rtol=1e-10)
    assert _logp_and_grad(again, x)[1] == logp
    # a point outside the support gives nutpie's code for a non-finite density
    bad = x.copy()
    bad[:] = np.inf
    assert _logp_and_grad(first, bad)[0] == _logp_and_grad(reference, bad)[0] != 0


def test_pytensor_is_configured_without_fast_math_unless_the_user_says_otherwise(tmp_path):
    """Fast-math code reordered sums differently when freshly compiled and when loaded
    from the cache, so one seed gave two answers; a user's own setting still wins."""
    import os
    import subprocess
    import sys

    script = (
        "from casualty_models._backend import configure_pytensor\n"
        "configure_pytensor()\n"
        "import pytensor\n"
        "print(pytensor.config.numba__fastmath, repr(pytensor.config.blas__ldflags))"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("PYTENSOR_FLAGS", "PYTENSORRC")}
    env["HOME"] = str(tmp_path)  # no ~/.pytensorrc
    env["PYTENSOR_FLAGS"] = f"base_compiledir={tmp_path}"
    ours = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True)
    assert ours.stdout.split() == ["False", "''"], ours.stderr
    env["PYTENSOR_FLAGS"] += ",numba__fastmath=True"
    theirs = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True)
    assert theirs.stdout.split()[0] == "True", theirs.stderr


def test_the_cache_keeps_the_callbacks_of_the_latest_claim_sets_only(tmp_path):
    import os

    from casualty_models._nutpie_compile import prune_cache

    def files(kind, key, age):
        stem = f"string.{kind}_callback-casualty_models_{kind}_callback_{key}.py311"
        made = [tmp_path / f"{stem}.nbi", tmp_path / f"{stem}.1.nbc"]
        for f in made:
            f.write_bytes(b"x")
            os.utime(f, (1e9 + age, 1e9 + age))
        return made

    for age in range(5):  # five claim sets, oldest first
        files("logp", f"l{age}", age)
        files("expand", f"e{age}", age)
    theirs = tmp_path / "string.numba_funcified_fgraph-abc_fastmath0.py311.nbi"
    theirs.write_bytes(b"x")
    removed = prune_cache(tmp_path, keep=3)
    assert sorted(removed) == ["e0", "e1", "l0", "l1"]
    left = sorted(f.name.split("_callback_")[-1].split(".")[0] for f in tmp_path.glob("*cas*"))
    assert left == sorted(2 * ["e2", "e3", "e4", "l2", "l3", "l4"])
    assert theirs.exists()
    assert prune_cache(tmp_path, keep=3) == []
