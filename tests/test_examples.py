"""cm.examples and the command line's `examples` and `estimate --example` (no fitting)."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest

import casualty_models as cm
from casualty_models.cli import main

ROOT = Path(__file__).resolve().parents[1]


def test_list_names_the_seed_the_war_and_the_pnas_data():
    assert cm.examples.list() == ["seed", "war", "pnas"]


def test_the_seed_example_is_the_seed_file():
    assert cm.examples.path("seed") == ROOT / "seeds" / "ukraine_2022-03.csv"  # in a clone
    claims = cm.examples.load("seed")
    assert isinstance(claims, cm.ClaimSet)
    assert claims.fingerprint == cm.read_claims(ROOT / "seeds" / "ukraine_2022-03.csv").fingerprint


def test_the_war_example_is_both_files_read_as_one_set():
    files = cm.examples.paths("war")
    assert [p.name for p in files] == ["russia_ukraine_war.csv", "ua_general_staff_daily.csv"]
    assert cm.examples.path("war") == files[0]
    claims = cm.examples.load("war")
    parts = [cm.read_claims(p) for p in files]
    assert len(claims) == sum(len(p) for p in parts) == 233 + 1598
    assert claims.fingerprint == parts[0].add(parts[1]).fingerprint
    assert cm.examples.info("war").fit_kwargs() == {"start": cm.examples.info("war").start}


def test_the_pnas_example_is_read_in_its_own_layout():
    info = cm.examples.info("pnas")
    assert info.format == "radford2023"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        claims = cm.examples.load("pnas")
    assert len(claims) == 621  # docs/peers.md
    assert any(issubclass(w.category, cm.ReaderNote) for w in caught)
    assert {k: str(v) for k, v in info.fit_kwargs().items()} == {
        "start": "2022-02-24",
        "as_of": "2023-02-23",
    }


@pytest.mark.parametrize("name", ["seed", "war", "pnas"])
def test_every_example_has_a_licence_a_citation_and_its_licence_files(name):
    info = cm.examples.info(name)
    assert "MIT" in info.licence and info.citation and info.description
    for text in cm.examples.licence_paths(name):
        assert "Permission is hereby granted" in text.read_text(encoding="utf-8")


def test_an_unknown_example_names_the_known_ones():
    with pytest.raises(ValueError, match="the examples are: seed, war, pnas"):
        cm.examples.load("seeds")


def test_cli_examples_lists_them(capsys):
    assert main(["examples"]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert [line.split()[0] for line in lines[:3]] == ["seed", "war", "pnas"]
    assert "estimate --example NAME" in out


def test_cli_examples_name_shows_files_licence_and_citation(capsys):
    assert main(["examples", "pnas"]) == 0
    out = capsys.readouterr().out
    assert str(cm.examples.path("pnas")) in out
    assert "radford2023" in out and "licence" in out and "Radford" in out
    assert "--example pnas --start 2022-02-24 --as-of 2023-02-23" in out
    assert str(cm.examples.licence_paths("pnas")[0]) in out


def test_cli_examples_unknown_name_is_a_usage_error(capsys):
    assert main(["examples", "nope"]) == 2
    assert "the examples are: seed, war, pnas" in capsys.readouterr().err


def test_estimate_example_fits_the_example_files_at_its_dates(tmp_path, monkeypatch):
    """--example NAME: the example's files become CLAIMS, its format and dates the
    defaults; given options win."""
    seen = {}

    def fake(args, progress, claims, kwargs, previous=None):
        seen.update(claims=claims, kwargs=kwargs, format=args.format)
        return 0

    monkeypatch.setattr("casualty_models.cli.estimate.fit_and_write", fake)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", cm.ReaderNote)
        args = ["estimate", "--example", "pnas", "--as-of", "2022-06-01"]
        assert main([*args, "--out", str(tmp_path / "o"), "--quiet"]) == 0
    assert seen["format"] == "radford2023" and len(seen["claims"]) == 621
    assert str(seen["kwargs"]["start"]) == "2022-02-24"
    assert str(seen["kwargs"]["as_of"]) == "2022-06-01"  # given, so not the example's


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["estimate"], "required: CLAIMS (or --example NAME)"),
        (["estimate", "--example", "nope"], "no example called 'nope'"),
        (["estimate", "x.csv", "--example", "seed"], "not both"),
    ],
)
def test_estimate_example_usage_errors(args, message, tmp_path, capsys):
    out = tmp_path / "out"
    assert main([*args, "--out", str(out)]) == 2
    assert message in capsys.readouterr().err
    assert not out.exists()
