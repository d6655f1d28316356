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

import difflib
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from statistics import NormalDist
from types import MappingProxyType
from typing import Any

import yaml
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from casualty_models.claims import SOURCE_TYPES
from casualty_models.model.categories import DEFAULT_RATIO_PRIORS
from casualty_models.model.preset_files import (
    DEFAULT_PRESET,
    PresetAbout,
    preset_about,
    preset_files,
)
from casualty_models.model.priors import DEFAULT_SOURCE_PRIORS, Priors, SourcePrior

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

_PRIOR_KEYS: tuple[str, ...] = (
    "factor",
    "spread",
    "shared",
    "noise",
    "max_factor",
    "log_factor",
    "log_max_factor",
)

_PRIOR_LEGEND: tuple[tuple[str, str], ...] = (
    ("factor", "median factor, figure given ÷ true count (0.4: reports 40% of the truth)"),
    ("spread", "log-scale sd of one speaker's own deviation (0.6: ×/÷1.8; 0: none)"),
    ("shared", "log-scale sd of an offset shared by the type's speakers about one side"),
    ("noise", "log-scale sd of each claim's scatter about the speaker's biased figure"),
    ("max_factor", "a cap the factor stays below (1.0: can only undercount; needs shared 0)"),
    ("log_factor", "natural log of factor, in its place (written when no decimal is exact)"),
    ("log_max_factor", "natural log of max_factor, instead of max_factor"),
)

# kind: "float", "float?" (null allowed), "float_inf" (.inf allowed), "int", "int?", "bool"
_SCALARS: Mapping[str, tuple[str, str]] = MappingProxyType(
    {
        "level_mu": ("float?", "centre of the log daily death rate (null: from the claims)"),
        "level_sigma": ("float", "its prior sd (2.0: a factor of 7.4 either way)"),
        "rate_volatility": ("float", "log daily rate's drift per √day (0.1: sd 0.26 a week)"),
        "knot_days": ("int?", "days between the curve's knots (null: weekly, <= 60 knots)"),
        "link_categories": ("bool", "link wounded, casualties, missing... to killed"),
        "running_min_claims": ("int", "dates a speaker's figures need to be a running tally"),
        "bias_drift": ("float", "a running tally's bias drift per √day (0.01: ×/÷1.2 a year)"),
        "running_noise": ("float", "prior median relative error of a tally's 1-day rise"),
        "running_noise_sd": ("float", "log-scale sd of that prior"),
        "running_memory": ("float", "days over which rises' errors stay correlated"),
        "running_level_noise": ("float", "each figure's error, share of its level (0.2%)"),
        "spike_factor": ("float_inf", "this many times off both neighbours: a spike (.inf: off)"),
        "coarse_share": (
            "float_inf",
            "spikes+falls share making a chain separate claims (.inf: off)",
        ),
    }
)

_CURVE_KEYS = ("level_mu", "level_sigma", "rate_volatility", "knot_days")
_RUNNING_KEYS = (
    "running_min_claims",
    "bias_drift",
    "running_noise",
    "running_noise_sd",
    "running_memory",
    "running_level_noise",
    "spike_factor",
    "coarse_share",
)

_TOP_KEYS: tuple[str, ...] = (
    "preset",
    "source_types",
    "sources",
    *_CURVE_KEYS,
    "link_categories",
    "ratios",
    *_RUNNING_KEYS,
)

# descriptive only, as in the preset files: what the file is for; no setting
_ABOUT_KEYS: tuple[str, ...] = ("about",)

_RATIO_NOTES: Mapping[str, str] = MappingProxyType(
    {"wounded": "wounded per killed", "missing": "missing per killed"}
)


class PriorsFileError(ValueError):
    """Every problem found in a priors file, each naming the file and line."""

    def __init__(self, problems: Sequence[str]):
        self.problems: list[str] = list(problems)
        n = len(self.problems)
        head = f"{n} problem{'s' if n != 1 else ''} in priors"
        super().__init__(head + ":\n" + "\n".join(f"  - {p}" for p in self.problems))


