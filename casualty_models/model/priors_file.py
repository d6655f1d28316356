"""Priors as an annotated YAML file, and named presets.

One job: :class:`~casualty_models.model.priors.Priors` to YAML text and back.

* :func:`dump_priors` writes every setting, each source type's bias prior as a median
  *factor* and log-scale spreads (the parameters of :meth:`SourcePrior.from_factor`),
  each key explained by a comment.
* :func:`load_priors` / :func:`load_priors_text` read such a file. Every key is optional:
  a key left out keeps the value of the preset named by a ``preset:`` line (the defaults
  when there is none), so an empty file is the defaults. Every problem is reported with
  its file and line, all of them at once, in one :class:`PriorsFileError`.
* :data:`PRESETS` / :func:`preset`: one YAML file each in ``casualty_models/presets/``
  (``war-military``, the defaults; ``civilian``, ``disaster``, ``epidemic``...), read as
  priors files with their reasoning as comments (also in ``docs/priors.md``).

A dumped file reads back to settings equal to the ones dumped (``==``). A factor is
written as the shortest decimal whose logarithm is exactly the stored log factor; when no
decimal has that property (a log factor set directly in Python), the file says
``log_factor:`` instead, which is exact.

Over 500 lines because it is one file format in both directions: the writer's annotated
sections and the validating reader's checks mirror each other, and are kept side by side
so that a change to one is seen next to the other.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from statistics import NormalDist
from types import MappingProxyType
from typing import Any

from casualty_models.model.preset_files import (
    DEFAULT_PRESET,
    PresetAbout,
    preset_about,
    preset_files,
)
from casualty_models.model.priors import DEFAULT_SOURCE_PRIORS, Priors, SourcePrior
from casualty_models.model.priors_schema import (
    CURVE_KEYS,
    PRIOR_KEYS,
    RUNNING_KEYS,
    SCALARS,
    TOP_KEYS,
    PriorsFileError,
    did_you_mean,
    quote,
    read_priors_text,
    yaml_float,
)

__all__ = [
    "PRESETS",
    "PriorsFileError",
    "dump_priors",
    "load_priors",
    "load_priors_text",
    "preset",
    "priors_from",
]

_PRESET_ABOUT: dict[str, PresetAbout] = {}


def _read_presets() -> Mapping[str, Priors]:
    """Every preset file of ``casualty_models/presets/``, read as a priors file."""
    out: dict[str, Priors] = {}
    for name, entry in preset_files().items():
        text = entry.read_text(encoding="utf-8")
        _PRESET_ABOUT[name] = preset_about(name, text)
        origin = f"casualty_models/presets/{entry.name}"
        out[name] = load_priors_text(text, origin=origin, presets=out)
    return MappingProxyType(out)


_GENERIC_ROLES: Mapping[str, str] = MappingProxyType(
    {
        "own": "a side about its own losses",
        "enemy": "a side about the other side's losses",
        "neutral": "third-party governments, agencies and intelligence services",
        "tally": "documented counts of named individuals: lower bounds",
        "independent": "independent statistical estimates (surveys, excess deaths)",
        "known": "an anchor: a count taken as true",
    }
)

# -------------------------------------------------------------------------- the keys

_PRIOR_KEYS = PRIOR_KEYS
_SCALARS = SCALARS
_CURVE_KEYS = CURVE_KEYS
_RUNNING_KEYS = RUNNING_KEYS
_TOP_KEYS = TOP_KEYS

_PRIOR_LEGEND: tuple[tuple[str, str], ...] = (
    ("factor", "median factor, figure given ÷ true count (0.4: reports 40% of the truth)"),
    ("spread", "log-scale sd of one speaker's own deviation (0.6: ×/÷1.8; 0: none)"),
    ("shared", "log-scale sd of an offset shared by the type's speakers about one side"),
    ("noise", "log-scale sd of each claim's scatter about the speaker's biased figure"),
    ("max_factor", "a cap the factor stays below (1.0: can only undercount; needs shared 0)"),
    ("log_factor", "natural log of factor, in its place (written when no decimal is exact)"),
    ("log_max_factor", "natural log of max_factor, instead of max_factor"),
)

_RATIO_NOTES: Mapping[str, str] = MappingProxyType(
    {"wounded": "wounded per killed", "missing": "missing per killed"}
)


# ------------------------------------------------------------------------- presets


def preset(name: str) -> Priors:
    """The preset ``name`` (see :data:`PRESETS`); unknown names raise ValueError."""
    if name not in PRESETS:
        raise _unknown_preset(name)
    return PRESETS[name]


def _unknown_preset(name: str) -> ValueError:
    return ValueError(
        f"unknown priors preset {name!r}{did_you_mean(name, PRESETS)}; known: {', '.join(PRESETS)}"
    )


def priors_from(spec: str | Path) -> Priors:
    """A preset name (``civilian``) or the path of a priors file, as ``--priors`` takes.

    A name of :data:`PRESETS` wins over a file of the same name in the working
    directory; anything else must be an existing file.
    """
    if isinstance(spec, str) and spec in PRESETS:
        return PRESETS[spec]
    path = Path(spec)
    if not path.is_file():
        raise ValueError(
            f"priors {str(spec)!r} is neither a preset ({', '.join(PRESETS)}) nor a file"
        )
    return load_priors(path)


def describe_priors(priors: Priors) -> str:
    """The priors in a few words, for a report: a preset's name, or what differs from
    the nearest preset (``custom: civilian, except own, sources``)."""
    exact = next((n for n, p in PRESETS.items() if p == priors), None)
    if exact is not None:
        return f"{exact} (the package defaults)" if exact == DEFAULT_PRESET else exact
    wanted = priors.to_dict()

    def differences(base: Priors) -> list[str]:
        have = base.to_dict()
        types = [t for t, p in wanted["source_types"].items() if have["source_types"].get(t) != p]
        rest = [k for k in wanted if k != "source_types" and wanted[k] != have[k]]
        return types + rest

    name, diff = min(((n, differences(p)) for n, p in PRESETS.items()), key=lambda x: len(x[1]))
    return f"custom: {name}, except {', '.join(diff)}"


# --------------------------------------------------------------------------- dump


def dump_priors(priors: Priors | None = None, *, preset: str | None = None) -> str:
    """An annotated YAML document of every setting of ``priors``.

    ``priors`` None: the preset ``preset`` (default ``war-military``, the defaults).
    ``preset`` names the preset the header describes; when not given it is the preset
    equal to ``priors``, if any. :func:`load_priors_text` reads the text back to settings
    equal to ``priors``.
    """
    if preset is not None and preset not in PRESETS:
        raise _unknown_preset(preset)
    if priors is None:
        priors = PRESETS[preset or DEFAULT_PRESET]
    exact = next((n for n, p in PRESETS.items() if p == priors), None)
    name = preset if preset is not None else exact
    roles = _PRESET_ABOUT[name].roles if name is not None else _GENERIC_ROLES

    out: list[str] = []
    out += _header(name, exact)
    out += ["", "# ---- bias of each kind of source (docs/model.md#source-biases) ----"]
    out += ["# A factor is what a source says ÷ the true count. In each entry:"]
    width = max(len(k) for k, _ in _PRIOR_LEGEND)
    out += [f"#   {k + ':':<{width + 1}} {text}" for k, text in _PRIOR_LEGEND]
    out += ["# Above each entry: what the type stands for, and the prior of one speaker's"]
    out += ["# factor that its numbers give (median and 90% interval)."]
    out.append(_line("source_types:", "one entry per source_type of the claims"))
    for source_type, prior in priors.source_types.items():
        out.append(f"  # {source_type}: {roles[source_type]}")
        out.append(f"  #   one speaker's factor: {_interval_text(prior)}")
        base = DEFAULT_SOURCE_PRIORS[source_type]
        out.append(f"  {source_type}: {_prior_flow(prior, base, full=True)}")

    out += ["", "# ---- per-source overrides (docs/model.md#source-biases) ----"]
    out += ['# Keyed by source name (every side it speaks about) or by "source|side" (one']
    out += ["# speaker). Each needs factor, spread and noise; shared and max_factor are"]
    out += ["# optional (0 and none). For example:"]
    out += ["#   sources:"]
    out += ["#     Iraq Body Count: {factor: 0.6, spread: 0.3, noise: 0.05, max_factor: 1.0}"]
    out += ['#     "Russian Ministry of Defence|ukraine": {factor: 3.0, spread: 0.5, noise: 0.2}']
    if not priors.sources:
        out.append(_line("sources: {}", "none: every speaker takes its source type's prior"))
    else:
        out.append(_line("sources:", "these speakers do not take their type's prior"))
        for key, prior in priors.sources.items():
            shown = key if key.isprintable() else _quote(key)
            out.append(f"  #   {shown}: {_interval_text(prior)}")
            out.append(f"  {_quote(key)}: {_prior_flow(prior, None, full=False)}")

    out += ["", "# ---- the latent curve (docs/model.md#the-latent-curve) ----"]
    out += [_scalar_line(k, getattr(priors, k)) for k in _CURVE_KEYS]

    out += ["", "# ---- categories (docs/model.md#categories) ----"]
    out.append(_scalar_line("link_categories", priors.link_categories))
    out.append(_line("ratios:", "per side, ratio to killed: [median, log-scale sd]"))
    for ratio, (median, sd) in priors.ratios.items():
        lo, hi = median * math.exp(-_Z90 * sd), median * math.exp(_Z90 * sd)
        note = f"{_RATIO_NOTES.get(ratio, ratio)}; 90%: {_g(lo)}–{_g(hi)}"
        out.append(_line(f"  {ratio}: [{_float(median)}, {_float(sd)}]", note))

    out += ["", "# ---- running tallies (docs/model.md#running-tallies) ----"]
    out += [_scalar_line(k, getattr(priors, k)) for k in _RUNNING_KEYS]
    return "\n".join(out) + "\n"


def _header(name: str | None, exact: str | None) -> list[str]:
    if name is None:
        first = "# casualty_models priors: custom settings (not a preset)"
        about = ["# Presets and their reasoning: docs/priors.md"]
    else:
        state = "exactly the preset" if exact == name else "changed from the preset"
        first = f"# casualty_models priors, preset {name} ({state})"
        about = [f"# {line}" for line in _PRESET_ABOUT[name].summary.splitlines()]
        about.append(f"# Reasoning and sources: docs/priors.md#{name}")
    return [
        first,
        *about,
        "#",
        "# Use: casualty-models estimate CLAIMS --priors FILE, or in Python",
        "# fit(claims, priors=casualty_models.model.priors_file.load_priors(FILE)).",
        "# Every key is optional: a key left out keeps the value of the preset named by",
        f"# a `preset:` line ({', '.join(PRESETS)}; {DEFAULT_PRESET} when there",
        "# is none), so this is a complete file:",
        "#   preset: civilian",
        "#   source_types:",
        "#     enemy: {factor: 0.1}",
        "# Spreads and noise are standard deviations of natural logs (0.5: ×/÷1.65).",
    ]


_COMMENT_COLUMN = 30
_Z90 = NormalDist().inv_cdf(0.95)


def _line(text: str, comment: str) -> str:
    pad = max(_COMMENT_COLUMN - len(text), 1)
    return f"{text}{' ' * pad}# {comment}"


def _scalar_line(key: str, value: Any) -> str:
    return _line(f"{key}: {_value_text(value)}", _SCALARS[key][1])


def _value_text(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    return _float(float(value))


def _float(x: float) -> str:
    """``x`` as a YAML float that reads back exactly (also with a YAML 1.1 reader)."""
    return yaml_float(x)


def _yaml_float(text: str) -> str:
    """A decimal's text as a YAML float (a dot in the mantissa, a signed exponent)."""
    mantissa, e, exponent = text.lower().partition("e")
    if "." not in mantissa:
        mantissa += ".0"
    if not e:
        return mantissa
    sign = exponent[0] if exponent[0] in "+-" else "+"
    return f"{mantissa}e{sign}{exponent.lstrip('+-')}"


