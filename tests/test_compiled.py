"""The model compiled once: the same density as the PyMC model of every claim set, a
cache that survives damage and concurrency, and a fit that compiles nothing."""

from __future__ import annotations

import datetime as dt
import math
import os
import warnings

import numpy as np
import pytest
from conftest import ROOT, SEED_CSV
from conftest import claim as _claim

import casualty_models as cm
from casualty_models import _compiled
from casualty_models._warm import Warm
from casualty_models.model import build_model, prepare
from casualty_models.model.data import LAYOUT, SCHEMA, check_data, model_data
from casualty_models.model.skeleton import skeleton

START = dt.date(2022, 2, 24)


def _running_tally():
    """A running tally (drifting bias, rises) and a one-off claim."""
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
    return prepare(cm.ClaimSet(claims), start=START, end=end, priors=cm.Priors())


def _from_file(path, start, end, **priors):
    claims = cm.read_claims(path)
    return prepare(claims, start=start, end=end, priors=cm.Priors(**priors))


CLAIM_SETS = {
    # point claims, an own and an enemy figure, shared groups
    "seed": lambda: _from_file(SEED_CSV, START, dt.date(2022, 3, 11)),
    # three late tallies over ten years: stretches no claim looks inside, capped biases
    "late tallies": lambda: _from_file(
        ROOT / "seeds/examples/syria_civilians_2011-2021.csv",
        dt.date(2011, 3, 15),
        dt.date(2021, 12, 31),
    ),
    # a floor, tallies, a central estimate with its interval, an own-side window
    "iraq": lambda: _from_file(
        ROOT / "seeds/examples/iraq_2003-2006.csv", dt.date(2003, 3, 20), dt.date(2006, 12, 31)
    ),
    "running tally": _running_tally,
}


@pytest.fixture(scope="module", params=list(CLAIM_SETS))
def claim_set(request):
    inputs = CLAIM_SETS[request.param]()
    data = model_data(inputs)
    sk = skeleton(inputs, data)
    model = build_model(inputs)
    x = np.random.default_rng(7).uniform(-1, 1, sk.n_dim)
    return inputs, data, sk, model, x


def _pymc_point(model, sk, x):
    point = sk.split(x)
    return {f"{n}": point[n] for n in sk.free}


def test_the_compiled_density_is_the_pymc_models_for_every_claim_set(claim_set):
    """One compiled function, the claim set's data as its input: the same log density
    (but for the normal priors' constant) and gradient as the PyMC model built for
    these claims alone."""
    _inputs, data, sk, model, x = claim_set
    code, logp, grad = _compiled.logp_and_grad(data, x)
    point = _pymc_point(model, sk, x)
    ref = float(model.compile_logp()(point))
    ref_grad = model.compile_dlogp()(point)
    assert code == 0
    # PyMC's standard normals carry -log(2 pi)/2 each; the compiled density leaves it out
    assert ref - logp == pytest.approx(-0.5 * math.log(2 * math.pi) * sk.n_dim, abs=1e-8)
    np.testing.assert_allclose(grad, ref_grad, rtol=1e-9, atol=1e-9)


def test_a_draw_expands_to_the_pymc_models_kept_quantities(claim_set):
    _inputs, data, sk, model, x = claim_set
    ours = _compiled.expand(data, sk, x)
    point = _pymc_point(model, sk, x)
    names = [v.name for v in model.deterministics]
    fn = model.compile_fn(model.deterministics, inputs=model.free_RVs, on_unused_input="ignore")
    theirs = dict(zip(names, fn(point), strict=True))
    assert names  # log_rate, bias, ... at least
    for name in names:
        np.testing.assert_allclose(ours[name], theirs[name], rtol=1e-10, atol=1e-10)
    for name in sk.free:
        np.testing.assert_array_equal(ours[name], sk.split(x)[name])


def test_a_point_with_no_density_returns_nutpies_code_not_a_number(claim_set):
    _inputs, data, _sk, _model, x = claim_set
    code, _, _ = _compiled.logp_and_grad(data, np.full_like(x, np.inf))
    assert code in (3, 4)


