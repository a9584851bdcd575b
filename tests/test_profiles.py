"""Policy profiles: the six ship, their rules match the seeds, and broken files fail naming file and field."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import pytest
import yaml

from geo.errors import DataError, NotFoundError
from geo.model import DEFICIENCY_ITEMS, STAGES
from geo.policy.profiles import PROFILE_DIR, list_profiles, load_profile, load_profile_file
from tests.conftest import SHARED

SEED_PROFILES = ["chuxiong-2020", "mangshi-2020", "jingyuan-2023", "yulin-2022", "lucheng-2020"]


def test_six_profiles_ship():
    assert list_profiles() == sorted([*SEED_PROFILES, "national-2020"])


@pytest.mark.parametrize(
    ("profile_id", "last_year_in"),
    [
        ("lucheng-2020", 1999),  # 1999年（含）以前
        ("yulin-2022", 2000),  # 2000年底前
        ("chuxiong-2020", 1999),  # 2000年1月1日前
        ("mangshi-2020", 1999),  # 2000年以前
        ("jingyuan-2023", 1999),  # 建成于2000年以前
        ("national-2020", 2000),  # 2000年底前
    ],
)
def test_cutoff_edges(profile_id, last_year_in):
    assert load_profile(profile_id).cutoff.last_year_in == last_year_in


def test_every_rule_names_a_source_and_every_item_is_mapped():
    for pid in list_profiles():
        p = load_profile(pid)
        assert p.cutoff.source and p.consent.source and p.funding.source
        assert set(p.content.primary()) == set(DEFICIENCY_ITEMS)
        assert all(s.code in STAGES and s.source for s in p.stages)
        if p.seed_file:
            assert (SHARED / "seeds" / p.seed_file).is_file()
            assert p.document in p.cutoff.source


def test_consent_thresholds_are_exact_fractions():
    lucheng = load_profile("lucheng-2020")
    assert lucheng.consent.households_threshold == Fraction(2, 3)
    assert lucheng.consent.area_threshold == Fraction(2, 3)
    assert lucheng.consent.owners_committee_required is True
    chuxiong = load_profile("chuxiong-2020")
    assert chuxiong.consent.households_threshold == Fraction(2, 3)
    assert chuxiong.consent.area_threshold is None
    assert chuxiong.consent.rounds == ("consent_1", "consent_2")


def test_lucheng_rules_from_the_seed():
    p = load_profile("lucheng-2020")
    assert p.exclusions.safety_grades.grades == ("C", "D")
    assert p.exclusions.hollow_core_slab is not None
    assert {z.kind for z in p.exclusions.zones} == {"demolition", "shantytown", "self_built", "urban_village"}
    assert p.content.primary()["fire_safety"] == "mandatory"
    assert p.funding.category_shares == {
        "mandatory": Fraction(0),
        "basic": Fraction(1, 10),
        "improvement": Fraction(3, 10),
        "upgrade": Fraction(7, 10),
    }
    assert p.funding.subsidy_cap_yuan_per_m2 == 400
    assert [pp.min_working_days for pp in p.publicity] == [5]
    funds = p.stage("funds_ready")
    assert funds is not None and funds.needs_funds
    # Lucheng lists the annual plan after resident funds are in hand (二(三)4).
    codes = [s.code for s in p.stages]
    assert codes.index("funds_ready") < codes.index("annual_plan")


def test_chuxiong_targets_and_menu():
    p = load_profile("chuxiong-2020")
    assert [(t.years, t.communities) for t in p.targets] == [((2019,), 9), ((2020,), 79), ((2021, 2022), 112)]
    # "改造内容不能超出以下方面": heating is not on Chuxiong's list.
    assert p.content.primary()["heating"] is None
    assert p.funding.yuan_per_household == 1000 and p.funding.low_income_yuan_per_household == 500


def test_mangshi_funding_and_deadlines():
    p = load_profile("mangshi-2020")
    assert p.funding.yuan_per_household_by_type == {"unit": 1500, "other": 2000}
    assert {d.code for d in p.deadlines} >= {"survey_by_october", "acceptance_by_january"}


def test_scoring_defaults_sum_to_100():
    for pid in list_profiles():
        assert sum(load_profile(pid).scoring.weights.values()) == 100
    # Chuxiong gives no weights: the documented default, priority points folded into deficiencies.
    assert load_profile("chuxiong-2020").scoring.weights["deficiencies"] == 50
    assert load_profile("jingyuan-2023").scoring.priority_items == ("water_supply", "power", "road", "gas")


def _broken_copy(tmp_path: Path, edit) -> Path:
    raw = yaml.safe_load((PROFILE_DIR / "lucheng-2020.yaml").read_text(encoding="utf-8"))
    edit(raw)
    path = tmp_path / "broken-city.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return path


def test_missing_field_names_file_and_field(tmp_path):
    path = _broken_copy(tmp_path, lambda raw: raw["cutoff"].pop("year"))
    with pytest.raises(DataError) as err:
        load_profile_file(path)
    assert "broken-city.yaml" in err.value.message("en")
    assert "cutoff.year" in err.value.message("en")
    assert "broken-city.yaml" in err.value.message("zh")


def test_missing_item_mapping_names_the_item(tmp_path):
    path = _broken_copy(tmp_path, lambda raw: raw["content"]["items"].pop("roof"))
    with pytest.raises(DataError, match=r"content\.items\.roof"):
        load_profile_file(path)


def test_unknown_item_code_fails(tmp_path):
    def edit(raw):
        raw["content"]["items"]["swimming_pool"] = ["upgrade"]
        raw["scoring"]["priority_items"] = ["fire_safety", "jacuzzi"]

    path = _broken_copy(tmp_path, edit)
    with pytest.raises(DataError) as err:
        load_profile_file(path)
    text = err.value.message("en")
    assert "broken-city.yaml" in text
    assert "content.items.swimming_pool" in text
    assert "scoring.priority_items.1" in text


def test_external_profile_file_loads(tmp_path):
    path = _broken_copy(tmp_path, lambda raw: raw.update(id="newtown-2024"))
    assert load_profile_file(path).id == "newtown-2024"
    assert load_profile_file(str(path)).cutoff.last_year_in == 1999


def test_unknown_profile_id():
    with pytest.raises(NotFoundError):
        load_profile("atlantis-2099")


def test_to_display_shows_rules_and_sources():
    zh = load_profile("lucheng-2020").to_display("zh")
    assert "1999年（含）以前建成" in zh and "温鹿政办〔2020〕21号 三(三)1" in zh and "C/D级危房" in zh
    en = load_profile("yulin-2022").to_display("en")
    assert "built in 2000 or earlier" in en and "玉政办发〔2022〕13号 四(一)" in en


@pytest.mark.parametrize(
    "value",
    [
        "/etc/passwd",
        "../profiles/lucheng-2020",
        str(PROFILE_DIR / "lucheng-2020.yaml"),
        "lucheng-2020.yaml",
        "a" * 3000,
        "\x00\xff\xfe",
        "lucheng-2020\x00",
    ],
)
def test_load_profile_takes_a_registry_id_only(value: str) -> None:
    """A path, even to a shipped profile, is never resolved: not found, naming the valid ids, quoting little."""
    with pytest.raises(NotFoundError) as err:
        load_profile(value)
    message = err.value.message("en")
    assert all(pid in message for pid in list_profiles())
    assert len(message) < 300 and "\x00" not in message


def test_a_valid_profile_file_outside_the_registry_is_not_an_id(tmp_path: Path) -> None:
    path = _broken_copy(tmp_path, lambda raw: raw.update(id="newtown-2024"))
    with pytest.raises(NotFoundError):
        load_profile(str(path))
    assert load_profile_file(path).id == "newtown-2024"


def test_the_cli_loads_a_profile_file_only_through_its_own_option(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from geo.cli import app
    from geo.io.importers import import_layer
    from geo.progress.store import stage_history
    from geo.stores import open_store
    from tests.badinput.make_corpus import seed_collection, write_json

    store = open_store(f"sqlite:///{tmp_path / 'cli.sqlite'}")
    import_layer(store, "communities", write_json(tmp_path / "seed.geojson", seed_collection()))
    monkeypatch.setattr("geo.stores.open_store", lambda *a, **k: store)
    path = _broken_copy(tmp_path, lambda raw: raw.update(id="newtown-2024"))
    stage = ["stage", "set", "S1", "survey", "--date", "2026-03-01", "--lang", "en"]

    refused = CliRunner().invoke(app, [*stage, "--profile", str(path)])
    assert refused.exit_code == 2 and "No profile" in refused.output and "Traceback" not in refused.output
    both = CliRunner().invoke(app, [*stage, "--profile", "lucheng-2020", "--profile-file", str(path)])
    assert both.exit_code == 2 and "not both" in both.output
    assert stage_history(store, "S1") == []

    done = CliRunner().invoke(app, [*stage, "--profile-file", str(path)])
    assert done.exit_code == 0, done.output
    assert [e["stage"] for e in stage_history(store, "S1")] == ["survey"]
    store.dispose()
