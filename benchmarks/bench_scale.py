"""Scale benchmark: how fit time and sampler behaviour grow with days and claims.

Fits nine synthetic claim sets, 30/365/1500 days × 50/500/5000 claims, each generated
with a fixed seed by the library's own simulator (``validation.simulate``), with
``casualty_models.fit(claims, start=..., random_seed=1)`` at its default settings
(2 chains × 1,500 draws after 1,000 tuning steps). Each configuration runs in a fresh
subprocess with a time limit, so one slow or failing fit cannot take down the others.

Per configuration it records the fit's wall time, the number of free parameters, the
convergence diagnostics (divergences, max R-hat, min bulk/tail ESS), the mean tree depth
and leapfrog steps per draw, the final step size and the time of one gradient
evaluation. Each finished configuration is appended to
``docs/validation/scale_raw.jsonl`` at once, so a stopped run keeps what it measured and a
rerun skips what is there; ``docs/scale.md`` is re-rendered after every configuration.

    make bench-scale                                   # all nine; hours on 2 cores
    make bench-scale ARGS="--only 30x50,30x500"        # a subset (any options below)
    .venv/bin/python benchmarks/bench_scale.py --only 365x500,1500x500
    .venv/bin/python benchmarks/bench_scale.py --render-only     # re-render the doc
    .venv/bin/python benchmarks/bench_scale.py --only 30x50 --draws 30 --tune 30 \\
        --out-dir /tmp/scale-smoke                     # smoke test; leaves docs/ alone

Options: ``--only DAYSxCLAIMS[,...]`` a subset, ``--rerun`` re-measure configurations
already recorded, ``--timeout`` seconds per configuration (default 1800; a fit that
overruns is recorded as "timed out"), ``--draws``/``--tune`` smaller runs for testing
(recorded, and rendered with a warning that they are not the benchmark).
"""

from __future__ import annotations

import argparse
import datetime as dt
import functools
import importlib.metadata
import json
import math
import os
import platform
import signal
import subprocess
import sys
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from casualty_models._atomic import atomic_write
from casualty_models.claims import Claim, ClaimSet
from casualty_models.model import prepare
from casualty_models.model.priors import Priors
from validation.simulate import SimSpeaker, prior_bias_factor, simulate_claims

ROOT = Path(__file__).resolve().parents[1]
DAYS = (30, 365, 1500)
CLAIMS = (50, 500, 5000)
START = dt.date(2020, 1, 1)
DATA_SEED = 20240101  # with (days, claims): each set is fixed, and independent of the others
FIT_SEED = 1
CHAINS = 2  # fit()'s default; runs on 2 cores
DEFAULT_DRAWS, DEFAULT_TUNE = 1500, 1000  # fit()'s defaults
DEFAULT_TIMEOUT = 1800.0
GRAD_CALLS = 100
WARMUP_DRAWS = 10

# --- composition of a synthetic set (see design() and docs/scale.md)
SIDES = ("A", "B")
ONE_OFF_TYPES = ("own", "enemy", "neutral", "tally", "independent")
ONE_OFF_CLAIMS = 5  # claims per one-off speaker, kinds cycling as below
ONE_OFF_KINDS = {
    "own": ("point", "point", "range", "point", "floor"),
    "enemy": ("point", "range", "point", "point", "ceiling"),
    "neutral": ("range", "point", "range", "point", "point"),
    "tally": ("floor", "point", "floor", "point", "floor"),
    "independent": ("range", "point", "range", "range", "point"),
}
TALLY_SHARE = 0.6  # of the claims, in running tallies (sets of >= TALLY_MIN_SET claims)
TALLY_MIN_SET = 500
TALLY_ORDER = (  # (source_type, side about which it reports), cycled
    ("enemy", "B"),
    ("enemy", "A"),
    ("tally", "A"),
    ("tally", "B"),
    ("own", "A"),
    ("own", "B"),
    ("neutral", "A"),
    ("neutral", "B"),
)
TALLY_DRIFT = 0.01  # log units per sqrt(day): random-walk drift of a tally's bias
TALLY_NOISE = 0.05  # marginal sd of a tally's AR(1) error (the model's running_noise)
TALLY_MEMORY = 60.0  # days: AR(1) correlation exp(-gap / memory) (the model's default)


# ------------------------------------------------------------------ synthetic claims