def test_a_warm_runs_affine_map_applies_to_the_density_its_gradient_and_the_draws(claim_set):
    """Warm, nutpie samples y with x = mean + sd * (I + U' diag(f) U) y: the density of y
    is the model's at x (a constant Jacobian left out), its gradient J' grad, and a draw
    of y expands to x's values."""
    _inputs, data, sk, _model, x = claim_set
    rng = np.random.default_rng(3)
    n = len(x)
    values = np.array([6.0, 0.1])
    vectors = np.linalg.qr(rng.standard_normal((n, 2)))[0].T
    var = rng.uniform(0.05, 2.0, n)
    warm = Warm(x[None], 0.1, rng.normal(size=n), var, None, values, vectors)
    y = warm.to_sampled(x)
    jac = np.diag(np.sqrt(var)) @ (np.eye(n) + vectors.T @ np.diag(np.sqrt(values) - 1) @ vectors)
    np.testing.assert_allclose(warm.mean + jac @ y, x, atol=1e-12)
    code, logp, grad = _compiled.logp_and_grad(data, x)
    code_y, logp_y, grad_y = _compiled.logp_and_grad(data, y, warm.affine())
    assert code == code_y == 0
    assert logp_y == pytest.approx(logp, rel=1e-12, abs=1e-9)
    np.testing.assert_allclose(grad_y, jac.T @ grad, rtol=1e-9, atol=1e-9)
    ours, plain = _compiled.expand(data, sk, y, warm.affine()), _compiled.expand(data, sk, x)
    for name in plain:
        np.testing.assert_allclose(ours[name], plain[name], rtol=1e-10, atol=1e-10)


def test_every_index_in_the_layout_points_into_a_dimension_an_array_has():
    """An index target that neither an array's dimensions nor ``sizes`` give a length:
    check_data would refuse every claim set with such an index."""
    from casualty_models.model.data import _SIZED

    dims = {d for _, shape, _ in LAYOUT.values() for d in shape} | set(_SIZED)
    targets = {t.partition("+")[0] for _, _, t in LAYOUT.values() if t is not None}
    assert targets <= dims, targets - dims
    assert {kind for kind, _, _ in LAYOUT.values()} == {"f", "i"}
    assert [name for name, _, _ in SCHEMA] == list(LAYOUT)  # the packed order


def test_every_claim_sets_data_agree_with_the_layout(claim_set):
    _inputs, data, _sk, _model, _x = claim_set
    check_data(data)  # raises on a fault


def test_data_whose_lengths_or_indices_disagree_are_refused_before_the_compiled_model_runs(
    claim_set,
):
    """The compiled model checks neither lengths nor indices (it would on every gradient):
    an inconsistent array must be caught once, naming every array at fault."""
    _inputs, data, _sk, _model, x = claim_set
    bad = dict(data)
    bad["claim_speaker"] = data["claim_speaker"] + len(data["bias_mu"])
    bad["point_scale"] = np.append(data["point_scale"], 1.0)
    with pytest.raises(AssertionError) as err:
        _compiled.logp_and_grad(bad, x)
    assert "claim_speaker: indices" in str(err.value)
    assert "outside speaker" in str(err.value)
    assert f"point_scale: point has length {len(data['point_y']) + 1}" in str(err.value)


def test_a_damaged_cache_entry_is_removed_and_compiled_again(tmp_path, monkeypatch):
    """A truncated or foreign file under the model's key never fails a fit: it is
    removed, and the model compiled afresh (here the compilation is stubbed)."""
    import pytensor.link.numba.cache as numba_cache

    monkeypatch.setattr(numba_cache, "NUMBA_CACHE_PATH", tmp_path)
    monkeypatch.setattr(_compiled, "cache_key", lambda: "testkey")
    monkeypatch.setattr(_compiled, "_COMPILED", {})
    damaged = []
    for kind in ("logp", "expand"):
        stem = f"string.{kind}_callback-casualty_models_{kind}_callback_testkey.py311"
        for suffix in (".nbi", ".1.nbc"):
            (tmp_path / f"{stem}{suffix}").write_bytes(b"\x80\x04truncated")
            damaged.append(tmp_path / f"{stem}{suffix}")
    built = _compiled.Compiled("logp", "expand")
    monkeypatch.setattr(_compiled, "_build", lambda: built)
    assert _compiled.compiled() is built
    assert not any(f.exists() for f in damaged[:2])  # the logp entry, read first
    assert (tmp_path / "casualty_models_testkey.lock").exists()


