"""casualty_models: honest Bayesian estimates of true casualty counts from biased claims."""
from casualty_models._version import __version__
from casualty_models.claims import Claim, ClaimSet, ClaimsError, read_claims
