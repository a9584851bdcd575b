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


# --- issue 13: readings the audit settled ----------------------------------------------------------------------


def test_every_profile_file_opens_with_domain_notes_naming_its_assumptions():
    for pid in list_profiles():
        head = (PROFILE_DIR / f"{pid}.yaml").read_text(encoding="utf-8").split("\nid:")[0]
        assert "DOMAIN notes" in head and "假设" in head, pid


def test_deficits_define_the_target_in_each_seed_profile():
    wording = {
        "chuxiong-2020": "公共设施落后影响居民基本生活",
        "mangshi-2020": "配套设施不全或破损严重",
        "jingyuan-2023": "基础配套设施缺失",
        "yulin-2022": "市政配套设施不完善",
        "lucheng-2020": "存在改造需求",
    }
    for pid, words in wording.items():
        p = load_profile(pid)
        assert words in p.deficiency.source and p.document in p.deficiency.source
        assert p.document in p.deficiency.survey_source


def test_consent_thresholds_bind_only_where_a_seed_states_them():
    binding = {pid for pid in list_profiles() if load_profile(pid).consent.binding}
    assert binding == {"chuxiong-2020", "lucheng-2020"}
    for pid in ("mangshi-2020", "jingyuan-2023", "yulin-2022", "national-2020"):
        advisory = load_profile(pid).consent.advisory
        assert advisory.households_threshold == Fraction(2, 3) and "假设" in advisory.source
    yulin = load_profile("yulin-2022").publicity[0]
    assert (yulin.min_working_days, yulin.dates_required, yulin.advisory_working_days) == (None, False, 5)
    assert "假设" in yulin.advisory_source


def test_yulin_share_is_an_assumed_figure_with_no_upper_year():
    ext = load_profile("yulin-2022").extensions[0]
    assert ext.max_year is None
    assert ext.annual_share == Fraction(1, 5) and "假设" in ext.annual_share_source
    assert load_profile("yulin-2022").annual_share == Fraction(1, 5)
    assert "占年度计划小区数的比例：不超过20%" in load_profile("yulin-2022").to_display("zh")


def test_year_readings_and_citations_are_labelled():
    for pid in ("mangshi-2020", "jingyuan-2023"):
        source = load_profile(pid).cutoff.source
        assert "2000年以前" in source and "假设" in source and "1999" in source
    lucheng = load_profile("lucheng-2020").exclusions.already_renovated.source
    assert lucheng.startswith("假设") and "最多改一次" in lucheng
    national = load_profile("national-2020")
    assert all(z.source.startswith("假设") for z in national.exclusions.zones)
    # 拆墙连片 is Jingyuan's wording, not Lucheng's.
    assert "拆墙连片" in load_profile("jingyuan-2023").merging.source
    assert "拆墙连片" not in (PROFILE_DIR / "lucheng-2020.yaml").read_text(encoding="utf-8")


def test_chuxiong_multi_year_target_and_integrated_facilities():
    p = load_profile("chuxiong-2020")
    assert p.targets[-1].years == (2021, 2022) and "两年合计" in p.targets[-1].source
    assert {p.content.primary()[i] for i in ("childcare", "elderly_care", "health_station")} == {"environment"}
    assert "七(十)" in p.content.source


def test_mangshi_deadlines_sit_on_the_stages_the_seed_names():
    from geo.progress.deadlines import load_deadlines

    rules = {r.code: r for r in load_deadlines(load_profile("mangshi-2020")).rules}
    assert (rules["planning_by_december"].stage, rules["planning_by_december"].due.month) == ("annual_plan", 12)
    assert (rules["design_by_march"].stage, rules["design_by_march"].due.month) == ("design", 3)
    assert all("假设" in rules[c].source for c in ("survey_by_october", "planning_by_december", "design_by_march"))


def test_share_rules_are_checked(tmp_path):
    def no_source(raw):
        raw["extensions"][0]["annual_share"] = "1/5"

    with pytest.raises(DataError, match="annual_share_source"):
        load_profile_file(_broken_copy(tmp_path, no_source))

    def no_threshold(raw):
        raw["consent"]["households_threshold"] = None
        raw["consent"]["area_threshold"] = None

    with pytest.raises(DataError, match="advisory"):
        load_profile_file(_broken_copy(tmp_path, no_threshold))


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