def _factor_text(log_value: float) -> str | None:
    """The shortest decimal whose natural log is exactly ``log_value``, or None."""
    try:
        x = math.exp(log_value)
    except OverflowError:
        return None
    if not 0 < x < math.inf:
        return None
    for digits in range(1, 18):
        text = f"{x:.{digits}g}"
        if math.log(float(text)) == log_value:
            return _yaml_float(text)
    return None


def _prior_flow(prior: SourcePrior, base: SourcePrior | None, *, full: bool) -> str:
    """``{factor: 0.4, spread: 0.6, ...}``; ``full`` writes shared even when 0 and
    ``max_factor: null`` when ``base`` (what a left-out key would keep) has a cap."""
    parts: list[str] = []
    factor = _factor_text(prior.bias_mu)
    parts.append(
        f"factor: {factor}" if factor is not None else f"log_factor: {_float(prior.bias_mu)}"
    )
    parts.append(f"spread: {_float(prior.bias_sigma)}")
    if full or prior.group_sigma != 0:
        parts.append(f"shared: {_float(prior.group_sigma)}")
    parts.append(f"noise: {_float(prior.noise_sigma)}")
    if prior.bias_upper is not None:
        cap = _factor_text(prior.bias_upper)
        parts.append(
            f"max_factor: {cap}"
            if cap is not None
            else f"log_max_factor: {_float(prior.bias_upper)}"
        )
    elif base is not None and base.bias_upper is not None:
        parts.append("max_factor: null")
    return "{" + ", ".join(parts) + "}"


