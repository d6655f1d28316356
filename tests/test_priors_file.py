"""Priors files: dump and load round trips, presets, and every problem named by file and line.

No sampling: every test runs in milliseconds.
"""

from __future__ import annotations

import math
import re
from dataclasses import fields, replace
from pathlib import Path

import pytest
import yaml
from yaml.nodes import MappingNode, Node, SequenceNode

import casualty_models as cm
from casualty_models.model.priors_file import (
    PRESETS,
    PriorsFileError,
    dump_priors,
    load_priors,
    load_priors_text,
    preset,
    priors_from,
)

ROOT = Path(__file__).resolve().parents[1]
PRIOR_KEYS = ("factor", "spread", "shared", "noise", "max_factor")


def write(tmp_path: Path, text: str, name: str = "priors.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def problems_of(tmp_path: Path, text: str) -> tuple[Path, list[str]]:
    path = write(tmp_path, text)
    with pytest.raises(PriorsFileError) as info:
        load_priors(path)
    return path, info.value.problems


def custom_priors() -> cm.Priors:
    """Every setting away from its default, names that need quoting, a log factor no
    decimal reproduces, and the tally's cap removed."""
    odd_mu = math.log(0.4) + 0.1  # a shifted prior: no short decimal factor
    return cm.Priors(
        source_types={
            "own": cm.SourcePrior(odd_mu, 0.7, 0.25, None, 0.45),
            "tally": cm.SourcePrior.from_factor(0.7, spread=0.2, noise=0.03),
            "neutral": cm.SourcePrior(1e-17, 0.31, 0.2, None, 0.3),
            "independent": cm.SourcePrior.from_factor(1.3, spread=1e-05, noise=0.1, max_factor=2.5),
        },
        sources={
            "Iraq Body Count": cm.SourcePrior.from_factor(
                0.6, spread=0.3, noise=0.05, max_factor=1.0
            ),
            'Ministry: "A" # 1|side b': cm.SourcePrior.from_factor(3.0, spread=0.5, noise=0.2),
            "Минобороны": cm.SourcePrior.from_factor(0.3, spread=0.4, shared=0.2, noise=0.2),
            "two\nlines\tand a \\": cm.SourcePrior.from_factor(1.0, spread=0.1, noise=0.1),
        },
        level_mu=-3.25,
        level_sigma=1.5,
        rate_volatility=0.07,
        knot_days=14,
        ratios={"wounded": (2.5, 0.4)},
        link_categories=False,
        running_min_claims=30,
        bias_drift=0.02,
        running_noise=0.25,
        running_noise_sd=0.6,
        running_memory=5.0,
        running_level_noise=0.001,
        spike_factor=math.inf,
        coarse_share=math.inf,
    )


# --------------------------------------------------------------------------- presets


def test_war_military_preset_is_exactly_the_defaults():
    assert preset("war-military") == cm.Priors()
    assert PRESETS["war-military"] == cm.Priors()
    # the defaults first, then every file of casualty_models/presets/ by name
    assert next(iter(PRESETS)) == "war-military"
    assert list(PRESETS)[1:] == sorted(list(PRESETS)[1:])
    assert {"civilian", "disaster", "epidemic"} <= set(PRESETS)


def test_each_file_in_the_presets_folder_is_a_preset_with_its_reasoning():
    from casualty_models.model.priors_file import preset_info

    folder = ROOT / "casualty_models" / "presets"
    files = {p.stem: p for p in folder.glob("*.yaml")}
    assert set(files) == set(PRESETS) == set(preset_info())
    for name, path in files.items():
        text = path.read_text(encoding="utf-8")
        # the file is itself a priors file, read to the preset
        assert load_priors_text(text) == PRESETS[name]
        # its reasoning is in comments beside the numbers, not only in docs/priors.md
        assert sum(line.lstrip().startswith("#") for line in text.splitlines()) >= 5
        about = preset_info()[name]
        assert about.for_ and about.in_short and about.summary
        assert set(about.roles) == set(cm.Priors().source_types)


def test_epidemic_preset_is_what_its_reasoning_says():
    epi, war = PRESETS["epidemic"], PRESETS["war-military"]
    # a confirmed count is no floor of the excess: capped at 1.6, not 1
    tally = epi.for_type("tally")
    assert tally.bias_upper == pytest.approx(math.log(1.6))
    assert tally.factor_interval()[2] > 1.2
    assert tally.bias_sigma == 0.9
    # a government plays its toll down, less than a side its war dead
    assert epi.for_type("own").factor_interval()[1] == pytest.approx(0.7)
    # excess-death estimates: unbiased, a little wider than the war default
    assert epi.for_type("independent").factor_interval()[1] == pytest.approx(1.0)
    assert epi.for_type("independent").log_sd == pytest.approx(math.hypot(0.15, 0.15))
    assert epi.for_type("enemy") == war.for_type("enemy")  # not measured: default kept
    assert replace(epi, source_types={}) == replace(war, source_types={})


def test_a_preset_file_may_keep_its_about_section_when_copied():
    text = (ROOT / "casualty_models" / "presets" / "epidemic.yaml").read_text(encoding="utf-8")
    assert load_priors_text(text + "level_sigma: 3\n") == replace(
        PRESETS["epidemic"], level_sigma=3.0
    )
    with pytest.raises(PriorsFileError, match=r"line 1: about: expected a mapping"):
        load_priors_text("about: 3\n")


def test_unknown_preset_lists_the_names():
    known = ", ".join(PRESETS)
    assert known.startswith("war-military, civilian, disaster, epidemic")
    with pytest.raises(ValueError) as info:
        preset("civillian")
    assert str(info.value).endswith(f"'civillian' (did you mean 'civilian'?); known: {known}")
    with pytest.raises(ValueError, match=f"known: {known}$"):
        dump_priors(preset="nope")


def test_presets_say_what_their_documentation_says():
    civ, dis, war = PRESETS["civilian"], PRESETS["disaster"], PRESETS["war-military"]
    # civilian: the side responsible admits a fraction, the victims' side is centred on 1
    assert civ.for_type("enemy").factor_interval()[1] == pytest.approx(0.2)
    assert civ.for_type("own").factor_interval()[1] == pytest.approx(1.0)
    # disaster: a government errs either way, more widely than a side about its own dead
    assert dis.for_type("own").factor_interval()[1] == pytest.approx(1.0)
    assert dis.for_type("own").log_sd > war.for_type("own").log_sd
    assert dis.for_type("enemy") == war.for_type("enemy")  # not expected; default kept
    # surveys are noisier for civilians and disasters than for soldiers
    for p in (civ, dis):
        assert p.for_type("independent").log_sd > war.for_type("independent").log_sd
        assert p.for_type("tally").bias_upper == 0.0  # lists stay lower bounds
        assert p.for_type("known") == war.for_type("known")
    # presets change only the bias priors
    for p in (civ, dis):
        assert replace(p, source_types={}) == replace(war, source_types={})


def test_docs_tables_match_the_presets():
    """docs/priors.md gives each preset's 90% intervals; they are the presets' own."""
    doc = (ROOT / "docs" / "priors.md").read_text(encoding="utf-8")
    for name, priors in PRESETS.items():
        section = doc.split(f"\n## {name}\n", 1)[1].split("\n## ", 1)[0]
        for source_type, prior in priors.source_types.items():
            row = next(
                (line for line in section.splitlines() if line.startswith(f"| `{source_type}`")),
                None,
            )
            assert row is not None, (name, source_type)
            if prior.fixed:
                assert "fixed" in row
                continue
            lo, med, hi = prior.factor_interval()
            assert f"×{lo:.2g} – ×{hi:.2g}" in row, (name, source_type, row)
            assert f"×{med:.2g}" in row, (name, source_type, row)


# ------------------------------------------------------------------------- round trips


@pytest.mark.parametrize("name", list(PRESETS))
def test_every_preset_round_trips_exactly(name):
    text = dump_priors(preset=name)
    back = load_priors_text(text)
    assert back == PRESETS[name]
    assert back.to_dict() == PRESETS[name].to_dict()
    assert dump_priors(PRESETS[name]) == text  # the preset is recognised without its name


def test_defaults_round_trip_and_the_default_dump_is_the_war_military_preset():
    assert dump_priors() == dump_priors(cm.Priors()) == dump_priors(preset="war-military")
    assert load_priors_text(dump_priors()) == cm.Priors()


def test_custom_settings_round_trip_exactly(tmp_path):
    p = custom_priors()
    text = dump_priors(p)
    assert text.startswith("# casualty_models priors: custom settings")
    assert load_priors(write(tmp_path, text)) == p
    # every Priors field was moved away from its default, so all of them are written
    moved = {
        f.name for f in fields(cm.Priors) if getattr(p, f.name) != getattr(cm.Priors(), f.name)
    }
    assert moved == {f.name for f in fields(cm.Priors)}


def test_every_priors_setting_has_a_key_in_the_file():
    from casualty_models.model.priors_file import _TOP_KEYS

    assert {f.name for f in fields(cm.Priors)} == set(_TOP_KEYS) - {"preset"}


def test_factor_is_the_shortest_exact_decimal_else_log_factor():
    text = dump_priors(custom_priors())
    # a shifted log factor: the decimal needs more digits, and reads back to the same log
    own = re.search(r"^  own: \{factor: ([0-9.]+),", text, re.M)
    assert own is not None and len(own.group(1)) > 6
    assert math.log(float(own.group(1))) == math.log(0.4) + 0.1
    assert "  own: {factor: 0.4, spread: 0.6, shared: 0.5, noise: 0.2}" in dump_priors()
    # exp(1e-17) is 1.0: no decimal has the log 1e-17, so the log is written
    assert "  neutral: {log_factor: 1.0e-17, spread: 0.31" in text
    assert "tally: {factor: 0.7, spread: 0.2, shared: 0.0, noise: 0.03, max_factor: null}" in text
    assert "spread: 1.0e-05" in text  # a YAML 1.1 reader needs the dot


def test_a_plain_yaml_reader_reads_the_numbers_as_numbers():
    for text in (dump_priors(), dump_priors(custom_priors())):
        doc = yaml.safe_load(text)
        for entry in doc["source_types"].values():
            assert all(isinstance(entry[k], float) for k in entry if k != "max_factor")
        assert isinstance(doc["running_level_noise"], float)
        assert isinstance(doc["level_sigma"], float)


def test_dump_comments_every_key():
    text = dump_priors(custom_priors())
    lines = text.splitlines()
    flow_keys: set[str] = set()

    def walk(node: Node, in_flow: bool) -> None:
        if isinstance(node, MappingNode):
            for key, value in node.value:
                line = key.start_mark.line
                own = "#" in lines[line]
                above = line > 0 and lines[line - 1].lstrip().startswith("#")
                assert own or above, f"no comment for key {key.value!r}: {lines[line]!r}"
                if node.flow_style:
                    flow_keys.add(key.value)
                walk(value, in_flow or bool(node.flow_style))
        elif isinstance(node, SequenceNode):
            for item in node.value:
                walk(item, in_flow)

    root = yaml.compose(text)
    assert root is not None
    walk(root, False)
    # the keys inside {factor: ..., spread: ...} are each explained in the legend
    assert flow_keys >= set(PRIOR_KEYS) | {"log_factor"}
    for key in flow_keys:
        assert re.search(rf"^#\s+{key}:\s+\S", text, re.M), key


@pytest.mark.parametrize("name", list(PRESETS))
def test_header_names_the_preset_and_its_reasoning(name):
    text = dump_priors(preset=name)
    assert text.splitlines()[0] == f"# casualty_models priors, preset {name} (exactly the preset)"
    assert f"docs/priors.md#{name}" in text
    changed = PRESETS[name].with_source_type("own", bias_sigma=0.9)
    assert f"preset {name} (changed from the preset)" in dump_priors(changed, preset=name)


def test_each_type_line_shows_its_prior_interval():
    text = dump_priors()
    assert "  #   one speaker's factor: median ×0.4, 90% ×0.11–×1.4\n  own: {" in text
    assert "median ×0.49, 90% ×0.19–×0.91, never above ×1\n  tally: {" in text
    assert "fixed at ×1\n  known: {" in text


# ----------------------------------------------------------------------- partial files


def test_empty_and_comment_only_files_are_the_defaults(tmp_path):
    assert load_priors(write(tmp_path, "")) == cm.Priors()
    assert load_priors_text("# nothing here\n\n") == cm.Priors()
    assert load_priors_text("{}") == cm.Priors()
    assert load_priors_text("source_types:\nsources:\nratios:\n") == cm.Priors()


def test_keys_left_out_keep_the_named_presets_values(tmp_path):
    text = "preset: civilian\nsource_types:\n  enemy: {factor: 0.1}\nlevel_sigma: 3\n"
    got = load_priors(write(tmp_path, text))
    civ = PRESETS["civilian"]
    expected = replace(civ.with_source_type("enemy", bias_mu=math.log(0.1)), level_sigma=3.0)
    assert got == expected
    assert got.for_type("enemy").bias_sigma == civ.for_type("enemy").bias_sigma == 0.8
    assert got.for_type("tally") == civ.for_type("tally")


def test_keys_left_out_keep_the_defaults_without_a_preset():
    got = load_priors_text("source_types:\n  own:\n    spread: 0.9\nratios: {wounded: [2.0, 0.4]}")
    assert got == cm.Priors(
        source_types={"own": cm.SourcePrior.from_factor(0.4, spread=0.9, shared=0.5, noise=0.2)},
        ratios={"wounded": (2.0, 0.4)},
    )
    assert got.ratios["missing"] == cm.Priors().ratios["missing"]


def test_a_cap_is_removed_with_null_and_a_log_factor_is_accepted():
    got = load_priors_text(
        "source_types:\n  tally: {max_factor: null, shared: 0.2, log_factor: -1}"
    )
    assert got.for_type("tally") == cm.SourcePrior(-1.0, 0.6, 0.05, None, 0.2)


def test_per_source_priors_take_factor_spread_and_noise():
    got = load_priors_text(
        'sources:\n  "Russian MoD|ukraine": {factor: 3, spread: 0.5, noise: 0.2}\n'
        "  IBC: {factor: 0.6, spread: 0.3, noise: 0.05, max_factor: 1}\n"
    )
    assert got.sources == {
        "Russian MoD|ukraine": cm.SourcePrior.from_factor(3.0, spread=0.5, noise=0.2),
        "IBC": cm.SourcePrior.from_factor(0.6, spread=0.3, noise=0.05, max_factor=1.0),
    }


def test_yaml_1_2_exponents_and_infinity_are_numbers():
    got = load_priors_text("running_level_noise: 1e-3\nspike_factor: .inf\ncoarse_share: 2")
    assert got.running_level_noise == 0.001
    assert got.spike_factor == math.inf
    assert got.coarse_share == 2.0 and isinstance(got.coarse_share, float)


def test_priors_from_takes_a_preset_name_or_a_file(tmp_path):
    assert priors_from("civilian") is PRESETS["civilian"]
    path = write(tmp_path, "preset: disaster\n")
    assert priors_from(path) == PRESETS["disaster"]
    assert priors_from(str(path)) == PRESETS["disaster"]
    with pytest.raises(ValueError, match=r"neither a preset .* nor a file"):
        priors_from(tmp_path / "missing.yaml")


# ---------------------------------------------------------------------------- problems


def test_a_misspelt_key_is_named_with_file_line_and_the_known_keys(tmp_path):
    path, problems = problems_of(tmp_path, "preset: civilian\nsource_types:\n  own: {facto: 0.4}\n")
    assert problems == [
        f"{path}, line 3: unknown key 'facto' under source_types.own (did you mean 'factor'?); "
        "known: factor, spread, shared, noise, max_factor, log_factor, log_max_factor"
    ]


def test_a_misspelt_top_level_key(tmp_path):
    path, problems = problems_of(tmp_path, "level_sigma: 2\nrate_volatilty: 0.2\n")
    assert problems[0].startswith(
        f"{path}, line 2: unknown key 'rate_volatilty' at the top level "
        "(did you mean 'rate_volatility'?); known: preset, source_types, sources, level_mu"
    )


def test_a_string_where_a_number_is_expected(tmp_path):
    path, problems = problems_of(
        tmp_path, "level_sigma: two\nsource_types:\n  own:\n    noise: '0.2'\nspike_factor: inf\n"
    )
    assert problems == [
        f"{path}, line 1: level_sigma: expected a number, got text 'two'",
        f"{path}, line 4: source_types.own.noise: expected a number, got text '0.2' "
        "(write it without quotes)",
        f"{path}, line 5: spike_factor: expected a number, got text 'inf' "
        "(write .inf for infinity)",
    ]


def test_other_wrong_types(tmp_path):
    text = (
        "knot_days: 7.5\n"  # 1
        "link_categories: 1\n"  # 2
        "level_mu: [1, 2]\n"  # 3
        "source_types:\n"  # 4
        "  own: 0.4\n"  # 5
        "ratios:\n"  # 6
        "  wounded: [3.0]\n"  # 7
        "  missing: [0.2, x]\n"  # 8
        "running_min_claims: true\n"  # 9
    )
    path, problems = problems_of(tmp_path, text)
    assert problems == [
        f"{path}, line 1: knot_days: expected a whole number or null, got the number 7.5",
        f"{path}, line 2: link_categories: expected true or false, got the number 1",
        f"{path}, line 3: level_mu: expected a single value, got a list",
        f"{path}, line 5: source_types.own: expected a mapping such as "
        "{factor: 0.4, spread: 0.6, noise: 0.2}, got the number 0.4",
        f"{path}, line 7: ratios.wounded: expected [median, log-scale sd], got a list of 1",
        f"{path}, line 8: ratios.missing sd: expected a number, got text 'x'",
        f"{path}, line 9: running_min_claims: expected a whole number, got true/false (true)",
    ]


def test_an_unknown_source_type(tmp_path):
    path, problems = problems_of(tmp_path, "source_types:\n  goverment: {factor: 1.0}\n")
    assert problems == [
        f"{path}, line 2: unknown source type 'goverment' under source_types; "
        "known: own, enemy, neutral, tally, independent, known"
    ]


def test_bad_values_reuse_the_models_rules_and_name_the_line(tmp_path):
    text = (
        "source_types:\n"  # 1
        "  own: {spread: -0.6}\n"  # 2
        "  enemy: {factor: 0}\n"  # 3
        "  neutral:\n"  # 4
        "    noise: 0\n"  # 5
        "  tally: {shared: 0.3}\n"  # 6: the default tally is capped
        "  independent: {factor: .nan}\n"  # 7
        "level_sigma: -1\n"  # 8
        "running_min_claims: 1\n"  # 9
        "ratios: {wounded: [0, 0.5]}\n"  # 10
        "spike_factor: 0.9\n"  # 11
    )
    path, problems = problems_of(tmp_path, text)
    assert problems == [
        f"{path}, line 2: source_types.own.spread must be >= 0 (0: no own deviation), got -0.6",
        f"{path}, line 3: source_types.enemy.factor must be > 0 (a share of the truth), got 0.0",
        f"{path}, line 5: source_types.neutral.noise must be > 0, got 0.0",
        f"{path}, line 6: source_types.tally: a capped factor (max_factor) cannot have a "
        "shared offset (shared > 0): set shared: 0, or max_factor: null",
        f"{path}, line 7: source_types.independent.factor: must be a finite number, got .nan",
        f"{path}, line 8: level_sigma must be > 0",
        f"{path}, line 9: running_min_claims must be an integer >= 2, got 1",
        f"{path}, line 10: ratios.wounded: ratio prior 'wounded' needs median > 0 and sd > 0",
        f"{path}, line 11: spike_factor must be > 1 (inf: no spikes), got 0.9",
    ]


def test_a_cap_with_a_shared_offset_is_named_where_the_cap_is_set(tmp_path):
    path, problems = problems_of(tmp_path, "source_types:\n  own:\n    max_factor: 1.0\n")
    assert problems == [
        f"{path}, line 3: source_types.own: a capped factor (max_factor) cannot have a shared "
        "offset (shared > 0): set shared: 0, or max_factor: null"
    ]


def test_an_unknown_preset(tmp_path):
    path, problems = problems_of(tmp_path, "preset: civillian\n")
    assert problems == [
        f"{path}, line 1: unknown preset 'civillian' (did you mean 'civilian'?); "
        f"known: {', '.join(PRESETS)}"
    ]


def test_per_source_priors_need_their_three_numbers(tmp_path):
    path, problems = problems_of(tmp_path, "sources:\n  IBC: {factor: 0.6}\n")
    assert problems == [
        f'{path}, line 2: sources."IBC": a per-source prior needs factor, spread and noise '
        "(missing: spread, noise)"
    ]


def test_factor_and_log_factor_together(tmp_path):
    path, problems = problems_of(tmp_path, "source_types:\n  own: {factor: 0.4, log_factor: -1}")
    assert problems == [f"{path}, line 2: source_types.own: give factor or log_factor, not both"]


def test_several_problems_are_reported_at_once_in_line_order(tmp_path):
    text = (
        "preset: civillian\n"  # 1
        "source_types:\n"  # 2
        "  own: {facto: 0.4, spread: -1}\n"  # 3: two problems on one line
        "  goverment: {factor: 1}\n"  # 4
        "level_sigma: abc\n"  # 5
        "level_sigma: 2\n"  # 6
    )
    path, problems = problems_of(tmp_path, text)
    assert [p.split(":")[0] for p in problems] == [f"{path}, line {n}" for n in (1, 3, 3, 4, 5, 6)]
    assert "given twice at the top level (first on line 5)" in problems[-1]
    with pytest.raises(PriorsFileError) as info:
        load_priors(path)
    err = info.value
    assert isinstance(err, ValueError)
    assert str(err).startswith("6 problems in priors:\n  - ")
    assert all(f"  - {p}" in str(err) for p in problems)


def test_file_level_problems(tmp_path):
    path, problems = problems_of(tmp_path, "source_types:\n  own: {factor: 0.4\n")
    assert len(problems) == 1 and problems[0].startswith(f"{path}, line 3: not valid YAML")
    path, problems = problems_of(tmp_path, "- 1\n- 2\n")
    assert problems == [
        f"{path}, line 1: expected a mapping of setting: value at the top, got a list"
    ]
    bad = tmp_path / "latin1.yaml"
    bad.write_bytes("level_mu: 1 # café".encode("latin-1"))
    with pytest.raises(PriorsFileError, match=r"latin1.yaml: not valid UTF-8 at byte 17"):
        load_priors(bad)
    with pytest.raises(FileNotFoundError):
        load_priors(tmp_path / "missing.yaml")


def test_python_tags_are_rejected_never_run(tmp_path):
    path, problems = problems_of(tmp_path, "level_sigma: !!python/object/apply:os.getcwd []\n")
    assert problems == [f"{path}, line 1: level_sigma: expected a single value, got a list"]
    path, problems = problems_of(tmp_path, "level_sigma: !!python/name:os.getcwd ''\n")
    assert problems == [
        f"{path}, line 1: level_sigma: unsupported YAML tag tag:yaml.org,2002:python/name:os.getcwd"
    ]


def test_text_origin_names_the_text():
    with pytest.raises(PriorsFileError, match=r"^1 problem in priors:\n  - <text>, line 1: "):
        load_priors_text("level_sigma: x")
    with pytest.raises(PriorsFileError, match=r"  - mine, line 1: "):
        load_priors_text("level_sigma: x", origin="mine")


def test_every_per_source_problem_is_reported_at_once(tmp_path):
    text = (
        "sources:\n"  # 1
        "  IBC: {factor: 0.6, spred: 0.3, noise: 0.05}\n"  # 2
        "  X: {factor: 1}\n"  # 3
        "  Y: {factor: 1, spread: 0.1, noise: 0.1}\n"  # 4: fine
        '  "": {factor: 1, spread: 0.1, noise: 0.1}\n'  # 5
    )
    path, problems = problems_of(tmp_path, text)
    assert [p.split(": ", 1)[0] for p in problems] == [f"{path}, line {n}" for n in (2, 3, 5)]
    assert "unknown key 'spred' under sources.\"IBC\" (did you mean 'spread'?)" in problems[0]
    assert problems[1].endswith(
        'sources."X": a per-source prior needs factor, spread and noise (missing: spread, noise)'
    )
    assert problems[2].endswith("sources: a source name must not be empty")
