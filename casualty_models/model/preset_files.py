"""The preset files shipped in ``casualty_models/presets/``: one YAML file per preset.

A preset file is a priors file (read by :mod:`casualty_models.model.priors_file`) with an
``about:`` section that says what it is for. Adding a file adds a preset: its name is
the file's stem, and ``war-military`` (the package defaults) comes first, the others in
alphabetical order. This module finds the files and reads their ``about:`` sections;
turning a file into :class:`~casualty_models.model.priors.Priors` is ``priors_file``'s job.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from importlib.abc import Traversable
from types import MappingProxyType

import yaml

from casualty_models.claims import SOURCE_TYPES

__all__ = ["DEFAULT_PRESET", "PresetAbout", "preset_about", "preset_files"]

DEFAULT_PRESET = "war-military"
"""The preset equal to the package defaults."""

_FOLDER = "presets"
_SUFFIX = ".yaml"


@dataclass(frozen=True)
class PresetAbout:
    """What a preset is for, from its file's ``about:`` section.

    ``for_`` is one line on when to use it (``casualty-models priors --list``),
    ``in_short`` one line on what it assumes, ``summary`` a few lines for the head of a
    dumped file, and ``roles`` what each source type stands for under it.
    """

    name: str
    for_: str
    in_short: str
    summary: str
    roles: Mapping[str, str]


def _folder() -> Traversable:
    return resources.files("casualty_models").joinpath(_FOLDER)


def preset_files() -> dict[str, Traversable]:
    """Preset name -> its file, ``war-military`` first, the others by name."""
    found = {
        entry.name.removesuffix(_SUFFIX): entry
        for entry in _folder().iterdir()
        if entry.name.endswith(_SUFFIX) and entry.is_file()
    }
    if DEFAULT_PRESET not in found:
        raise RuntimeError(f"the package has no {DEFAULT_PRESET}{_SUFFIX} in {_FOLDER}/")
    names = [DEFAULT_PRESET, *sorted(n for n in found if n != DEFAULT_PRESET)]
    return {n: found[n] for n in names}


def preset_about(name: str, text: str) -> PresetAbout:
    """The ``about:`` section of preset ``name``'s file ``text``; a preset file that
    lacks one, or a role for a source type, is a packaging error (RuntimeError)."""
    doc = yaml.safe_load(text) or {}
    about = doc.get("about") if isinstance(doc, dict) else None
    where = f"preset file {name}{_SUFFIX}"
    if not isinstance(about, dict):
        raise RuntimeError(f"{where}: needs an about: section")
    texts = {k: about.get(k) for k in ("for", "in_short", "summary")}
    missing = [k for k, v in texts.items() if not (isinstance(v, str) and v.strip())]
    roles = about.get("roles")
    if not isinstance(roles, dict):
        missing.append("roles")
        roles = {}
    missing += [f"roles.{t}" for t in SOURCE_TYPES if not isinstance(roles.get(t), str)]
    extra = [k for k in about if k not in ("for", "in_short", "summary", "roles")]
    extra += [f"roles.{t}" for t in roles if t not in SOURCE_TYPES]
    if missing or extra:
        raise RuntimeError(f"{where}: about: missing {missing}, unknown {extra}")
    return PresetAbout(
        name=name,
        for_=str(texts["for"]).strip(),
        in_short=str(texts["in_short"]).strip(),
        summary=str(texts["summary"]).strip(),
        roles=MappingProxyType({t: str(roles[t]) for t in SOURCE_TYPES}),
    )
