"""The priors file's schema: a YAML document read into :class:`Priors`, every problem
named with its file and line, all at once.

The schema is a set of `pydantic <https://docs.pydantic.dev>`_ models: pydantic walks
the document, refuses unknown keys (``extra="forbid"``), runs every field's check and
collects every error in one pass. YAML is read with PyYAML's safe composer into nodes,
which carry lines; the nodes become plain values and a map from each key path to its
lines, and each pydantic error's location (``("source_types", "own", "spread")``) is
looked up there to say where it is. The checks raise errors in the file's terms (a
factor, a spread, a cap), and the model's own rules (:class:`SourcePrior`,
:class:`Priors`) are applied to each entry and setting as it is read, so that their
messages too name a line.

Over 500 lines because the schema, the step from YAML nodes to values and lines, and
the wording of the errors are one contract: where a message is raised, what it says and
which line it names are decided in three places that must agree, and are kept together.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import Annotated, Any

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    PrivateAttr,
    ValidationError,
    ValidationInfo,
    create_model,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from casualty_models.claims import SOURCE_TYPES
from casualty_models.model.categories import DEFAULT_RATIO_PRIORS
from casualty_models.model.priors import Priors, SourcePrior

__all__ = ["PRIOR_KEYS", "SCALARS", "TOP_KEYS", "PriorsFileError", "read_priors_text"]

PRIOR_KEYS: tuple[str, ...] = (
    "factor",
    "spread",
    "shared",
    "noise",
    "max_factor",
    "log_factor",
    "log_max_factor",
)

# kind: "float", "float?" (null allowed), "float_inf" (.inf allowed), "int", "int?", "bool"
SCALARS: Mapping[str, tuple[str, str]] = {
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
    "coarse_share": ("float_inf", "spikes+falls share making a chain separate claims (.inf: off)"),
}
CURVE_KEYS = ("level_mu", "level_sigma", "rate_volatility", "knot_days")
RUNNING_KEYS = (
    "running_min_claims",
    "bias_drift",
    "running_noise",
    "running_noise_sd",
    "running_memory",
    "running_level_noise",
    "spike_factor",
    "coarse_share",
)
TOP_KEYS: tuple[str, ...] = (
    "preset",
    "source_types",
    "sources",
    *CURVE_KEYS,
    "link_categories",
    "ratios",
    *RUNNING_KEYS,
)
ABOUT_KEYS: tuple[str, ...] = ("about",)
"""Descriptive only, as in the preset files: what the file is for; no setting."""

Path_ = tuple[str | int, ...]


class PriorsFileError(ValueError):
    """Every problem found in a priors file, each naming the file and line."""

    def __init__(self, problems: Sequence[str]):
        self.problems: list[str] = list(problems)
        n = len(self.problems)
        head = f"{n} problem{'s' if n != 1 else ''} in priors"
        super().__init__(head + ":\n" + "\n".join(f"  - {p}" for p in self.problems))


# ------------------------------------------------------------------- messages


def did_you_mean(word: str, known: Any) -> str:
    close = difflib.get_close_matches(word, list(known), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def describe(value: Any) -> str:
    """A value as a message names it: ``text 'two'``, ``the number 7.5``, ``a list``."""
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"true/false ({'true' if value else 'false'})"
    if isinstance(value, str):
        return f"text {value!r}"
    if isinstance(value, int | float):
        return f"the number {value}"
    return f"a date ({value})" if hasattr(value, "isoformat") else repr(value)


def yaml_float(x: float) -> str:
    """``x`` as a YAML float that reads back exactly (also with a YAML 1.1 reader)."""
    if math.isnan(x):
        return ".nan"
    if math.isinf(x):
        return ".inf" if x > 0 else "-.inf"
    mantissa, e, exponent = repr(x).lower().partition("e")
    if "." not in mantissa:
        mantissa += ".0"
    if not e:
        return mantissa
    sign = exponent[0] if exponent[0] in "+-" else "+"
    return f"{mantissa}e{sign}{exponent.lstrip('+-')}"


def quote(key: str) -> str:
    """A YAML double-quoted key (a source name may hold ``:``, ``#``, ``|``...)."""
    escaped = key.replace("\\", "\\\\").replace('"', '\\"')
    escaped = "".join(c if c.isprintable() else f"\\u{ord(c):04x}" for c in escaped)
    return f'"{escaped}"'


def _under(where: str) -> str:
    return f"under {where}" if where else "at the top level"


# Errors the checks raise; how the location is put before the message:
# "colon": "where: message"; "space": "where message"; "plain": message alone;
# "skip": a problem already reported (a value that could not be read).
def _fail(style: str, message: str, at: Sequence[str] = ()) -> PydanticCustomError:
    return PydanticCustomError(f"cm_{style}", "{message}", {"message": message, "at": list(at)})


class _Invalid:
    """A value that could not be read (its problem is already reported)."""


INVALID = _Invalid()
_NUMBER_TEXT = re.compile(r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?")


def _number(value: Any, *, nullable: bool = False, allow_inf: bool = False) -> float | None:
    if value is INVALID:
        raise _fail("skip", "")
    if value is None and nullable:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        hint = ""
        if isinstance(value, str) and value.strip().lower() in ("inf", "infinity", "+inf"):
            hint = " (write .inf for infinity)"
        elif isinstance(value, str) and _NUMBER_TEXT.fullmatch(value.strip()):
            hint = " (write it without quotes)"
        kind = "a number or null" if nullable else "a number"
        raise _fail("colon", f"expected {kind}, got {describe(value)}{hint}")
    value = float(value)
    if math.isnan(value) or (math.isinf(value) and not allow_inf):
        raise _fail("colon", f"must be a finite number, got {yaml_float(value)}")
    return value


def _integer(value: Any, *, nullable: bool = False) -> int | None:
    if value is INVALID:
        raise _fail("skip", "")
    if value is None and nullable:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        kind = "a whole number or null" if nullable else "a whole number"
        raise _fail("colon", f"expected {kind}, got {describe(value)}")
    return value


def _single(value: Any) -> Any:
    if isinstance(value, dict | list):
        raise _fail("colon", f"expected a single value, got {describe(value)}")
    return value


def _bounded(check: Callable[[float], bool], rule: str, nullable: bool = False) -> Any:
    def validate(value: Any) -> float | None:
        x = _number(_single(value), nullable=nullable)
        if x is not None and not check(x):
            raise _fail("space", f"must be {rule}, got {yaml_float(x)}")
        return x

    return validate


# ------------------------------------------------------------------- the schema

_PRIOR_CHECKS: Mapping[str, Any] = {
    "factor": _bounded(lambda x: x > 0, "> 0 (a share of the truth)"),
    "log_factor": _bounded(lambda x: True, ""),
    "spread": _bounded(lambda x: x >= 0, ">= 0 (0: no own deviation)"),
    "shared": _bounded(lambda x: x >= 0, ">= 0 (0: no shared offset)"),
    "noise": _bounded(lambda x: x > 0, "> 0"),
    "max_factor": _bounded(lambda x: x > 0, "> 0 (null: no cap)", nullable=True),
    "log_max_factor": _bounded(lambda x: True, "", nullable=True),
}

_EXAMPLE = "{factor: 0.4, spread: 0.6, noise: 0.2}"


class _Entry(BaseModel):
    """One prior, ``{factor: ..., spread: ..., ...}``: each key checked on its own."""

    model_config = ConfigDict(extra="forbid", arbitrary_types_allowed=True)

    factor: Any = None
    spread: Any = None
    shared: Any = None
    noise: Any = None
    max_factor: Any = None
    log_factor: Any = None
    log_max_factor: Any = None

    @model_validator(mode="before")
    @classmethod
    def _a_mapping(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            raise _fail("colon", f"expected a mapping such as {_EXAMPLE}, got {describe(data)}")
        return data

    @field_validator(*PRIOR_KEYS, mode="before")
    @classmethod
    def _each(cls, value: Any, info: ValidationInfo) -> Any:
        assert info.field_name is not None
        return _PRIOR_CHECKS[info.field_name](value)

    @model_validator(mode="after")
    def _not_both(self) -> _Entry:
        for a, b in (("factor", "log_factor"), ("max_factor", "log_max_factor")):
            if a in self.model_fields_set and b in self.model_fields_set:
                raise _fail("colon", f"give {a} or {b}, not both", at=[b])
        return self

    def prior(self, base: SourcePrior | None) -> SourcePrior:
        """The prior this entry gives: keys left out keep ``base`` (a source type's
        prior); a per-source entry (``base`` None) needs factor, spread and noise."""
        given = self.model_fields_set
        if base is None:
            have = given | ({"factor"} if "log_factor" in given else set())
            missing = [k for k in ("factor", "spread", "noise") if k not in have]
            if missing:
                raise _fail(
                    "colon",
                    "a per-source prior needs factor, spread and noise "
                    f"(missing: {', '.join(missing)})",
                    at=["."],
                )
        mu = base.bias_mu if base else 0.0
        spread = base.bias_sigma if base else 0.0
        shared = base.group_sigma if base else 0.0
        noise = base.noise_sigma if base else 0.0
        upper = base.bias_upper if base else None
        if "factor" in given:
            mu = math.log(self.factor)
        if "log_factor" in given:
            mu = self.log_factor
        spread = self.spread if "spread" in given else spread
        shared = self.shared if "shared" in given else shared
        noise = self.noise if "noise" in given else noise
        if "max_factor" in given:
            upper = None if self.max_factor is None else math.log(self.max_factor)
        if "log_max_factor" in given:
            upper = self.log_max_factor
        try:  # the model's own rules
            return SourcePrior(mu, spread, noise, upper, shared)
        except ValueError as err:
            keys, text = _translate(str(err).split("; ")[0])
            raise _fail("colon", text, at=[k for k in keys if k in given] or ["."]) from None


class _SourceEntry(_Entry):
    """A per-source prior: a whole prior of its own (factor, spread and noise needed)."""

    _made: SourcePrior | None = PrivateAttr(default=None)

    @model_validator(mode="after")
    def _whole(self) -> _SourceEntry:
        self._made = self.prior(None)
        return self


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


def _mapping_of(data: Any) -> Any:
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise _fail("colon", f"expected a mapping of name: value, got {describe(data)}")
    return data


def _base(info: ValidationInfo) -> Priors:
    base: Priors = (info.context or {})["base"]
    return base


class _SourceTypesBase(BaseModel):
    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _a_mapping(cls, data: Any) -> Any:
        return _mapping_of(data)

    @field_validator(*SOURCE_TYPES, mode="after", check_fields=False)
    @classmethod
    def _prior(cls, entry: _Entry | None, info: ValidationInfo) -> SourcePrior | None:
        assert info.field_name is not None
        if entry is None:
            return None
        return entry.prior(_base(info).source_types[info.field_name])


_SourceTypes = create_model(  # type: ignore[call-overload]
    "_SourceTypes", __base__=_SourceTypesBase, **{t: (_Entry | None, None) for t in SOURCE_TYPES}
)


def _ratio(value: Any) -> tuple[float, float] | None:
    if value is None:
        return None
    if not (isinstance(value, list) and len(value) == 2):
        got = f"a list of {len(value)}" if isinstance(value, list) else describe(value)
        raise _fail("colon", f"expected [median, log-scale sd], got {got}")
    return (value[0], value[1])


class _RatiosBase(BaseModel):
    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _a_mapping(cls, data: Any) -> Any:
        return _mapping_of(data)

    @field_validator(*DEFAULT_RATIO_PRIORS, mode="before", check_fields=False)
    @classmethod
    def _pair(cls, value: Any, info: ValidationInfo) -> tuple[float, float] | None:
        pair = _ratio(value)
        if pair is None:
            return None
        median, sd = pair
        for i, x in enumerate(pair):  # the first bad item, placed on its own line
            try:
                _number(x)
            except PydanticCustomError as err:
                if err.type == "cm_skip":
                    raise
                message = str((err.context or {})["message"])
                raise _fail("colon", message, at=[str(i)]) from None
        assert info.field_name is not None
        pair = (float(median), float(sd))
        try:
            replace(_base(info), ratios={info.field_name: pair})
        except ValueError as err:
            raise _fail("colon", str(err)) from None
        return pair


_Ratios = create_model(  # type: ignore[call-overload]
    "_Ratios",
    __base__=_RatiosBase,
    **{r: (tuple[float, float] | None, None) for r in DEFAULT_RATIO_PRIORS},
)


def _scalar(name: str, value: Any, base: Priors) -> Any:
    kind = SCALARS[name][0]
    value = _single(value)
    if kind == "bool":
        if value is INVALID:
            raise _fail("skip", "")
        if not isinstance(value, bool):
            raise _fail("colon", f"expected true or false, got {describe(value)}")
    elif kind.startswith("int"):
        value = _integer(value, nullable=kind.endswith("?"))
    else:
        value = _number(value, nullable=kind.endswith("?"), allow_inf=kind == "float_inf")
    try:
        replace(base, **{name: value})  # Priors' own checks, one setting at a time
    except (ValueError, TypeError) as err:
        raise _fail("plain", str(err)) from None
    return value


def _named(name: str) -> str:
    if not name.strip():
        raise _fail("plain", "sources: a source name must not be empty", at=["[key]"])
    return name


_SourceName = Annotated[str, AfterValidator(_named)]


class _DocumentBase(BaseModel):
    model_config = ConfigDict(extra="forbid", arbitrary_types_allowed=True)

    @field_validator("preset", mode="before", check_fields=False)
    @classmethod
    def _preset(cls, value: Any, info: ValidationInfo) -> Any:
        presets: Mapping[str, Priors] = (info.context or {})["presets"]
        value = _single(value)
        if value is INVALID:
            raise _fail("skip", "")
        if not isinstance(value, str) or value not in presets:
            raise _fail(
                "plain",
                f"unknown preset {value!r}{did_you_mean(str(value), presets)}; "
                f"known: {', '.join(presets)}",
            )
        return value

    @field_validator("about", mode="before", check_fields=False)
    @classmethod
    def _about(cls, value: Any) -> Any:
        if not isinstance(value, dict):
            raise _fail("colon", "expected a mapping (what the file is for)")
        return value

    @field_validator("sources", mode="after", check_fields=False)
    @classmethod
    def _sources(cls, entries: dict[str, _SourceEntry] | None) -> dict[str, SourcePrior]:
        return {name: entry._made for name, entry in (entries or {}).items() if entry._made}

    @field_validator("sources", mode="before", check_fields=False)
    @classmethod
    def _sources_mapping(cls, data: Any) -> Any:
        return _mapping_of(data)

    @field_validator(*SCALARS, mode="before", check_fields=False)
    @classmethod
    def _setting(cls, value: Any, info: ValidationInfo) -> Any:
        assert info.field_name is not None
        return _scalar(info.field_name, value, _base(info))


_Document = create_model(  # type: ignore[call-overload]
    "_Document",
    __base__=_DocumentBase,
    preset=(Any, None),
    about=(Any, None),
    source_types=(_SourceTypes | None, None),
    sources=(dict[_SourceName, _SourceEntry] | None, None),
    ratios=(_Ratios | None, None),
    **{name: (Any, None) for name in SCALARS},
)


# ------------------------------------------------------------------- YAML to values


class _Lines:
    """Where each value and key of the document is: path -> line (1-based)."""

    def __init__(self) -> None:
        self.value: dict[Path_, int] = {}
        self.key: dict[Path_, int] = {}


def _where(path: Sequence[str | int]) -> str:
    """``source_types.own.spread``, ``sources."IBC"``, ``ratios.missing sd``."""
    out = ""
    for i, part in enumerate(path):
        if isinstance(part, int) and i > 0 and path[0] == "ratios":
            out += " median" if part == 0 else " sd"
        elif i == 1 and path[0] == "sources":
            out += "." + quote(str(part))
        else:
            out += ("." if out else "") + str(part)
    return out


def _values(node: Node, path: Path_, lines: _Lines, problems: list[tuple[int, str]]) -> Any:
    """Plain values of ``node``, recording lines; structural problems recorded."""
    lines.value[path] = node.start_mark.line + 1
    if isinstance(node, MappingNode):
        out: dict[str, Any] = {}
        where = _where(path)
        for key_node, value_node in node.value:
            line = key_node.start_mark.line + 1
            if not isinstance(key_node, ScalarNode):
                problems.append((line, f"a key {_under(where)} must be a name, got a list"))
                continue
            key = str(key_node.value)
            if key in out:
                first = lines.key[(*path, key)]
                problems.append(
                    (line, f"key {key!r} given twice {_under(where)} (first on line {first})")
                )
                continue
            lines.key[(*path, key)] = line
            out[key] = _values(value_node, (*path, key), lines, problems)
        return out
    if isinstance(node, SequenceNode):
        return [_values(item, (*path, i), lines, problems) for i, item in enumerate(node.value)]
    assert isinstance(node, ScalarNode)
    where = _where(path)
    try:
        value = SafeConstructor().construct_object(node)
    except yaml.constructor.ConstructorError:
        problems.append((node.start_mark.line + 1, f"{where}: unsupported YAML tag {node.tag}"))
        return INVALID
    except (yaml.YAMLError, ValueError) as err:
        reason = " ".join(str(err).split())[:200]
        problems.append(
            (node.start_mark.line + 1, f"{where}: cannot read {node.value!r} ({reason})")
        )
        return INVALID
    if node.style is None and isinstance(value, str) and _NUMBER_TEXT.fullmatch(value):
        value = float(value)  # YAML 1.1 reads 1e-5 as text; it is a number
    return value


# ------------------------------------------------------------------- errors to messages

_KNOWN_UNDER: Mapping[str, tuple[str, Sequence[str]]] = {
    "": ("key", (*TOP_KEYS, *ABOUT_KEYS)),
    "source_types": ("source type", SOURCE_TYPES),
    "ratios": ("ratio", tuple(DEFAULT_RATIO_PRIORS)),
}


def _message(error: Any, lines: _Lines) -> tuple[int | None, str] | None:
    loc = tuple(error["loc"])
    kind = error["type"]
    if kind == "cm_skip":
        return None
    if kind == "extra_forbidden":
        *parent, key = loc
        where = _where(parent)
        what, known = _KNOWN_UNDER.get(where, ("key", PRIOR_KEYS))
        text = f"unknown {what} {key!r} {_under(where)}{did_you_mean(str(key), known)}; "
        return lines.key.get(tuple(loc)), text + f"known: {', '.join(known)}"
    if loc and loc[-1] == "[key]":  # a key's own problem: on the key's line
        loc = loc[:-1]
        line = lines.key.get(loc)
        return line, str((error.get("ctx") or {}).get("message", error["msg"]))
    where = _where(loc)
    ctx = error.get("ctx") or {}
    at = [a for a in ctx.get("at", [])]
    line = lines.value.get(tuple(loc))
    for a in at:
        if a == ".":
            line = lines.key.get(tuple(loc), line)
            break
        if a.isdigit() and (*loc, int(a)) in lines.value:
            line = lines.value[(*loc, int(a))]
            where = _where((*loc, int(a)))
            break
        if (*loc, a) in lines.key:
            line = lines.key[(*loc, a)]
            break
    message = str(ctx.get("message", error["msg"]))
    if kind == "cm_colon":
        return line, f"{where}: {message}"
    if kind == "cm_space":
        return line, f"{where} {message}"
    if kind == "cm_plain":
        return line, message
    return line, f"{where}: {error['msg']}"  # a check of pydantic's own


# ------------------------------------------------------------------- reading


def read_priors_text(text: str, origin: str, presets: Mapping[str, Priors], default: str) -> Priors:
    """Priors from YAML ``text``; ``origin`` names it in messages; ``presets`` are the
    names a ``preset:`` line may give, ``default`` the one taken without it."""

    def locate(line: int | None, message: str) -> str:
        return f"{origin}, line {line}: {message}" if line is not None else f"{origin}: {message}"

    defaults = presets.get(default) or Priors()
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None) or getattr(err, "context_mark", None)
        parts = (getattr(err, "context", None), getattr(err, "problem", None))
        reason = " ".join(str(s) for s in parts if s) or str(err)
        line = mark.line + 1 if mark is not None else None
        raise PriorsFileError([locate(line, f"not valid YAML: {reason}")]) from None
    if root is None:
        return defaults
    if not isinstance(root, MappingNode):
        message = f"expected a mapping of setting: value at the top, got {_node_kind(root)}"
        raise PriorsFileError([locate(root.start_mark.line + 1, message)])

    lines = _Lines()
    problems: list[tuple[int, str]] = []
    data = _values(root, (), lines, problems)
    problems = [(line, locate(line, message)) for line, message in problems]
    name = data.get("preset")
    base = presets[name] if isinstance(name, str) and name in presets else defaults
    try:
        doc = _Document.model_validate(data, context={"base": base, "presets": presets})
    except ValidationError as err:
        for error in err.errors():
            found = _message(error, lines)
            if found is not None:
                problems.append((found[0] or 0, locate(found[0], found[1])))
        doc = None
    if problems:
        ordered = sorted(problems, key=lambda p: p[0])  # stable: same line keeps order
        raise PriorsFileError([message for _, message in ordered])
    assert doc is not None
    types = {t: p for t, p in dict(doc.source_types or {}).items() if p is not None}
    ratios = {r: p for r, p in dict(doc.ratios or {}).items() if p is not None}
    given = doc.model_fields_set
    try:
        return Priors(
            source_types={**base.source_types, **types},
            sources={**base.sources, **(doc.sources or {})},
            ratios={**base.ratios, **ratios},
            **{k: getattr(doc, k) if k in given else getattr(base, k) for k in SCALARS},
        )
    except (ValueError, TypeError) as err:  # a combination no single key could show
        raise PriorsFileError([f"{origin}: {err}"]) from None


def _node_kind(node: Node) -> str:
    if isinstance(node, MappingNode):
        return "a mapping"
    if isinstance(node, SequenceNode):
        return "a list"
    return describe(SafeConstructor().construct_object(node))
