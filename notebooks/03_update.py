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
# # A month of new claims: update, compare, and what moved the estimate
#
# The everyday use of the library is a rerun: new figures are published, the estimate
# is fitted again, and the question is *what changed, and why*. This notebook takes the
# bundled war data as it stood at the end of April 2026, adds the claims published in
# May (a month of the Ukrainian General Staff's daily tally, and two one-off
# estimates), and reads what the comparison says: which claims are new, how far each
# headline moved, and how far each new claim alone moved it.
#
# A full fit of the war data takes two to three minutes on two cores; this notebook
# makes two. `CASUALTY_MODELS_FAST=1` (as CI runs it) uses one short sampler run per
# fit, and measures each claim's effect by reweighting alone (no refits): the numbers
# are then rougher, and the convergence messages say so.

# %%
import os
import warnings

import matplotlib.pyplot as plt
import pandas as pd

import casualty_models as cm

FAST = bool(os.environ.get("CASUALTY_MODELS_FAST"))
# FAST: one short sampler run per fit (see 02_full_war.py)
RUN = dict(draws=300, tune=300, max_attempts=1) if FAST else {}
ATTRIBUTION = "reweight" if FAST else "auto"  # FAST: no refits where k̂ is high
START = "2022-02-24"
BEFORE, AFTER = "2026-04-30", "2026-05-31"
pd.set_option("display.width", 160)
pd.set_option("display.max_colwidth", 60)

# %% [markdown]
# ## The claims then and now
#
# `filter(reported_by=...)` keeps the claims published by a date: the claim set as a
# researcher would have had it then.

# %%
claims = cm.examples.load("war")  # seeds/russia_ukraine_war.csv + ua_general_staff_daily.csv
then = claims.filter(reported_by=BEFORE)
now = claims.filter(reported_by=AFTER)
print(f"{len(then)} claims published by {BEFORE}; {len(now)} by {AFTER}")

# %% [markdown]
# ## The earlier estimate, and the update
#
# The update keeps every setting of the earlier fit (its start, priors, sampler
# settings and seed): `settings.fit_kwargs()` gives them, and `as_of=None` lets the
# headline date follow the new claims. `warm_start=old` starts the sampler where the
# earlier posterior was, which saves most of the tuning. On the command line this is
# `casualty-models update OUT_DIR CLAIMS...` (see docs/cli.md).

# %%
with warnings.catch_warnings():
    # a shorter CI run may miss the ESS target; the diagnostics below report it either way
    warnings.simplefilter("ignore", cm.ConvergenceWarning)
    old = cm.fit(then, start=START, random_seed=1, **RUN)
    new = cm.fit(now, **old.settings.fit_kwargs(as_of=None), warm_start=old)
print(old.diagnostics.message())
print(new.diagnostics.message())
print("the update:", new.attempts[0]["reason"])

# %% [markdown]
# ## What changed
#
# `new.compare(old)` matches the claims by identity (source, side, category and dates),
# so a figure corrected in place would be one edited claim, not a removal and an
# addition. Here the claims were only added.

# %%
changes = new.compare(old, method=ATTRIBUTION)
changes

# %%
changes.claims[["change", "source", "side", "category", "as_of", "new"]]

# %% [markdown]
# One plain sentence per series: how far its median moved, and the claim that moved it
# most. The table beside it gives the medians and intervals before and now, the change
# in people and percent, and in standard deviations of the earlier posterior (of the log
# count): a move of 0.2 sds is well inside what the earlier estimate allowed.

# %%
for sentence in changes.sentences():
    print(sentence)

# %%
head = changes.headline
head[["side", "category", "old_median", "new_median", "change_pct", "change_sd"]].round(2)

# %% [markdown]
# ## Reading the attribution
#
# For each new claim, how far it *alone* moved each headline: the difference between
# the new estimate and the new estimate without that claim. "Without it" is computed
# by reweighting the posterior draws (Pareto-smoothed importance sampling, as in
# leave-one-out cross-validation); `pareto_k` says how far the weights can be trusted,
# and above 0.7 the model is refitted without the claim instead. The effects are in
# people and in percent of the earlier median; with the `interactions` row (what the
# claims do together, the later headline date, and the difference of two sampler runs)
# they add up to the change.
#
# A daily tally figure enters through its rise since the figure before; its effect is
# that of the rise: small, one day's worth. The one-off estimates are where a month's
# news can move the answer.

# %%
att = changes.attribution
killed = att[(att["side"] == "russia") & (att["category"] == "killed")]
columns = ["claim", "effect", "effect_pct", "mcse_pct", "method", "pareto_k"]
claims_only = killed[killed["change_id"] >= 0]
top = claims_only.reindex(claims_only["effect_pct"].abs().sort_values(ascending=False).index)
pd.concat([top.head(8), killed[killed["change_id"] < 0]])[columns].round(2)

# %%
row = head[(head["side"] == "russia") & (head["category"] == "killed")].iloc[0]
print(
    f"effects, the interactions row included: {killed['effect'].sum():+,.0f} people; "
    f"the change of the median: {row['change']:+,.0f}"
)

# %% [markdown]
# Each daily figure alone moves Russian killed down by a fraction of a percent, and the
# month's figures together do not move it by the sum of those: left out alone, a daily
# figure turns two one-day rises into one two-day rise, a small change of the tally's
# likelihood in the same direction every time (docs/updates.md). That, and the month of
# the curve between the two dates, is what the interactions row holds.
#
# The two curves, with the new claims highlighted:

# %%
changes.plot(series=("russia", "killed"))
plt.show()

# %% [markdown]
# ## The source biases before and now
#
# A month of claims teaches the model little about most sources' biases; a new
# source's bias has no "before".

# %%
src = changes.sources
src[src["new_n_claims"] != src["old_n_claims"]][
    ["source", "side", "old_n_claims", "new_n_claims", "old_bias_factor", "new_bias_factor"]
].round(2)