def test_the_cache_keeps_the_latest_two_versions_of_the_model_only(tmp_path):
    def files(kind, key, age):
        stem = f"string.{kind}_callback-casualty_models_{kind}_callback_{key}.py311"
        for f in (tmp_path / f"{stem}.nbi", tmp_path / f"{stem}.1.nbc"):
            f.write_bytes(b"x")
            os.utime(f, (1e9 + age, 1e9 + age))

    for age in range(4):  # four versions, oldest first
        files("logp", f"k{age}", age)
        files("expand", f"k{age}", age)
    theirs = tmp_path / "string.numba_funcified_fgraph-abc_fastmath0.py311.nbi"
    theirs.write_bytes(b"x")
    assert sorted(_compiled.prune_cache(tmp_path, keep=2)) == ["k0", "k1"]
    left = {f.name.split("_callback_")[-1].split(".")[0] for f in tmp_path.glob("*cas*")}
    assert left == {"k2", "k3"} and theirs.exists()
    assert _compiled.prune_cache(tmp_path, keep=2) == []


def test_the_cache_key_names_the_model_not_the_claims():
    """Every claim set shares one key: it changes with the graph's source and the
    compilers' versions, never with data."""
    key = _compiled.cache_key()
    assert len(key) == 32 and int(key, 16) >= 0
    assert _compiled.cache_key() == key


def test_pytensor_is_configured_without_fast_math_unless_the_user_says_otherwise(tmp_path):
    """Fast-math code reordered sums differently when freshly compiled and when loaded
    from the cache, so one seed gave two answers; a user's own setting still wins."""
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


def _headline_median(est):
    return float(est.headline()["median"].iloc[0])


@pytest.mark.mcmc
def test_eight_processes_fit_eight_claim_sets_at_once_without_a_failure(seed_claims):
    """Eight worker processes, each a different claim set (a new shape each), all at
    once on the one cache: every fit finishes, and each gives what it gives alone."""
    import dataclasses

    from casualty_models._parallel import refit_many

    sets = [
        seed_claims.add(
            cm.ClaimSet(
                [
                    dataclasses.replace(seed_claims[0], source=f"Outlet {j}", value=3000 + 100 * k)
                    for j in range(k)
                ]
            )
        )
        if k
        else seed_claims
        for k in range(8)
    ]
    kwargs = [dict(random_seed=k, draws=200, tune=200, max_attempts=1) for k in range(8)]
    medians = refit_many(sets, kwargs, _headline_median, workers=8)
    assert len(medians) == 8 and all(np.isfinite(medians))
    with warnings.catch_warnings():  # 200 draws: a short ESS is expected, and no matter
        warnings.simplefilter("ignore", cm.ConvergenceWarning)
        alone = cm.fit(sets[3], cores=1, **kwargs[3])
    assert medians[3] == _headline_median(alone)  # the same numbers in a worker


def test_a_continued_run_starts_at_a_last_draw_and_a_warm_start_from_another_fit_is_mapped(
    claim_set,
):
    """Continued chains (standardise=False) start at a previous chain's last draw, under
    the identity; a warm start from another fit starts at the same draw seen through the
    standardising map, and its density there is the model's at that draw."""
    _inputs, data, sk, _model, x = claim_set
    n = len(x)
    warm = Warm(np.stack([x, x / 2]), 0.1, np.full(n, 0.3), np.full(n, 2.0), None, *_no_dirs(n))
    plain = _compiled.nutpie_model(data, sk, warm, standardise=False).initial_point_func(5)
    mapped = _compiled.nutpie_model(data, sk, warm).initial_point_func(5)
    assert any(np.array_equal(plain, s) for s in warm.starts)
    np.testing.assert_allclose(warm.mean + np.sqrt(warm.var) * mapped, plain)
    code, logp, _ = _compiled.logp_and_grad(data, plain)
    code_y, logp_y, _ = _compiled.logp_and_grad(data, mapped, warm.affine())
    assert code == code_y == 0 and logp_y == pytest.approx(logp, rel=1e-12)


def _no_dirs(n):
    return np.zeros(0), np.zeros((0, n))