def _g(x: float) -> str:
    return f"{x:.2g}"


def _interval_text(prior: SourcePrior) -> str:
    if prior.fixed:
        return f"fixed at ×{_g(math.exp(prior.bias_mu))}"
    lo, med, hi = prior.factor_interval()
    text = f"median ×{_g(med)}, 90% ×{_g(lo)}–×{_g(hi)}"
    if prior.bias_upper is not None:
        text += f", never above ×{_g(math.exp(prior.bias_upper))}"
    return text


_quote = quote


# --------------------------------------------------------------------------- load


def load_priors(path: str | Path) -> Priors:
    """Read a priors file (YAML; see :func:`dump_priors` for the layout).

    Raises :class:`PriorsFileError` listing every problem with its line, and
    ``FileNotFoundError`` for a missing file.
    """
    path = Path(path)
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise PriorsFileError([f"{path}: not valid UTF-8 at byte {err.start}"]) from None
    return load_priors_text(text, origin=str(path))


def load_priors_text(
    text: str, origin: str = "<text>", *, presets: Mapping[str, Priors] | None = None
) -> Priors:
    """Read priors from YAML ``text``; ``origin`` names it in messages. Empty: defaults.

    ``presets`` are the names a ``preset:`` line may give (default :data:`PRESETS`; the
    preset files themselves are read against the ones read before them). The schema and
    its messages are :mod:`casualty_models.model.priors_schema`'s."""
    presets = PRESETS if presets is None else presets
    return read_priors_text(text, origin, presets, DEFAULT_PRESET)


PRESETS: Mapping[str, Priors] = _read_presets()
"""Named prior settings, one file each in ``casualty_models/presets/``: ``war-military``
(the defaults) first, then the others by name. Their reasoning is in the files'
comments and in ``docs/priors.md``."""


def preset_info() -> Mapping[str, PresetAbout]:
    """What each preset of :data:`PRESETS` is for (its file's ``about:`` section)."""
    return MappingProxyType(dict(_PRESET_ABOUT))
