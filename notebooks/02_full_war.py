# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # The whole war: every series, every source, and how the estimate moved
#
# The bundled claims cover the Russia–Ukraine war from February 2022 on: 233 published
# figures from both governments, US, UK and other intelligence services, NATO,
# named-person tallies and independent estimates (`seeds/russia_ukraine_war.csv`), and
# the Ukrainian General Staff's daily running tally of Russian "personnel losses"
# (`seeds/ua_general_staff_daily.csv`, 1,598 days). Every row carries its citation.
#
# This notebook fits all of it at once, reads the estimate per side and category,
# looks at what the model learned about each source, replays how the estimate would
# have looked on past dates, and adds the latest week of claims to an earlier fit.
#
# A full fit takes two to three minutes on two cores. `CASUALTY_MODELS_FAST=1` (as CI
# runs it) uses one short sampler run per fit: the numbers are then rougher, and the
# convergence messages say so.

# %%
import os
import warnings

import matplotlib.pyplot as plt
import pandas as pd

import casualty_models as cm

FAST = bool(os.environ.get("CASUALTY_MODELS_FAST"))
# FAST: one short sampler run per fit (fit() would otherwise continue until the ESS
# passes 400, which is what a real analysis wants and a quick check does not)
RUN = dict(draws=300, tune=300, max_attempts=1) if FAST else {}
START = "2022-02-24"  # the first day of the invasion: every cumulative count starts here
pd.set_option("display.width", 160)
pd.set_option("display.max_colwidth", 45)

# %% [markdown]
# ## The claims
#
# `category` is what the source said it counted: `killed`, `wounded`, `casualties`
# (killed + wounded), `personnel_losses` (the General Staff's term, modelled like
# casualties), `killed_and_missing`, `captured`. The model links them: wounded is
# killed times a ratio with a prior median of 3, casualties is killed times (1 +
# that ratio), so a casualty figure informs the killed curve too (see
# `docs/model.md`).

# %%
# ships with the package: seeds/russia_ukraine_war.csv + seeds/ua_general_staff_daily.csv
claims = cm.examples.load("war")
claims

# %%
frame = claims.to_frame()
frame.pivot_table(
    index=["side", "category"], columns="source_type", values="source", aggfunc="count"
).fillna(0).astype(int)

# %% [markdown]
# ## Fit
#
# The General Staff's daily figures form a *running tally*: its first figure is a
# claim like any other, and each later figure enters only through its rise since the
# figure before, with heavy-tailed errors that are correlated from day to day, a noise
# level the tally learns for itself, and a bias that may drift. Its 1,598 figures
# therefore shape the curve's ups and downs without letting one source's repetition set
# the level. After sampling, two checks: the sampler's (R-hat, ESS, divergences) and the
# model check (how many claims lie outside their 99% predictive interval).

# %%
with warnings.catch_warnings():
    # a shorter CI run may miss the ESS target; the diagnostics below report it either way
    warnings.simplefilter("ignore", cm.ConvergenceWarning)
    est = cm.fit(claims, start=START, random_seed=1, **RUN)
print(est.diagnostics.message())
est

# %% [markdown]
# ## The estimate per side and category, on the last claim's date
#
# Counts in people, with 90% equal-tailed credible intervals. `last_claim` is the latest
# claim on the series' curve: after it the curve runs on its prior alone. The captured
# series show what that means. Their last claims date from 2022, and four years of
# extrapolation give intervals spanning three orders of magnitude, which is the model
# saying it does not know. Read those rows as "no information", not as estimates.

# %%
head = est.headline()
counts = ["median", "low_90", "high_90"]
head[counts] = head[counts].round(-2)
head[["side", "category", "last_claim", *counts]]

# %%
est.plot.panels()  # killed per side, one panel each; hatched where a curve runs past its claims
plt.show()

# %% [markdown]
# ## What the model learned about each source
#
# `bias_factor` is the posterior median of what the source reports relative to the
# truth (×2: twice the true count), next to its prior; `learned` near 0 means the
# claims did not move the factor from its prior. Sorted from the most inflating to the
# most understating.

# %%
sources = est.sources().sort_values("bias_factor", ascending=False)
columns = ["source", "side", "source_type", "n_claims", "bias_factor", "prior_median", "learned"]
sources[columns].round(2)

# %%
est.plot.sources()
plt.show()

# %% [markdown]
# The General Staff's factor above is the one on the last day. Its bias drifts: the
# plot shows the factor by which it differs from the bias at its first figure. A value
# below 1 means its "personnel losses" came to be a smaller share of the model's
# casualties than at first.

# %%
est.plot.drift()
plt.show()

# %% [markdown]
# ## How the estimate moved: a backtest
#
# `backtest` refits on each date with only the claims published by then, in parallel
# (a local process pool here; `executor=Client(...).get_executor()` for a dask
# cluster). The plot shows each vintage's estimate of Russian killed at its date, and
# the claims overlaid; hollow points were published after the first vintage.

# %%
vintages = ["2023-02-24", "2024-02-24", "2025-02-24"] if FAST else None
vintages = vintages or ["2022-09-01", "2023-02-24", "2023-09-01", "2024-02-24", "2025-02-24"]
with warnings.catch_warnings():
    warnings.simplefilter("ignore", cm.ConvergenceWarning)
    history = cm.backtest(claims, vintages, random_seed=1, **RUN)
killed = history.history[history.history["category"] == "killed"]
killed[["as_reported_on", "side", "n_claims", "median", "low_90", "high_90"]].round(-2)

# %%
history.plot(series=("russia", "killed"))
plt.show()

# %% [markdown]
# ## Next week's claims arrive
#
# Rerunning as claims arrive is the everyday use. Here the last week of the daily
# tally plays the role of the new claims: fit what was published by 4 July 2026, then
# add the week to 11 July and refit. `add` returns a new claim set; the first one and
# its estimate are unchanged.

# %%
last_week = "2026-07-04"
earlier = claims.filter(reported_by=last_week)
new = [c for c in claims if c.reported > pd.Timestamp(last_week).date()]
print(f"{len(earlier)} claims by {last_week}; {len(new)} published since")
with warnings.catch_warnings():
    warnings.simplefilter("ignore", cm.ConvergenceWarning)
    est_earlier = cm.fit(earlier, start=START, as_of="2026-07-11", random_seed=1, **RUN)
updated = earlier.add(new)
assert set(updated) == set(claims)  # the same claims as the full fit
compare = pd.concat(
    {f"published by {last_week}": est_earlier.headline(), "with the new week": est.headline()}
)
compare[compare["category"].isin(["killed", "personnel_losses"])][
    ["side", "category", *counts]
].round(-2)
