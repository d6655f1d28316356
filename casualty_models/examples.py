"""Example claims that ship with the package: ``cm.examples.load("seed")``.

Three claim sets, each with its licence and citation (:func:`info`):

* ``seed``: the four claims of one article two weeks into the 2022 invasion of Ukraine;
* ``war``: the whole Russia–Ukraine war, February 2022 onward, every kind of source
  (233 claims), with the Ukrainian General Staff's daily tally of Russian personnel
  losses (1,598 days);
* ``pnas``: the replication data of Radford et al. (2023), *PNAS*, read with
  ``format="radford2023"`` (4,609 reports of the war's first year, 621 claims).

In a wheel the files sit inside the package (``casualty_models/_example_data/``, copied
from ``seeds/`` at build time, see ``pyproject.toml``); in a clone they are read from
``seeds/`` itself, so there is one copy to edit.

>>> import casualty_models as cm
>>> cm.examples.list()
['seed', 'war', 'pnas']
>>> claims = cm.examples.load("seed")
>>> est = cm.fit(claims, **cm.examples.info("seed").fit_kwargs())  # doctest: +SKIP
"""

from __future__ import annotations

import builtins
import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from casualty_models.claims import ClaimSet
from casualty_models.readers import read_claims

_PACKAGED = Path(__file__).resolve().parent / "_example_data"
"""Where a wheel holds the example files."""
_CLONE = Path(__file__).resolve().parents[1] / "seeds"
"""Where a clone (or an editable install) holds them."""

_MIT_OURS = (
    "MIT, the package's licence: figures compiled by the casualty_models authors from the "
    "cited publications; every row carries its citation and URL, the notes are our own words"
)


@dataclass(frozen=True)
class Example:
    """One example claim set: its files, how to read them, its licence and citation.

    ``files`` are relative to the data folder, read in order and combined into one claim
    set; ``format`` is :func:`casualty_models.read_claims`'s (None: the package's own
    layout). ``start`` and ``as_of`` are the dates the example is meant to be fitted
    with (None: the fit's default). ``licence_files`` are the licence texts that ship
    beside the data, relative to the same folder.
    """

    name: str
    """What :func:`load` and ``estimate --example`` call it."""
    title: str
    """One line on what the claims are about."""
    files: tuple[str, ...]
    """The claims files, relative to the data folder, read in order."""
    licence: str
    """Under what terms the data ships, and whose copyright notices go with it."""
    citation: str
    """How to cite the data (each claim also carries its own citation)."""
    description: str
    """A few sentences on what the claims hold."""
    format: str | None = None
    """The layout :func:`casualty_models.read_claims` reads (None: the package's own)."""
    start: dt.date | None = None
    """The first day of the count the example is meant to be fitted from (None: the claims')."""
    as_of: dt.date | None = None
    """The headline date the example is meant for (None: its latest claim)."""
    licence_files: tuple[str, ...] = ()
    """Licence texts shipped beside the data, relative to the data folder."""

    def fit_kwargs(self) -> dict[str, Any]:
        """The keyword arguments of :func:`casualty_models.fit` the example is meant for:
        ``start`` and ``as_of`` where it names them."""
        return {k: v for k, v in (("start", self.start), ("as_of", self.as_of)) if v is not None}


