"""casualty_models: honest Bayesian estimates of true casualty counts from biased claims.

``import casualty_models`` is light; PyMC is imported on the first :func:`fit`.
"""

# first: configures PyTensor before anything imports it (see _backend for why)
from casualty_models import (
    _backend,  # noqa: F401
    examples,
)
from casualty_models import compare as _compare  # noqa: F401  (registers est.compare)
from casualty_models import plots as _plots  # noqa: F401  (registers est.plot)
from casualty_models import sensitivity as _sensitivity  # noqa: F401  (est.prior_sensitivity)
from casualty_models import trust as _trust  # noqa: F401  (registers est.sensitivity ...)
from casualty_models._version import __version__
from casualty_models.backtest import Backtest, backtest
from casualty_models.claims import (
    COLUMNS,
    SOURCE_TYPES,
    Claim,
    ClaimsError,
    ClaimSet,
)
from casualty_models.compare import Comparison
from casualty_models.diagnostics import ConvergenceWarning, Diagnostics, ModelCheckWarning
from casualty_models.estimate import Estimate, FitSettings, WarmState, load
from casualty_models.fitting import WarmStartWarning, fit
from casualty_models.model.priors import (
    DEFAULT_LEVEL,
    DEFAULT_SOURCE_PRIORS,
    Priors,
    SourcePrior,
)
from casualty_models.model.tallies import CoarseSourceWarning, DecreasingTallyWarning, SpikeWarning
from casualty_models.plots import compare as _plot_compare  # noqa: F401  (Comparison.plot)
from casualty_models.readers import ReaderNote, read_claims
from casualty_models.report import notebook as _notebook  # noqa: F401  (_repr_html_)

__all__ = [
    "COLUMNS",
    "DEFAULT_LEVEL",
    "DEFAULT_SOURCE_PRIORS",
    "SOURCE_TYPES",
    "Backtest",
    "Claim",
    "ClaimSet",
    "ClaimsError",
    "CoarseSourceWarning",
    "Comparison",
    "ConvergenceWarning",
    "DecreasingTallyWarning",
    "Diagnostics",
    "Estimate",
    "FitSettings",
    "ModelCheckWarning",
    "Priors",
    "ReaderNote",
    "SourcePrior",
    "SpikeWarning",
    "WarmStartWarning",
    "WarmState",
    "__version__",
    "backtest",
    "examples",
    "fit",
    "load",
    "read_claims",
]