@dataclass(frozen=True)
class Design:
    """How a set of ``claims`` claims over ``days`` days is made up."""

    days: int
    claims: int
    one_off_speakers: int
    one_off_claims: int
    tallies: int
    claims_per_tally: int
    tally_step: int  # days between consecutive figures of a tally

    @property
    def key(self) -> str:
        return f"{self.days}x{self.claims}"


def design(days: int, claims: int) -> Design:
    """The fixed composition rule.

    Sets of ``TALLY_MIN_SET`` claims or more put about ``TALLY_SHARE`` of them in running
    tallies, daily where the budget allows (one per ``days`` claims), else one tally
    reporting every few days; the rest, and every claim of a smaller set, come from
    one-off speakers with ``ONE_OFF_CLAIMS`` claims each, cycling over source types and
    sides.
    """
    n_tallies = per_tally = step = 0
    if claims >= TALLY_MIN_SET:
        budget = TALLY_SHARE * claims
        n_tallies = max(1, round(budget / days))
        per_tally = min(days, int(budget // n_tallies))
        step = max(1, (days - 1) // (per_tally - 1))
    one_off = claims - n_tallies * per_tally
    return Design(
        days=days,
        claims=claims,
        one_off_speakers=math.ceil(one_off / ONE_OFF_CLAIMS),
        one_off_claims=one_off,
        tallies=n_tallies,
        claims_per_tally=per_tally,
        tally_step=step,
    )


def daily_rates(days: int) -> dict[str, np.ndarray]:
    """True deaths per day: a few hundred, with a slow yearly wave, out of phase by side."""
    t = np.arange(days)
    return {
        "A": 300.0 * (1 + 0.4 * np.sin(2 * np.pi * t / 365)),
        "B": 200.0 * (1 + 0.4 * np.sin(2 * np.pi * t / 365 + 1.5)),
    }


def make_claims(d: Design) -> ClaimSet:
    """The synthetic claim set of design ``d``; the same every time."""
    rng = np.random.default_rng([DATA_SEED, d.days, d.claims])
    speakers = []
    left = d.one_off_claims
    for k in range(d.one_off_speakers):
        source_type = ONE_OFF_TYPES[k % len(ONE_OFF_TYPES)]
        side = SIDES[(k // len(ONE_OFF_TYPES)) % len(SIDES)]
        n = min(ONE_OFF_CLAIMS, left)
        left -= n
        days = sorted(int(x) for x in rng.choice(np.arange(1, d.days - 1), n, replace=False))
        if k == 0:
            days[-1] = d.days - 1  # some claim on the last day: the grid spans all days
        speakers.append(
            SimSpeaker(
                source=f"{source_type}-{side}-{k:03d}",
                side=side,
                source_type=source_type,
                bias_factor=prior_bias_factor(source_type, rng),
                days=days,
                kinds=ONE_OFF_KINDS[source_type],
            )
        )
    sim = simulate_claims(speakers, daily_rate=daily_rates(d.days), start=START, rng=rng)
    claims = list(sim.claims)
    tally_days = d.days - 1 - d.tally_step * np.arange(d.claims_per_tally)[::-1]
    for r in range(d.tallies):
        source_type, side = TALLY_ORDER[r % len(TALLY_ORDER)]
        truth = sim.cumulative[(side, "killed")]
        claims += running_tally(
            f"daily-{source_type}-{side}-{r:03d}", source_type, side, tally_days, truth, rng
        )
    return ClaimSet(claims, origin=f"<synthetic {d.key}>")


def running_tally(
    source: str,
    source_type: str,
    side: str,
    days: np.ndarray,
    truth: np.ndarray,
    rng: np.random.Generator,
) -> list[Claim]:
    """A running tally's point figures on ``days``: truth × bias × drift × AR(1) error.

    ``simulate_claims`` draws independent errors around a fixed bias; a running tally's
    errors persist and its bias drifts, which is what the model assumes of it. Its
    figures are made non-decreasing, as a published cumulative tally is.
    """
    log_bias = math.log(prior_bias_factor(source_type, rng))
    drift = np.cumsum(rng.normal(0.0, TALLY_DRIFT, len(truth)))
    error, previous, peak = rng.normal(0.0, TALLY_NOISE), int(days[0]), 1.0
    out = []
    for day in (int(x) for x in days):
        rho = math.exp(-(day - previous) / TALLY_MEMORY)
        error = rho * error + math.sqrt(1 - rho**2) * TALLY_NOISE * rng.normal()
        previous = day
        figure = round(float(truth[day]) * math.exp(log_bias + drift[day] + error))
        peak = max(peak, float(figure))
        out.append(
            Claim(
                source=source,
                source_type=source_type,
                side=side,
                category="killed",
                as_of=START + dt.timedelta(days=day),
                period_start=START,
                citation="simulated running tally",
                value=peak,
            )
        )
    return out


@functools.cache
def composition(d: Design) -> dict[str, Any]:
    """What the model sees in design ``d``'s set (built here, so the table is checked)."""
    claims = make_claims(d)
    end = max(c.as_of for c in claims)
    inputs = prepare(claims, start=START, end=end, priors=Priors())
    kinds: dict[str, int] = {}
    for c in claims:
        if not c.citation.endswith("running tally"):
            kinds[c.kind] = kinds.get(c.kind, 0) + 1
    assert len(claims) == d.claims and inputs.grid.n_days == d.days
    assert len(inputs.running) == d.tallies, (d, inputs.running)
    return {
        "speakers": len(claims.speakers),
        "running": len(inputs.running),
        "knots": len(inputs.grid.knots),
        "knot_days": inputs.grid.knot_days,
        "kinds": kinds,
        "fingerprint": claims.fingerprint,
    }


# ------------------------------------------------------------------ one configuration


def worker(days: int, n_claims: int, draws: int, tune: int) -> dict[str, Any]:
    """Measure one configuration in this process; returns the record to print."""
    import casualty_models as cm
    from casualty_models._backend import pymc
    from casualty_models.model import build_model

    pymc()
    warnings.simplefilter("ignore")  # convergence is recorded, not warned about
    claims = make_claims(design(days, n_claims))
    end = max(c.as_of for c in claims)
    model = build_model(prepare(claims, start=START, end=end, priors=Priors()))
    point = model.initial_point()
    n_params = int(sum(np.size(v) for v in point.values()))

    t = time.perf_counter()
    dlogp = model.compile_dlogp()
    compile_s = time.perf_counter() - t
    dlogp(point)
    t = time.perf_counter()
    for _ in range(GRAD_CALLS):
        dlogp(point)
    grad_s = (time.perf_counter() - t) / GRAD_CALLS

    # a tiny one-chain fit first, so the timed fit finds PyTensor's C code on disk (as
    # every fit after the first on a machine does) but still builds and compiles its graph
    t = time.perf_counter()
    cm.fit(
        claims, start=START, random_seed=FIT_SEED, draws=WARMUP_DRAWS, tune=WARMUP_DRAWS, chains=1
    )
    warmup_s = time.perf_counter() - t

    load_before = os.getloadavg()[0]
    t = time.perf_counter()
    est = cm.fit(claims, start=START, random_seed=FIT_SEED, draws=draws, tune=tune)
    fit_s = time.perf_counter() - t
    load_after = os.getloadavg()[0]

    diag = est.diagnostics
    stats = est.idata.sample_stats
    sampling_s = stats.attrs.get("sampling_time")
    return {
        "status": "ok",
        "fingerprint": claims.fingerprint,
        "n_params": n_params,
        "sampler": stats.attrs.get("sampler"),
        "fit_s": fit_s,
        "sampling_s": None if sampling_s is None else float(sampling_s),
        "warmup_fit_s": warmup_s,
        "compile_dlogp_s": compile_s,
        "grad_s": grad_s,
        "divergences": diag.divergences,
        "r_hat_max": diag.r_hat_max,
        "r_hat_worst": diag.worst,
        "ess_bulk_min": diag.ess_bulk_min,
        "ess_tail_min": diag.ess_tail_min,
        "tree_depth_hits": diag.tree_depth_hits,
        "tree_depth_mean": float(np.mean(stats["tree_depth"])),
        "n_steps_mean": float(np.mean(stats["n_steps"])),
        "step_size_final": [float(x) for x in np.asarray(stats["step_size"])[:, -1]],
        "load_before": load_before,
        "load_after": load_after,
    }


def run_config(days: int, n_claims: int, args: argparse.Namespace) -> dict[str, Any]:
    """Run one configuration in a fresh subprocess (own session, killed on timeout)."""
    cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", f"{days}x{n_claims}"]
    cmd += ["--draws", str(args.draws), "--tune", str(args.tune)]
    record: dict[str, Any] = {
        "days": days,
        "claims": n_claims,
        "draws": args.draws,
        "tune": args.tune,
        "chains": CHAINS,
        "timeout_s": args.timeout,
        "started": now(),
    }
    t = time.perf_counter()
    proc = subprocess.Popen(
        cmd,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its sampler processes share its group: killed together
    )
    try:
        out, err = proc.communicate(timeout=args.timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        record.update(status="timed out", subprocess_s=time.perf_counter() - t)
        return record
    except BaseException:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        raise
    record["subprocess_s"] = time.perf_counter() - t
    lines = out.strip().splitlines()
    if proc.returncode != 0 or not lines:
        tail = (err.strip().splitlines() or ["(no output)"])[-5:]
        record.update(status="failed", returncode=proc.returncode, error="\n".join(tail))
        return record
    try:
        record.update(json.loads(lines[-1]))
    except json.JSONDecodeError:
        record.update(status="failed", returncode=0, error=f"no result line: {lines[-1][:300]}")
    return record


# ------------------------------------------------------------------ records and machine


def now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def machine_info() -> dict[str, Any]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:
        cores = os.cpu_count() or 0

    def git(*a: str) -> str:
        try:
            done = subprocess.run(["git", *a], cwd=ROOT, capture_output=True, text=True)
        except OSError:
            return ""
        return done.stdout if done.returncode == 0 else ""

    changed = git("status", "--porcelain", "--", "casualty_models")
    return {
        "cores": cores,
        "cpu": cpu,
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        **{pkg: importlib.metadata.version(pkg) for pkg in ("numpy", "pymc", "pytensor", "arviz")},
        "commit": git("rev-parse", "--short", "HEAD").strip() or "unknown",
        "library_changes": [line[3:] for line in changed.splitlines()],
    }


def read_records(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    records = []
    for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if line.strip():
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError:
                log(f"{path}: line {i} is not JSON; ignored")
    return records


def append_record(path: Path, record: dict[str, Any]) -> None:
    """Append one line; the file is replaced atomically, never left half-written."""
    old = path.read_text(encoding="utf-8") if path.exists() else ""
    if old and not old.endswith("\n"):
        old += "\n"
    atomic_write(path, old + json.dumps(record, sort_keys=True) + "\n")


def settings_key(r: dict[str, Any]) -> tuple[int, int, int]:
    return (r["draws"], r["tune"], r["chains"])


def latest(records: list[dict[str, Any]], settings: tuple[int, int, int]) -> dict[str, dict]:
    """The last record of each configuration run with ``settings``."""
    out: dict[str, dict] = {}
    for r in records:
        if settings_key(r) == settings:
            out[f"{r['days']}x{r['claims']}"] = r
    return out


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


# ------------------------------------------------------------------ growth


def slope(xs: list[float], ys: list[float]) -> float | None:
    """Least-squares slope of log y on log x; None with fewer than two points."""
    if len(xs) < 2 or len(set(xs)) < 2:
        return None
    return float(np.polyfit(np.log(xs), np.log(ys), 1)[0])


def joint(points: list[tuple[int, int, float]]) -> tuple[float, float] | None:
    """(a, b) in y ≈ c · claims^a · days^b, least squares on logs; None if not identified."""
    if len(points) < 3:
        return None
    x = np.array([[1.0, math.log(n), math.log(d)] for d, n, _ in points])
    if np.linalg.matrix_rank(x) < 3:
        return None
    coef = np.linalg.lstsq(x, np.log([y for *_, y in points]), rcond=None)[0]
    return float(coef[1]), float(coef[2])


GROWTH = (  # (record field, label)
    ("fit_s", "fit wall time"),
    ("sampling_s", "sampling time (tuning + draws)"),
    ("grad_s", "time per gradient evaluation"),
    ("n_steps_mean", "leapfrog steps per draw"),
    ("n_params", "free parameters"),
)


def growth(ok: dict[str, dict], field: str) -> dict[str, Any]:
    def value(d: int, n: int) -> float | None:
        r = ok.get(f"{d}x{n}")
        return None if r is None or r.get(field) is None else float(r[field])

    by_days = {}
    for d in DAYS:
        pts = [(n, v) for n in CLAIMS if (v := value(d, n)) is not None]
        by_days[d] = slope([p[0] for p in pts], [p[1] for p in pts])
    by_claims = {}
    for n in CLAIMS:
        pts = [(d, v) for d in DAYS if (v := value(d, n)) is not None]
        by_claims[n] = slope([p[0] for p in pts], [p[1] for p in pts])
    pts3 = [(d, n, v) for d in DAYS for n in CLAIMS if (v := value(d, n)) is not None]
    return {"vs_claims": by_days, "vs_days": by_claims, "joint": joint(pts3)}


# ------------------------------------------------------------------ the document


def fmt(x: Any, spec: str = ".2f") -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "—"
    return format(x, spec)


def fmt_slope(x: float | None) -> str:
    return "—" if x is None else f"{x:.2f}"


def render(records: list[dict[str, Any]], settings: tuple[int, int, int], jsonl: str) -> str:
    draws, tune, chains = settings
    rows = latest(records, settings)
    ok = {k: r for k, r in rows.items() if r.get("status") == "ok"}
    smoke = (draws, tune) != (DEFAULT_DRAWS, DEFAULT_TUNE)
    lines = [
        "# Scale: how the fit's cost grows with days and claims",
        "",
        "Generated by `make bench-scale` (`benchmarks/bench_scale.py`); raw results, one "
        f"JSON line per configuration, in `{jsonl}`. Each of nine synthetic claim sets "
        "(30, 365 and 1,500 days × 50, 500 and 5,000 claims) is fitted with "
        f"`casualty_models.fit(claims, start=..., random_seed={FIT_SEED})`: "
        f"{chains} chains × {draws:,} draws after {tune:,} tuning steps, on 2 cores, in a "
        "fresh process per configuration.",
        "",
    ]
    if smoke:
        lines += [
            f"> **Smoke-test settings ({draws} draws, {tune} tuning steps), not the "
            "benchmark.** These numbers only show that the script runs; the benchmark uses "
            "`fit()`'s defaults (1,000 + 1,000).",
            "",
        ]
    lines += machine_section(list(rows.values()))
    lines += composition_section(ok)
    if not rows:
        lines += [
            "## Results",
            "",
            "**Not generated yet.** No configuration has been measured at these settings, "
            "so there are no timings on this page. Run `make bench-scale`: each "
            "configuration may take up to the 30-minute default limit (`--timeout`), so "
            "the full run can take hours on 2 cores; each configuration is appended to the "
            "raw file as it finishes and this page is re-rendered, so the run can be "
            "stopped and resumed.",
            "",
        ]
        return "\n".join(lines)
    lines += results_section(rows)
    lines += growth_section(ok, rows, settings)
    return "\n".join(lines)


def machine_section(rows: list[dict[str, Any]]) -> list[str]:
    if not rows:
        return []
    seen: dict[str, list[str]] = {}
    for r in rows:
        m = r.get("machine", {})
        changes = m.get("library_changes") or []
        dirty = f" with uncommitted changes to {', '.join(changes)}" if changes else ""
        text = (
            f"{m.get('cores', '?')} usable cores, {m.get('cpu', '?')}, {m.get('os', '?')}; "
            f"Python {m.get('python', '?')}, NumPy {m.get('numpy', '?')}, "
            f"PyMC {m.get('pymc', '?')}, PyTensor {m.get('pytensor', '?')}, "
            f"ArviZ {m.get('arviz', '?')}; commit {m.get('commit', '?')}{dirty}"
        )
        seen.setdefault(text, []).append(f"{r['days']}x{r['claims']}")
    out = ["## Machine", ""]
    for text, keys in seen.items():
        which = "" if len(seen) == 1 else f" ({', '.join(keys)})"
        out.append(f"* {text}{which}.")
    out += [
        "",
        "Other work on the machine inflates every time; the results table gives the "
        "1-minute load average before and after each timed fit (a lagging average; the "
        "fit's own two chains alone bring it towards 2).",
        "",
    ]
    return out


def composition_section(ok: dict[str, dict]) -> list[str]:
    out = [
        "## The synthetic claim sets",
        "",
        "Made by `make_claims()` with a fixed seed per configuration: the same claims on "
        "every run (the raw file records each set's fingerprint). Two sides, A and B, "
        "whose true deaths per day are smooth (300 and 200 a day, each with a ±40% wave "
        "of period one year, out of phase); every claim is a cumulative count of killed "
        "since the first day.",
        "",
        f"* **One-off speakers**, {ONE_OFF_CLAIMS} claims each on random distinct days, "
        "cycling over the five source types (own, enemy, neutral, tally, independent) "
        "and the two sides, with a bias factor drawn from the type's default prior and "
        "the type's noise (`simulate_claims`). Their kinds cycle per type: own "
        "point/point/range/point/floor; enemy point/range/point/point/ceiling; neutral "
        "range/point/range/point/point; tally floor/point/floor/point/floor; independent "
        "range/point/range/range/point.",
        f"* **Running tallies**, in sets of {TALLY_MIN_SET:,} claims or more: about "
        f"{TALLY_SHARE:.0%} of the claims, as daily point series (one tally per "
        "`days` claims of that budget), or one tally reporting every few days when the "
        "budget is less than a daily series. They cycle over "
        "`enemy`/`tally`/`own`/`neutral` speakers about either side. The simulator "
        "draws independent errors around a fixed bias, so tallies are drawn here as the "
        "model assumes them: truth × prior bias factor × a bias drift (Gaussian random "
        f"walk, {TALLY_DRIFT} log units per √day) × an AR(1) error (sd {TALLY_NOISE}, "
        f"correlation exp(−gap/{TALLY_MEMORY:g} days)), kept non-decreasing as a "
        "published tally is. Each has ≥ 20 point claims, so the model treats it as a "
        "running tally (drifting bias, AR(1) errors).",
        "",
        "| days × claims | speakers | one-off speakers (claims: point / range / floor "
        "/ ceiling) | running tallies × claims each | knots per curve | free parameters |",
        "|---|---:|---|---|---:|---:|",
    ]
    for days in DAYS:
        for n in CLAIMS:
            d = design(days, n)
            c = composition(d)
            k = c["kinds"]
            kinds = " / ".join(f"{k.get(x, 0):,}" for x in ("point", "range", "floor", "ceiling"))
            if d.tallies:
                cadence = "daily" if d.tally_step == 1 else f"every {d.tally_step} days"
                if d.claims_per_tally < days and d.tally_step == 1:
                    cadence = f"daily, last {d.claims_per_tally} days"
                tallies = f"{d.tallies} × {d.claims_per_tally:,} ({cadence})"
            else:
                tallies = "none"
            params = ok.get(d.key, {}).get("n_params")
            out.append(
                f"| {days:,} × {n:,} | {c['speakers']} | {d.one_off_speakers} ({kinds}) | "
                f"{tallies} | {c['knots']} (every {c['knot_days']} d) | {fmt(params, ',')} |"
            )
    out += [
        "",
        "Free parameters are counted from the model (`model.initial_point()`), so they "
        "appear once a configuration has run: a level and a knot walk per side, one bias "
        "per speaker, a shared offset per source type and side, and a drift walk per "
        "running tally (one value per knot after its first claim).",
        "",
    ]
    return out


def results_section(rows: dict[str, dict]) -> list[str]:
    out = [
        "## Results",
        "",
        "Times in seconds unless marked. *fit* is the wall time of the `fit()` call "
        "(graph build and compile, sampling, diagnostics; imports and one-time C "
        "compilation excluded by a tiny warm-up fit in the same process); *sampling* is "
        "PyMC's own sampling time (tuning + draws, chains in parallel); *gradient* is one "
        f"call of `model.compile_dlogp()` at the initial point (mean of {GRAD_CALLS}); "
        "tree depth and leapfrog steps are means over all post-tuning draws; the step "
        "size is each chain's final one. *sampler* is the one `fit()` chose: PyMC with a "
        "dense mass matrix below 100 parameters, nutpie with a low-rank one above "
        "(sampling time is recorded for PyMC only).",
        "",
        "| days × claims | params | sampler | fit | sampling | gradient (ms) "
        "| tree depth | leapfrog steps | step size | divergences | max R-hat "
        "| min ESS bulk / tail | load before → after | status |",
        "|---|---:|---|---:|---:|---:|---:|---:|---|---:|---:|---|---|---|",
    ]
    for days in DAYS:
        for n in CLAIMS:
            r = rows.get(f"{days}x{n}")
            label = f"{days:,} × {n:,}"
            if r is None:
                out.append(f"| {label} |" + " |" * 12 + " not run |")
                continue
            if r.get("status") != "ok":
                status = r.get("status", "?")
                if status == "timed out":
                    status = f"timed out after {r['timeout_s']:g} s"
                out.append(f"| {label} |" + " |" * 12 + f" {status} |")
                continue
            steps = ", ".join(f"{x:.3g}" for x in r["step_size_final"])
            out.append(
                f"| {label} | {r['n_params']:,} | {r.get('sampler', '?')} | {r['fit_s']:.1f} "
                f"| {fmt(r.get('sampling_s'), '.1f')} | {1e3 * r['grad_s']:.3f} "
                f"| {r['tree_depth_mean']:.2f} | {r['n_steps_mean']:.1f} | {steps} "
                f"| {r['divergences']} | {r['r_hat_max']:.3f} "
                f"| {r['ess_bulk_min']:.0f} / {r['ess_tail_min']:.0f} "
                f"| {r['load_before']:.2f} → {r['load_after']:.2f} | ok |"
            )
    failed = [r for r in rows.values() if r.get("status") == "failed"]
    for r in failed:
        out += ["", f"{r['days']} × {r['claims']} failed:", "", "```", r.get("error", ""), "```"]
    out.append("")
    return out


def growth_section(
    ok: dict[str, dict], rows: dict[str, dict], settings: tuple[int, int, int]
) -> list[str]:
    draws, tune, _ = settings
    out = [
        "## How the cost grows",
        "",
        "Log-log slopes: a slope of 1 is linear growth, 2 quadratic. *vs claims* is the "
        "slope across 50 → 500 → 5,000 claims at fixed days, *vs days* across 30 → 365 "
        "→ 1,500 days at fixed claims, and the last column the least-squares fit of "
        "`claims^a · days^b` over every configuration that finished. With three points "
        "per slope these are rough, and the composition changes with size (running "
        "tallies only from 500 claims), so read them as orders of growth.",
        "",
    ]
    head = (
        ["quantity"]
        + [f"vs claims, {d:,} d" for d in DAYS]
        + [f"vs days, {n:,} c" for n in CLAIMS]
        + ["joint: a (claims), b (days)"]
    )
    out += ["| " + " | ".join(head) + " |", "|---|" + "---:|" * (len(head) - 1)]
    fitted = {}
    for field, label in GROWTH:
        g = growth(ok, field)
        fitted[field] = g
        jt = g["joint"]
        cells = (
            [label]
            + [fmt_slope(g["vs_claims"][d]) for d in DAYS]
            + [fmt_slope(g["vs_days"][n]) for n in CLAIMS]
            + ["—" if jt is None else f"{jt[0]:.2f}, {jt[1]:.2f}"]
        )
        out.append("| " + " | ".join(cells) + " |")
    out.append("")
    missing: dict[str, list[str]] = {}
    for d in DAYS:
        for n in CLAIMS:
            status = rows.get(f"{d}x{n}", {}).get("status", "not run")
            if status != "ok":
                missing.setdefault(status, []).append(f"{d}x{n}")
    wall = fitted["fit_s"]["joint"]
    if wall is None:
        out += [
            f"Too few configurations have finished to fit the joint growth ({len(ok)} of 9).",
            "",
        ]
    else:
        out += [
            f"**Fit time grows like claims^{wall[0]:.2f} · days^{wall[1]:.2f}** "
            f"(over the {len(ok)} configurations that finished).",
            "",
        ]
    if missing:
        which = "; ".join(f"{status}: {', '.join(keys)}" for status, keys in missing.items())
        out += [f"Not in the fits ({which}).", ""]
    if "timed out" in missing:
        out += [
            "A timed-out configuration is slower than its limit, so leaving it out "
            "probably makes the exponents above understate the growth.",
            "",
        ]
    out += where_time_goes(ok, fitted, draws + tune)
    return out


def span(xs: list[float], spec: str, unit: str = "") -> str:
    lo, hi = format(min(xs), spec), format(max(xs), spec)
    return f"{lo}{unit}" if lo == hi else f"{lo}{unit}–{hi}{unit}"


def where_time_goes(ok: dict[str, dict], fitted: dict[str, dict], steps: int) -> list[str]:
    """A plain reading of the numbers, generated from them (no hand-written claims)."""
    out = ["## Where the time goes", ""]
    if not ok:
        return [*out, "No configuration finished; nothing to read.", ""]
    timed = [r for r in ok.values() if r.get("sampling_s")]
    text = [
        "Sampling time is, per chain (the two chains run in parallel), (tuning + draws) "
        "× leapfrog steps per draw × the cost of one gradient, so its growth splits into "
        "the growth of the gradient's cost (more claims and days make a bigger graph) and "
        "that of the trajectories (a harder posterior needs deeper trees: 2^depth steps)."
    ]
    if timed:
        share = [steps * r["n_steps_mean"] * r["grad_s"] / r["sampling_s"] for r in timed]
        overhead = [r["fit_s"] - r["sampling_s"] for r in timed]
        text.append(
            f"That product accounts for {span(share, '.0%')} of the measured sampling time; "
            "the rest, not separated here, is the sampler's own per-step work, the log "
            "density evaluated with each gradient, and tuning's trajectories differing in "
            "length from the draws'."
        )
        text.append(
            f"Outside sampling, a fit spends {span(overhead, '.1f', ' s')} building and "
            "compiling the model, starting the chains' processes and computing diagnostics."
        )
    out += [" ".join(text), ""]
    grad = fitted["grad_s"]["joint"]
    depth = fitted["n_steps_mean"]["joint"]
    samp = fitted["sampling_s"]["joint"]
    if grad is not None and depth is not None and samp is not None:
        for i, axis in enumerate(("claims", "days")):
            bigger = "the gradient's cost" if grad[i] >= depth[i] else "longer trajectories"
            out.append(
                f"* Along {axis}: one gradient grows like {axis}^{grad[i]:.2f} and the "
                f"leapfrog steps per draw like {axis}^{depth[i]:.2f} (together "
                f"{grad[i] + depth[i]:.2f}; measured sampling time {axis}^{samp[i]:.2f}): "
                f"most of the growth is {bigger}."
            )
        out.append("")
    return out


# ------------------------------------------------------------------ main


def parse_only(values: list[str] | None) -> list[tuple[int, int]]:
    grid = [(d, n) for d in DAYS for n in CLAIMS]
    if not values:
        return grid
    wanted = []
    for item in ",".join(values).split(","):
        try:
            d, n = (int(x) for x in item.strip().lower().split("x"))
        except ValueError:
            raise SystemExit(f"--only: {item!r} is not DAYSxCLAIMS, e.g. 365x500") from None
        if (d, n) not in grid:
            raise SystemExit(
                f"--only: {item} is not one of {', '.join(f'{a}x{b}' for a, b in grid)}"
            )
        wanted.append((d, n))
    return wanted


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--only", action="append", help="DAYSxCLAIMS[,...]; default all nine")
    parser.add_argument("--rerun", action="store_true", help="re-measure recorded configs")
    parser.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT, help="s per config")
    parser.add_argument("--draws", type=int, default=DEFAULT_DRAWS, help="for smoke tests")
    parser.add_argument("--tune", type=int, default=DEFAULT_TUNE, help="for smoke tests")
    parser.add_argument(
        "--out-dir",
        type=Path,
        default=ROOT / "docs",
        help="writes OUT/scale.md and OUT/validation/scale_raw.jsonl (default docs/)",
    )
    parser.add_argument("--render-only", action="store_true", help="only re-render the doc")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.worker:
        days, n = (int(x) for x in args.worker.split("x"))
        print(json.dumps(worker(days, n, args.draws, args.tune)))
        return 0

    out_dir = args.out_dir.resolve()
    jsonl = out_dir / "validation" / "scale_raw.jsonl"
    doc = out_dir / "scale.md"
    shown = str(jsonl.relative_to(ROOT)) if jsonl.is_relative_to(ROOT) else str(jsonl)
    settings = (args.draws, args.tune, CHAINS)

    def write_doc() -> None:
        atomic_write(doc, render(read_records(jsonl), settings, shown))
        log(f"wrote {doc}")

    if not args.render_only:
        machine = machine_info()
        for days, n in parse_only(args.only):
            done = latest(read_records(jsonl), settings)
            if f"{days}x{n}" in done and not args.rerun:
                log(f"{days}x{n}: recorded ({done[f'{days}x{n}']['status']}); skipped")
                continue
            log(f"{days}x{n}: fitting ({args.draws} draws, {args.tune} tune), {now()}…")
            record = run_config(days, n, args)
            record["machine"] = machine
            append_record(jsonl, record)
            extra = f", fit {record['fit_s']:.1f} s" if record["status"] == "ok" else ""
            log(f"{days}x{n}: {record['status']} in {record['subprocess_s']:.0f} s{extra}")
            write_doc()
    write_doc()
    return 0


if __name__ == "__main__":
    sys.exit(main())