EXAMPLES: dict[str, Example] = {
    e.name: e
    for e in (
        Example(
            name="seed",
            title="Two weeks into the 2022 invasion: four claims about Russian military dead",
            files=("ukraine_2022-03.csv",),
            licence=_MIT_OURS,
            citation=(
                'Mark Episkopos, "Talks Stall as Russian Army Besieges Ukrainian Cities", '
                "The National Interest, March 2022"
            ),
            description=(
                "Ukraine's government (12,000 killed), the Pentagon (2,000-4,000) and "
                "Russia's defence ministry (498 killed, and 2,870 Ukrainian troops), as of "
                "2 and 11 March 2022."
            ),
        ),
        Example(
            name="war",
            title="The Russia-Ukraine war from February 2022: both sides, every kind of source",
            files=("russia_ukraine_war.csv", "ua_general_staff_daily.csv"),
            licence=(
                f"{_MIT_OURS}. ua_general_staff_daily.csv is compiled from Petro Ivaniuk's "
                "2022-Ukraine-Russia-War-Dataset (MIT License, copyright 2022 Petro "
                "Ivaniuk; its notice is in ua_general_staff_daily.LICENSE)"
            ),
            citation=(
                "Each row cites its publication (citation, url). The daily tally: the "
                "Ukrainian General Staff's reports, as compiled in Petro Ivaniuk, "
                "2022-Ukraine-Russia-War-Dataset, data/russia_losses_personnel.json "
                "(https://github.com/PetroIvaniuk/2022-Ukraine-Russia-War-Dataset)"
            ),
            description=(
                "233 claims by governments, intelligence services, independent "
                "estimates and named-person tallies, and the Ukrainian General Staff's "
                "running tally of Russian personnel losses, 1,598 daily figures. A fit "
                "takes a few minutes."
            ),
            start=dt.date(2022, 2, 24),
            licence_files=("ua_general_staff_daily.LICENSE",),
        ),
        Example(
            name="pnas",
            title="The war's first year as Radford et al. (2023, PNAS) compiled it",
            files=("radford2023/replication-data-pnas.csv",),
            format="radford2023",
            licence=(
                "MIT License, copyright 2023 Benjamin Radford; the file is unchanged and "
                "its licence text is in radford2023/LICENSE"
            ),
            citation=(
                "Benjamin J. Radford, Yaoyao Dai, Niklas Stoehr, Aaron Schein, Mya "
                'Fernandez and Hanif Sajid, "Estimating conflict losses and reporting '
                'biases", Proceedings of the National Academy of Sciences, 2023; data: '
                "https://github.com/benradford/estimating-conflict-losses"
            ),
            description=(
                "4,609 reported figures of the war's first year in seven coarse source "
                "groups, read into 621 claims about military personnel (the reader warns a "
                "ReaderNote saying what became of the other rows)."
            ),
            start=dt.date(2022, 2, 24),
            as_of=dt.date(2023, 2, 23),
            licence_files=("radford2023/LICENSE",),
        ),
    )
}
"""Every example, by name, in the order :func:`list` gives them."""


def list() -> builtins.list[str]:
    """The names of the examples: ``["seed", "war", "pnas"]``."""
    return builtins.list(EXAMPLES)


def info(name: str) -> Example:
    """The example called ``name``: files, licence, citation, suggested dates.

    Raises ValueError naming the known examples when there is none by that name.
    """
    try:
        return EXAMPLES[name]
    except (KeyError, TypeError):
        known = ", ".join(EXAMPLES)
        raise ValueError(f"no example called {name!r}; the examples are: {known}") from None


def _folder() -> Path:
    return _PACKAGED if _PACKAGED.is_dir() else _CLONE


def paths(name: str) -> builtins.list[Path]:
    """Every claims file of the example ``name``, in the order they are read."""
    example = info(name)
    out = [_folder() / f for f in example.files]
    missing = [str(p) for p in out if not p.is_file()]
    if missing:
        raise FileNotFoundError(
            f"example {name!r}: missing {', '.join(missing)} (a broken install? "
            "reinstall casualty-models)"
        )
    return out


def licence_paths(name: str) -> builtins.list[Path]:
    """The licence texts that ship beside the example ``name``'s files."""
    return [_folder() / f for f in info(name).licence_files]


def path(name: str) -> Path:
    """The claims file of the example ``name``; for an example of several files (``war``)
    the first, the one :func:`paths` lists first."""
    return paths(name)[0]


def load(name: str) -> ClaimSet:
    """The example ``name`` read and validated into one :class:`ClaimSet` (several files
    are combined, and checked across files, as the command line does)."""
    example = info(name)
    sets = [read_claims(p, format=example.format) for p in paths(name)]
    return sets[0].add(*sets[1:]) if len(sets) > 1 else sets[0]


__all__ = ["EXAMPLES", "Example", "info", "licence_paths", "list", "load", "path", "paths"]
