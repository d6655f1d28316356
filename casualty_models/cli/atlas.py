"""``casualty-models atlas fit|check``: the bias atlas (docs/atlas.md).

``atlas check`` reads and checks the atlas folder (every problem at once) and says what
it holds. ``atlas fit`` fits the atlas model and writes the ``historical`` presets
(``historical.yaml``, ``historical-civilian.yaml``) into the package's preset folder,
or into ``--out``: each source type's prior is the atlas's predictive for a new event,
with the derivation in the file's comments.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from casualty_models.cli.common import EXIT_BAD_INPUT, EXIT_OK, Progress, stderr
from casualty_models.cli.options import int_at_least

if TYPE_CHECKING:
    from casualty_models.atlas import Atlas

PRESET_FOLDER = Path(__file__).resolve().parents[1] / "presets"
"""Where ``atlas fit`` writes by default: the package's preset files."""


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    atlas = sub.add_parser(
        "atlas",
        help="the bias atlas of past events: check it, or fit it and write the historical "
        "priors presets (docs/atlas.md)",
    )
    what = atlas.add_subparsers(dest="atlas_command", metavar="ACTION", required=True)
    check = what.add_parser("check", help="read and check the atlas data; say what it holds")
    fit = what.add_parser(
        "fit",
        help="fit the atlas model and write the historical presets (--priors historical)",
    )
    for p in (check, fit):
        p.add_argument(
            "--atlas",
            type=Path,
            metavar="DIR",
            help="the atlas folder (default: seeds/bias_atlas)",
        )
    fit.add_argument(
        "--out",
        type=Path,
        metavar="DIR",
        help=f"where the preset files go (default: the package's {PRESET_FOLDER.name}/ folder)",
    )
    fit.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    fit.add_argument(
        "--draws", type=int_at_least(100), default=2000, help="draws per chain (default 2000)"
    )
    fit.add_argument(
        "--tune", type=int_at_least(100), default=1000, help="tuning steps (default 1000)"
    )
    fit.add_argument(
        "--weak",
        action="store_true",
        help="also fit the figures of weak_claims.csv (left out by default)",
    )
    fit.add_argument(
        "--no-early",
        action="store_true",
        help="leave out the early-claim covariate",
    )
    fit.add_argument("--quiet", action="store_true", help="no progress lines")


def run(args: argparse.Namespace) -> int:
    from casualty_models.atlas import AtlasError, load_atlas

    try:
        atlas = load_atlas(args.atlas)
    except AtlasError as err:
        stderr(f"error: {err}")
        return EXIT_BAD_INPUT
    if args.atlas_command == "check":
        obs = atlas.observations()
        print(
            f"OK: {len(atlas.names)} events, "
            f"{sum(len(c) for c in atlas.claims.values())} claims "
            f"({len(obs)} scored against {len(atlas.later)} later counts), "
            f"{sum(len(c) for c in atlas.weak.values())} weak claims left out "
            f"({atlas.origin})"
        )
        return EXIT_OK
    return _fit(args, atlas)


def _fit(args: argparse.Namespace, atlas: Atlas) -> int:
    import logging

    from casualty_models.atlas.model import fit_atlas
    from casualty_models.atlas.preset import write_presets

    say = Progress(args.quiet)
    say(f"fitting the atlas ({args.draws} draws x 2 chains after {args.tune} tuning steps)")
    logging.getLogger("pymc").setLevel(logging.ERROR)
    fit = fit_atlas(
        atlas,
        draws=args.draws,
        tune=args.tune,
        random_seed=args.seed,
        early=not args.no_early,
        include_weak=args.weak,
    )
    diag = fit.diagnostics()
    say(
        f"done: largest R-hat {diag['max_rhat']:.3f}, smallest ESS {diag['min_ess']:.0f}, "
        f"{diag['divergences']} divergences"
    )
    table = fit.cells()
    cols = ["cell", "claims", "events", "factor", "low_90", "high_90", "log_sd", "shared_share"]
    print(table[cols].to_string(index=False, float_format=lambda x: f"{x:.2f}"))
    if fit.early:
        e = fit.early_effect()
        print(
            f"early-claim slope {e['median']:.2f} (90% {e['low_90']:.2f} to {e['high_90']:.2f}): "
            f"a figure dated at an event's start reads x{e['factor_at_start']:.2f}"
        )
    paths = write_presets(fit, args.out or PRESET_FOLDER, atlas=atlas, command=_command(args))
    for path in paths:
        print(f"wrote {path}")
    return EXIT_OK


def _command(args: argparse.Namespace) -> str:
    """The command line that made these presets (options left at their defaults omitted)."""
    parts = ["casualty-models atlas fit"]
    parts += [
        f"--{k} {getattr(args, k)}"
        for k, d in (("seed", 1), ("draws", 2000), ("tune", 1000))
        if getattr(args, k) != d
    ]
    parts += [f"--{k.replace('_', '-')}" for k in ("weak", "no_early") if getattr(args, k)]
    return " ".join(parts)
