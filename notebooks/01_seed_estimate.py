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
# # Two weeks into the war: one estimate from three disagreeing claims
#
# In March 2022 Ukraine's government said 12,000 Russian soldiers had been killed, the
# Pentagon said 2,000–4,000, and Russia's defence ministry admitted 498 (as of 2 March).
# This notebook turns those claims into one estimate with honest uncertainty, shows
# how biased each source looks, and reruns the estimate when new claims arrive.
#
# Run it top to bottom; a fit takes a few seconds. Set `CASUALTY_MODELS_FAST=1` for a
# quicker, smaller run (as CI does).

# %%
import math
import os

import matplotlib.pyplot as plt
import pandas as pd

import casualty_models as cm

# CASUALTY_MODELS_FAST: one short sampler run per fit, for a quick check
RUN = dict(draws=500, tune=500, max_attempts=1) if os.environ.get("CASUALTY_MODELS_FAST") else {}
pd.set_option("display.width", 160)
pd.set_option("display.max_colwidth", 40)

# %% [markdown]
# ## The claims
#
# Each row is one published figure: who said it (`source`), what kind of source it is
# (`own` side, `enemy` side, `neutral` government), whose losses (`side`), the date the
# figure refers to (`as_of`) and where it was published (`citation`). The Pentagon's
# figure is a range, not a point.

# %%
claims = cm.examples.load("seed")  # ships with the package: seeds/ukraine_2022-03.csv
claims

# %% [markdown]
# Above, what a notebook shows for a claim set: the counts by side, category and source
# type, the dates, the sources, and any validation notes. The claims themselves, as a
# DataFrame (`cm.read_claims("file.csv")` reads your own file):

# %%
claims.to_frame()[["source", "source_type", "side", "as_of", "value", "low", "high"]]

# %% [markdown]
# ## Fit
#
# `fit` samples the posterior and returns an immutable `Estimate`. The seed fixes every
# random number, so this cell always gives the same numbers.

# %%
est = cm.fit(claims, random_seed=1, **RUN)
est  # in a notebook: the headline, a sentence per series, the diagnostics and the figure

# %% [markdown]
# The headline: the true count on the `as_of` date, with 50% and 90% credible
# intervals, and the convergence checks behind it.

# %%
print(est.diagnostics.message())
est.headline()

# %%
est.plot.panels()  # one panel per headline series; the report's main figure
plt.show()

# %% [markdown]
# ## How biased is each source?
#
# A factor of ×3 means the source reports three times the true count. `learned` says
# how far the claims moved each factor away from its prior: near 0, the factor shown is
# just the prior. With one latent count per series and biased sources, the biases are
# identified only by the priors and by anchors (neutral sources, tallies, known
# counts) — the estimate cannot be more certain than those assumptions.

# %%
est.sources()

# %%
est.plot.sources()
plt.show()

# %% [markdown]
# ## Is any claim surprising given the rest?
#
# For each claim, what the model expects that source to have said, and the posterior
# predictive probability of its figure (small = surprising).

# %%
est.claims_check()[
    [
        "source",
        "side",
        "claimed",
        "predicted_median",
        "predicted_low_90",
        "predicted_high_90",
        "p_value",
        "surprising",
    ]
]

# %%
est.plot.claims()
plt.show()

# %% [markdown]
# ## How much does the answer rest on the prior for own-side reports?
#
# The default prior says a side reports about 40% of its own dead. Suppose instead it
# reports about 70%: refit with that prior and compare the headline.

# %%
milder = cm.Priors().with_source_type("own", bias_mu=math.log(0.7))
est_milder = cm.fit(claims, priors=milder, random_seed=1, **RUN)
pd.concat({"default prior": est.headline(), "own reports 70%": est_milder.headline()})

# %% [markdown]
# ## New claims arrive: rerun
#
# On 12 March 2022 President Zelensky put Ukraine's own military dead at about 1,300
# (Interfax-Ukraine, "Zelensky: some 1,300 Ukrainian servicemen killed since start of
# Russian invasion", 2022-03-12). On 25 March the Russian General Staff said 1,351
# Russian servicemen had died (CNN live updates, 2022-03-25). `add` returns a new claim
# set; the original is unchanged, and so is the first estimate.

# %%
zelensky = cm.Claim(
    source="Ukrainian President (Zelensky)",
    source_type="own",
    side="ukraine",
    category="killed",
    as_of="2022-03-12",
    period_start="2022-02-24",
    value=1300,
    citation='Interfax-Ukraine, "Zelensky: some 1,300 Ukrainian servicemen killed since '
    'start of Russian invasion", 2022-03-12',
    url="https://en.interfax.com.ua/news/general/812177.html",
)
rudskoy = cm.Claim(
    source="Russian Ministry of Defence",
    source_type="own",
    side="russia",
    category="killed",
    as_of="2022-03-25",
    period_start="2022-02-24",
    value=1351,
    citation='CNN live updates, "Russia-Ukraine news, March 25, 2022", 2022-03-25',
    url="https://www.cnn.com/europe/live-news/ukraine-russia-putin-news-03-25-22/"
    "h_91748db106f652d0ec468f183a224853",
)
claims2 = claims.add(zelensky, rudskoy)
print(len(claims), "->", len(claims2), "claims; fingerprint", claims2.fingerprint[:12])

est2 = cm.fit(claims2, as_of="2022-03-25", random_seed=1, **RUN)
est2.headline()

# %% [markdown]
# The Russian MoD now speaks twice, so its two figures share one bias; its second,
# later figure tells the model about the curve's growth. The timeline shows the
# interval widening after the last neutral figure (11 March), where only the partisan
# figures remain.

# %%
fig, axes = plt.subplots(1, 2, figsize=(12, 4))
est2.plot.timeline(series=("russia", "killed"), ax=axes[0])
est2.plot.timeline(series=("ukraine", "killed"), ax=axes[1])
plt.show()

# %% [markdown]
# ## Save, reload, share
#
# The estimate saves to one netCDF file with its claims and settings; the JSON and HTML
# report are what the command line writes too.

# %%
import tempfile
from pathlib import Path

with tempfile.TemporaryDirectory() as tmp:
    path = Path(tmp) / "seed.nc"
    est2.save(path)
    back = cm.load(path)
    assert back.summary().equals(est2.summary())
    print("reloaded:", back)