# ------------------------------------------------------------------------- presets


def preset(name: str) -> Priors:
    """The preset ``name`` (see :data:`PRESETS`); unknown names raise ValueError."""
    if name not in PRESETS:
        raise _unknown_preset(name)
    return PRESETS[name]


def _unknown_preset(name: str) -> ValueError:
    return ValueError(
        f"unknown priors preset {name!r}{_did_you_mean(name, PRESETS)}; known: {', '.join(PRESETS)}"
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
    if math.isnan(x):
        return ".nan"
    if math.isinf(x):
        return ".inf" if x > 0 else "-.inf"
    return _yaml_float(repr(x))


def _yaml_float(text: str) -> str:
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


def _quote(key: str) -> str:
    """A YAML double-quoted key (a source name may hold ``:``, ``#``, ``|``...)."""
    escaped = key.replace("\\", "\\\\").replace('"', '\\"')
    escaped = "".join(c if c.isprintable() else f"\\u{ord(c):04x}" for c in escaped)
    return f'"{escaped}"'


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
    preset files themselves are read against the ones read before them)."""
    presets = PRESETS if presets is None else presets
    reader = _Reader(origin, presets)
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None) or getattr(err, "context_mark", None)
        parts = (getattr(err, "context", None), getattr(err, "problem", None))
        reason = " ".join(str(s) for s in parts if s) or str(err)
        line = mark.line + 1 if mark is not None else None
        raise PriorsFileError([reader.locate(line, f"not valid YAML: {reason}")]) from None
    if root is None:
        return presets.get(DEFAULT_PRESET) or Priors()
    if not isinstance(root, MappingNode):
        message = f"expected a mapping of setting: value at the top, got {_describe(root)}"
        raise PriorsFileError([reader.locate(root.start_mark.line + 1, message)])
    return reader.read(root)


class _Skip(Exception):
    """A value had a problem (already recorded): skip it."""


class _Reader:
    def __init__(self, origin: str, presets: Mapping[str, Priors]):
        self.origin = origin
        self.presets = presets
        self.problems: list[tuple[int, str]] = []

    # ----------------------------------------------------------------- problems
    def locate(self, line: int | None, message: str) -> str:
        where = f"{self.origin}, line {line}" if line is not None else self.origin
        return f"{where}: {message}"

    def add(self, line: int | None, message: str) -> None:
        self.problems.append((line or 0, self.locate(line, message)))

    def problem(self, node: Node, message: str) -> None:
        self.add(node.start_mark.line + 1, message)

    def raise_if_any(self) -> None:
        if self.problems:
            ordered = sorted(self.problems, key=lambda p: p[0])  # stable: same line keeps order
            raise PriorsFileError([message for _, message in ordered])

    # ----------------------------------------------------------------- structure
    def items(self, node: MappingNode, where: str) -> dict[str, tuple[Node, Node]]:
        """Key text -> (key node, value node); duplicate and non-text keys reported."""
        out: dict[str, tuple[Node, Node]] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, ScalarNode):
                self.problem(
                    key_node, f"a key {_under(where)} must be a name, got {_describe(key_node)}"
                )
                continue
            key = str(key_node.value)
            if key in out:
                first = out[key][0].start_mark.line + 1
                self.problem(
                    key_node, f"key {key!r} given twice {_under(where)} (first on line {first})"
                )
                continue
            out[key] = (key_node, value_node)
        return out

    def unknown(
        self, key_node: Node, key: str, where: str, known: Sequence[str], what: str = "key"
    ) -> None:
        self.problem(
            key_node,
            f"unknown {what} {key!r} {_under(where)}{_did_you_mean(key, known)}; "
            f"known: {', '.join(known)}",
        )

    # ----------------------------------------------------------------- values
    def scalar(self, node: Node, where: str) -> Any:
        if not isinstance(node, ScalarNode):
            self.problem(node, f"{where}: expected a single value, got {_describe(node)}")
            raise _Skip
        try:
            return SafeConstructor().construct_object(node)
        except yaml.constructor.ConstructorError:
            self.problem(node, f"{where}: unsupported YAML tag {node.tag}")
            raise _Skip from None
        except (yaml.YAMLError, ValueError) as err:
            self.problem(node, f"{where}: cannot read {node.value!r} ({_short(err)})")
            raise _Skip from None

    def number(
        self, node: Node, where: str, *, nullable: bool = False, allow_inf: bool = False
    ) -> float | None:
        value = self.scalar(node, where)
        if value is None and nullable:
            return None
        plain = isinstance(node, ScalarNode) and node.style is None
        if plain and isinstance(value, str) and _NUMBER_TEXT.fullmatch(value):
            value = float(value)  # YAML 1.1 reads 1e-5 as text; it is a number
        if isinstance(value, bool) or not isinstance(value, int | float):
            hint = ""
            if isinstance(value, str) and value.strip().lower() in ("inf", "infinity", "+inf"):
                hint = " (write .inf for infinity)"
            elif isinstance(value, str) and _NUMBER_TEXT.fullmatch(value.strip()):
                hint = " (write it without quotes)"
            kind = "a number or null" if nullable else "a number"
            self.problem(node, f"{where}: expected {kind}, got {_describe(node)}{hint}")
            raise _Skip
        value = float(value)
        if math.isnan(value) or (math.isinf(value) and not allow_inf):
            self.problem(node, f"{where}: must be a finite number, got {_float(value)}")
            raise _Skip
        return value

    def integer(self, node: Node, where: str, *, nullable: bool = False) -> int | None:
        value = self.scalar(node, where)
        if value is None and nullable:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            kind = "a whole number or null" if nullable else "a whole number"
            self.problem(node, f"{where}: expected {kind}, got {_describe(node)}")
            raise _Skip
        return value

    def boolean(self, node: Node, where: str) -> bool:
        value = self.scalar(node, where)
        if not isinstance(value, bool):
            self.problem(node, f"{where}: expected true or false, got {_describe(node)}")
            raise _Skip
        return value

    # ----------------------------------------------------------------- the document
    def read(self, root: MappingNode) -> Priors:
        top = self.items(root, "")
        for key, (key_node, _) in top.items():
            if key not in _TOP_KEYS and key not in _ABOUT_KEYS:
                self.unknown(key_node, key, "", (*_TOP_KEYS, *_ABOUT_KEYS))
        if "about" in top and not isinstance(top["about"][1], MappingNode):
            self.problem(top["about"][1], "about: expected a mapping (what the file is for)")

        presets = self.presets
        base = presets.get(DEFAULT_PRESET) or Priors()
        if "preset" in top:
            node = top["preset"][1]
            try:
                name = self.scalar(node, "preset")
                if not isinstance(name, str) or name not in presets:
                    self.problem(
                        node,
                        f"unknown preset {name!r}{_did_you_mean(str(name), presets)}; "
                        f"known: {', '.join(presets)}",
                    )
                else:
                    base = presets[name]
            except _Skip:
                pass

        types: dict[str, SourcePrior] = {}
        if "source_types" in top:
            for name, (k, v) in self.mapping(top["source_types"][1], "source_types").items():
                if name not in SOURCE_TYPES:
                    self.unknown(k, name, "source_types", SOURCE_TYPES, "source type")
                    continue
                prior = self.prior(k, v, f"source_types.{name}", base.source_types[name])
                if prior is not None:
                    types[name] = prior

        sources: dict[str, SourcePrior] = {}
        if "sources" in top:
            for name, (k, v) in self.mapping(top["sources"][1], "sources").items():
                if not name.strip():
                    self.problem(k, "sources: a source name must not be empty")
                    continue
                prior = self.prior(k, v, f"sources.{_quote(name)}", None)
                if prior is not None:
                    sources[name] = prior

        ratios: dict[str, tuple[float, float]] = {}
        if "ratios" in top:
            for name, (k, v) in self.mapping(top["ratios"][1], "ratios").items():
                if name not in DEFAULT_RATIO_PRIORS:
                    self.unknown(k, name, "ratios", list(DEFAULT_RATIO_PRIORS), "ratio")
                    continue
                pair = self.ratio(v, f"ratios.{name}")
                if pair is None:
                    continue
                try:
                    replace(base, ratios={name: pair})
                except ValueError as err:
                    self.problem(v, f"ratios.{name}: {err}")
                    continue
                ratios[name] = pair

        scalars: dict[str, Any] = {}
        for name, (kind, _) in _SCALARS.items():
            if name not in top:
                continue
            node = top[name][1]
            try:
                if kind == "bool":
                    value: Any = self.boolean(node, name)
                elif kind.startswith("int"):
                    value = self.integer(node, name, nullable=kind.endswith("?"))
                else:
                    value = self.number(
                        node, name, nullable=kind.endswith("?"), allow_inf=kind == "float_inf"
                    )
            except _Skip:
                continue
            try:
                replace(base, **{name: value})  # Priors' own checks, one setting at a time
            except (ValueError, TypeError) as err:
                self.problem(node, str(err))
                continue
            scalars[name] = value

        self.raise_if_any()
        try:
            return Priors(
                source_types={**base.source_types, **types},
                sources={**base.sources, **sources},
                ratios={**base.ratios, **ratios},
                **{name: scalars.get(name, getattr(base, name)) for name in _SCALARS},
            )
        except (ValueError, TypeError) as err:  # a combination no single key could show
            raise PriorsFileError([f"{self.origin}: {err}"]) from None

    def mapping(self, node: Node, where: str) -> dict[str, tuple[Node, Node]]:
        if isinstance(node, ScalarNode) and node.tag.endswith(":null"):
            return {}
        if not isinstance(node, MappingNode):
            self.problem(node, f"{where}: expected a mapping of name: value, got {_describe(node)}")
            return {}
        return self.items(node, where)

    def ratio(self, node: Node, where: str) -> tuple[float, float] | None:
        if not (isinstance(node, SequenceNode) and len(node.value) == 2):
            got = _describe(node)
            if isinstance(node, SequenceNode):
                got = f"a list of {len(node.value)}"
            self.problem(node, f"{where}: expected [median, log-scale sd], got {got}")
            return None
        try:
            median = self.number(node.value[0], f"{where} median")
            sd = self.number(node.value[1], f"{where} sd")
        except _Skip:
            return None
        assert median is not None and sd is not None
        return (median, sd)

    def prior(
        self, key_node: Node, node: Node, where: str, base: SourcePrior | None
    ) -> SourcePrior | None:
        """One source prior from ``{factor: ..., spread: ..., ...}``; keys left out keep
        ``base`` (a source type's prior) or, for a per-source entry (``base`` None),
        need factor, spread and noise."""
        if not isinstance(node, MappingNode):
            self.problem(
                node,
                f"{where}: expected a mapping such as {{factor: 0.4, spread: 0.6, noise: 0.2}}, "
                f"got {_describe(node)}",
            )
            return None
        items = self.items(node, where)
        ok = True
        for key, (k, _) in items.items():
            if key not in _PRIOR_KEYS:
                self.unknown(k, key, where, _PRIOR_KEYS)
                ok = False
        for a, b in (("factor", "log_factor"), ("max_factor", "log_max_factor")):
            if a in items and b in items:
                self.problem(items[b][0], f"{where}: give {a} or {b}, not both")
                ok = False

        mu = base.bias_mu if base else None
        spread = base.bias_sigma if base else None
        shared = base.group_sigma if base else 0.0
        noise = base.noise_sigma if base else None
        upper = base.bias_upper if base else None

        def value(key: str, check: Any, rule: str, nullable: bool = False) -> Any:
            node = items[key][1]
            x = self.number(node, f"{where}.{key}", nullable=nullable)
            if x is not None and not check(x):
                self.problem(node, f"{where}.{key} must be {rule}, got {_float(x)}")
                raise _Skip
            return x

        for key in _PRIOR_KEYS:
            if key not in items:
                continue
            try:
                if key == "factor":
                    mu = math.log(value(key, lambda x: x > 0, "> 0 (a share of the truth)"))
                elif key == "log_factor":
                    mu = value(key, lambda x: True, "")
                elif key == "spread":
                    spread = value(key, lambda x: x >= 0, ">= 0 (0: no own deviation)")
                elif key == "shared":
                    shared = value(key, lambda x: x >= 0, ">= 0 (0: no shared offset)")
                elif key == "noise":
                    noise = value(key, lambda x: x > 0, "> 0")
                elif key == "max_factor":
                    cap = value(key, lambda x: x > 0, "> 0 (null: no cap)", nullable=True)
                    upper = None if cap is None else math.log(cap)
                else:  # log_max_factor
                    upper = value(key, lambda x: True, "", nullable=True)
            except _Skip:
                ok = False

        given = set(items) | ({"factor"} if "log_factor" in items else set())
        missing = [] if base else [k for k in ("factor", "spread", "noise") if k not in given]
        if missing:
            self.problem(
                key_node,
                f"{where}: a per-source prior needs factor, spread and noise "
                f"(missing: {', '.join(missing)})",
            )
            return None
        if mu is None or spread is None or noise is None:  # a per-source key had a problem
            return None
        try:  # SourcePrior's own checks; a key with a problem kept its earlier value
            prior = SourcePrior(mu, spread, noise, upper, shared)
        except ValueError as err:
            for message in str(err).split("; "):
                line_key, text = _translate(message)
                at = next((items[k][0] for k in line_key if k in items), key_node)
                self.problem(at, f"{where}: {text}")
            return None
        return prior if ok else None


_NUMBER_TEXT = re.compile(r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?")

_INTERNAL_NAMES = (
    ("bias_mu", "log_factor"),
    ("bias_sigma", "spread"),
    ("group_sigma", "shared"),
    ("noise_sigma", "noise"),
    ("bias_upper", "log_max_factor"),
)


def _translate(message: str) -> tuple[tuple[str, ...], str]:
    """A :class:`SourcePrior` message in the file's terms, and the keys it is about."""
    if "capped" in message and "group" in message:
        return (
            ("shared", "max_factor", "log_max_factor"),
            "a capped factor (max_factor) cannot have a shared offset (shared > 0): "
            "set shared: 0, or max_factor: null",
        )
    keys = []
    for internal, name in _INTERNAL_NAMES:
        if internal in message:
            message = message.replace(internal, name)
            keys.append(name)
    return tuple(keys), message


def _under(where: str) -> str:
    return f"under {where}" if where else "at the top level"


def _did_you_mean(word: str, known: Any) -> str:
    close = difflib.get_close_matches(word, list(known), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _describe(node: Node) -> str:
    if isinstance(node, MappingNode):
        return "a mapping"
    if isinstance(node, SequenceNode):
        return "a list"
    tag = str(node.tag).rsplit(":", 1)[-1]
    value = node.value
    if tag == "null":
        return "null"
    if tag == "bool":
        return f"true/false ({value})"
    if tag == "str":
        return f"text {value!r}"
    if tag == "timestamp":
        return f"a date ({value})"
    if tag in ("int", "float"):
        return f"the number {value}"
    return f"{value!r} tagged {node.tag}"


def _short(err: Exception) -> str:
    return " ".join(str(err).split())[:200]


PRESETS: Mapping[str, Priors] = _read_presets()
"""Named prior settings, one file each in ``casualty_models/presets/``: ``war-military``
(the defaults) first, then the others by name. Their reasoning is in the files'
comments and in ``docs/priors.md``."""


def preset_info() -> Mapping[str, PresetAbout]:
    """What each preset of :data:`PRESETS` is for (its file's ``about:`` section)."""
    return MappingProxyType(dict(_PRESET_ABOUT))
