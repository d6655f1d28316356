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
# # The bias atlas: priors learned from history
#
# Every estimate this library makes leans on its bias priors: how far a side, a third
# party or a named list usually is from the truth. The presets `war-military`,
# `civilian` and `disaster` are judgments. The **bias atlas** (`seeds/bias_atlas/`)
# measures instead: for twelve events that ended before 2001, what each kind of source
# said while the event went on or soon after, and what a later count found. This
# notebook reads the atlas, fits its model, draws the forest plot, shows the preset it
# makes (`--priors historical`), and reads the leave-one-event-out check.
#
# The atlas fit takes a minute or two on two cores. `CASUALTY_MODELS_FAST=1` (as CI runs
# it) uses short sampler runs: the numbers are then rougher than the shipped preset's.

# %%
import logging
import os
import warnings

import matplotlib.pyplot as plt
import pandas as pd

import casualty_models as cm
from casualty_models.atlas import load_atlas
from casualty_models.atlas.loo import loo_summary
from casualty_models.atlas.model import fit_atlas
from casualty_models.atlas.plot import forest_plot
from casualty_models.atlas.preset import preset_text
from casualty_models.model.priors_file import preset

FAST = bool(os.environ.get("CASUALTY_MODELS_FAST"))
# FAST: short sampler runs (the shipped preset: 2,000 draws after 1,000 tuning steps)
ATLAS_RUN = dict(draws=300, tune=300) if FAST else dict(draws=2000, tune=1000)
RUN = dict(draws=300, tune=300, max_attempts=1) if FAST else {}
logging.getLogger("pymc").setLevel(logging.ERROR)  # no sampler chatter in the outputs
pd.set_option("display.width", 160)
pd.set_option("display.max_colwidth", 50)

# %% [markdown]
# ## The data
#
# `load_atlas` reads the events, each event's claims (the package's own claims format,
# every row cited) and the later counts, and checks them all at once. `observations()`
# is what the model fits: one row per claim whose unit matches a later count, with its
# *cell* — the kind of source, and for `own` and `enemy` whose dead are counted
# (soldiers, or civilians and the victims of a massacre, where `own` means the victims'
# authorities and `enemy` the perpetrators') — and how early in the event it was dated.

# %%
atlas = load_atlas("../seeds/bias_atlas")
atlas.summary()

# %%
obs = atlas.observations()
weak = len(atlas.observations(include_weak=True)) - len(obs)
print(f"{len(obs)} scored claims; {weak} more in the weak files, left out")
obs.groupby("cell")["ratio"].describe()[["count", "min", "50%", "max"]].round(2)

# %% [markdown]
# ## The atlas model
#
# `log(figure / later count)` = the cell's median + an offset shared by the cell's
# speakers about one side in one event + the speaker's own deviation + a slope for how
# early the figure was dated + noise; the later count carries its own uncertainty,
# ranges and bounds are censored. For a new event, each cell's posterior predictive is
# what a preset needs: a median factor, and a log-sd split into a shared and an own part.

# %%
fit = fit_atlas(atlas, random_seed=1, **ATLAS_RUN)
print(fit.diagnostics())
cells = fit.cells()
cells[["cell", "claims", "events", "factor", "low_90", "high_90", "log_sd", "shared_share"]]

# %% [markdown]
# Against the hand-made defaults (`war-military`): a side's own figure for its soldiers'
# dead, the enemy's figure for them, third parties, researchers and named lists.

# %%
defaults = cm.Priors()
rows = []
for cell in ("own:military", "enemy:military", "neutral", "independent", "tally"):
    lo, med, hi = defaults.for_type(cell.split(":")[0]).factor_interval()
    c = cells.set_index("cell").loc[cell]
    learned = f"×{c['factor']:.2g} ({c['low_90']:.2g}–{c['high_90']:.2g})"
    rows.append({"cell": cell, "defaults": f"×{med:.2g} ({lo:.2g}–{hi:.2g})", "atlas": learned})
pd.DataFrame(rows)

# %% [markdown]
# How early a figure was dated matters: a figure from the start of an event counts the
# dead so far, and is made with less knowledge.

# %%
fit.early_effect()

# %% [markdown]
# ## The forest plot
#
# Each claim's figure over its later count, grouped by cell; the shaded bands are the
# fitted distributions (dark: the cell's median, light: a new event's speaker — the
# preset), the dashed lines the hand-made preset's 90% interval.

# %%
forest_plot(fit)
plt.show()

# %% [markdown]
# ## The preset
#
# `casualty-models atlas fit` writes these numbers as `historical` (soldiers) and
# `historical-civilian` presets, with the derivation in the files' comments. The shipped
# files were made with 2,000 draws; here, the end of the one this fit would write:

# %%
print("\n".join(preset_text(fit, "historical", atlas=atlas).splitlines()[-24:]))

# %% [markdown]
# Using it is one argument: `--priors historical` on the command line, or in Python:

# %%
claims = cm.read_claims("../seeds/ukraine_2022-03.csv")
with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # FAST runs are short: convergence is not the point here
    est_default = cm.fit(claims, random_seed=1, **RUN)
    est_hist = cm.fit(claims, priors=preset("historical"), random_seed=1, **RUN)
pd.concat({"defaults": est_default.headline(), "historical": est_hist.headline()})[
    ["side", "category", "median", "low_90", "high_90"]
]

# %% [markdown]
# ## Would it have covered the truth? Leave one event out
#
# `python -m validation.atlas loo` fits the atlas without each event in turn, fits the
# event's own claims with the resulting priors and with the defaults, and asks whether
# the 90% interval held the later count (docs/atlas.md). Its results ship in
# `docs/atlas/`:

# %%
loo = pd.read_csv("../docs/atlas/loo_rows.csv")
loo_summary(loo)

# %%
loo.pivot_table(index=["event", "side", "category"], columns="priors", values="covered")

# %% [markdown]
# ## What the atlas cannot do
#
# * **Selection.** These events are famous because their tolls were disputed; quiet
#   events whose early figures were right are rarely recounted. Priors learned here
#   expect more bias than an average event shows.
# * **"Truth" is sometimes the side's own archive** (Soviet losses in Finland and
#   Afghanistan, the Soviet war dead, British dead in the Falklands, partly Dresden): an
#   archive can be incomplete in the same direction as the side's claims.
# * **Few claims per cell**: the perpetrators' figures about civilians come from one
#   event; the preset for them is mostly the atlas model's own prior.
