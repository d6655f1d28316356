"""``casualty-models history DIR``: plot ``history.csv`` of an output folder, the
estimate run by run beside the claims (``history.png``)."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from casualty_models._format import level_pct, people, signed_pct
from casualty_models.cli.common import EXIT_BAD_INPUT, EXIT_OK, EXIT_USAGE, stderr


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    hist = sub.add_parser(
        "history",
        help="plot how the estimate moved from update to update (history.png)",
    )
    hist.add_argument("dir", metavar="DIR", help="an output folder holding history.csv")
    hist.add_argument(
        "--series",
        metavar="SIDE|CATEGORY",
        help="the series to plot (default: every series estimable in some run)",
    )
    hist.add_argument(
        "--by",
        choices=("published", "run"),
        default="published",
        help="x axis: the latest publication date among each run's claims (default), or "
        "the date the run was made",
    )
    hist.add_argument(
        "--out", type=Path, metavar="FILE", help="the plot file (default: DIR/history.png)"
    )


def run(args: argparse.Namespace) -> int:
    """Plot history.csv of an output folder: the estimate run by run, beside the claims."""
    from casualty_models.history import HistoryError, read_history

    folder = Path(args.dir)
    if not folder.is_dir():
        stderr(f"error: not a folder: {folder}")
        return EXIT_BAD_INPUT
    path = folder / "history.csv"
    if not path.is_file():
        stderr(
            f"error: {folder} holds no history.csv: `casualty-models update {folder} "
            "CLAIMS...` writes one, a row per run"
        )
        return EXIT_BAD_INPUT
    try:
        hist = read_history(path)
    except HistoryError as err:
        stderr(f"error: {err}")
        return EXIT_BAD_INPUT
    known = list(dict.fromkeys(zip(hist["side"], hist["category"], strict=True)))
    if args.series is not None:
        side, sep, category = args.series.partition("|")
        if not sep or (side, category) not in known:
            names = ", ".join(f"{a}|{b}" for a, b in known)
            stderr(f"error: --series {args.series!r}: not a series of the history ({names})")
            return EXIT_USAGE
        chosen = [(side, category)]
    else:
        shown = hist[hist["estimable"].astype(bool)]
        chosen = [k for k in known if k in set(zip(shown["side"], shown["category"], strict=True))]
        chosen = chosen or known[:1]
    claims = None
    if (folder / "estimate.nc").is_file():
        from casualty_models.estimate import load

        try:
            claims = load(folder / "estimate.nc").claims
        except (OSError, ValueError, KeyError) as err:
            stderr(
                f"warning: the claims are not drawn: cannot read {folder / 'estimate.nc'}: {err}"
            )
    os.environ.setdefault("MPLBACKEND", "Agg")
    import matplotlib.pyplot as plt

    from casualty_models._atomic import atomic_write_with
    from casualty_models.plots.history import plot_history

    fig, axes = plt.subplots(
        len(chosen), 1, figsize=(8.0, 3.6 * len(chosen)), layout="constrained", squeeze=False
    )
    by = {"published": "published_by", "run": "run_at"}[args.by]
    for ax, series in zip(axes[:, 0], chosen, strict=True):
        plot_history(hist, claims, series=series, by=by, ax=ax)
    target = args.out or folder / "history.png"
    try:
        atomic_write_with(target, lambda tmp: fig.savefig(tmp, format="png", dpi=120))
    except OSError as err:
        stderr(f"error: cannot write {target}: {err}")
        return EXIT_BAD_INPUT
    finally:
        plt.close(fig)
    from casualty_models.model.priors import DEFAULT_LEVEL

    pct = level_pct(DEFAULT_LEVEL)
    for r in hist.to_dict(orient="records"):
        if (r["side"], r["category"]) not in chosen:
            continue
        head = f"run {r['run']} ({r['n_claims']} claims published by {r['published_by']:%Y-%m-%d}"
        head += f", as of {r['as_of']:%Y-%m-%d}): {r['side']} {r['category']} "
        if r["estimable"] and r["median"] == r["median"]:
            change = r["change_pct"]
            print(
                head + f"{people(r['median'])} ({pct}% interval {people(r[f'low_{pct}'])}–"
                f"{people(r[f'high_{pct}'])})"
                + (f", {signed_pct(change)}" if change == change else "")
            )
        else:
            print(head + "not estimable")
    print(f"Plot in {target}")
    return EXIT_OK
