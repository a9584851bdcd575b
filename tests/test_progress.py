"""Stage rules (order, consent, publicity, funds), deadlines, and stage events in the store (both back ends)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import geopandas as gpd
import pytest
import shapely
from openpyxl import Workbook

from geo.errors import ConflictError, DataError, NotFoundError
from geo.io.importers import import_layer
from geo.policy.profiles import load_profile
from geo.progress.rules import check_stage, deadline_states, project_status, stage_advisories
from geo.progress.store import current_stages, import_ledger, record_stage, stage_history
from geo.stores import Store

LUCHENG = load_profile("lucheng-2020")
CHUXIONG = load_profile("chuxiong-2020")
MANGSHI = load_profile("mangshi-2020")
YULIN = load_profile("yulin-2022")
JINGYUAN = load_profile("jingyuan-2023")
D = dt.date


def _events(*stages: tuple[str, str]) -> list[dict[str, Any]]:
    return [
        {"event_id": i, "stage": stage, "date": day, "corrects": None, "evidence": {}}
        for i, (stage, day) in enumerate(stages, 1)
    ]


def _consent(agree: int, total: int, area_agree: Any = "2000", area_total: Any = "3000") -> dict[str, Any]:
    return {
        "households_agree": agree,
        "households_total": total,
        "area_agree_m2": area_agree,
        "area_total_m2": area_total,
    }


SURVEYED = _events(("survey", "2021-01-04"))


# --- consent: exactly 2/3 passes, one short fails, by households and by area ----------------------------------


def _lucheng_consent(evidence: dict[str, Any], owners_committee: bool | None = True) -> None:
    check_stage(
        LUCHENG,
        history=SURVEYED,
        stage="consent_1",
        date=D(2021, 2, 1),
        evidence=evidence,
        owners_committee=owners_committee,
    )


def test_exactly_two_thirds_of_households_passes_and_one_fewer_fails() -> None:
    _lucheng_consent(_consent(200, 300))
    with pytest.raises(ConflictError) as err:
        _lucheng_consent(_consent(199, 300))
    assert "199/300" in err.value.message("zh")
    assert "温鹿政办〔2020〕21号 二(三)" in err.value.message("zh")
    assert "below 2/3" in err.value.message("en")


def test_exactly_two_thirds_of_floor_area_passes_and_a_hair_less_fails() -> None:
    # 1000.2 / 1500.3 is exactly 2/3; 1000.19 m² is a hundredth of a square metre short.
    _lucheng_consent(_consent(300, 300, 1000.2, 1500.3))
    with pytest.raises(ConflictError) as err:
        _lucheng_consent(_consent(300, 300, "1000.19", "1500.3"))
    assert "专有面积" in err.value.message("zh")
    # 1000.19 / 1500.3 = 66.6633…%: shown truncated, never rounded up to the threshold's 66.67 %.
    assert "66.66%" in err.value.message("zh")


def test_area_is_not_asked_where_the_profile_counts_households_only() -> None:
    evidence = {"households_agree": 2, "households_total": 3}
    check_stage(
        CHUXIONG,
        history=SURVEYED,
        stage="consent_1",
        date=D(2021, 2, 1),
        evidence=evidence | _publicity(D(2021, 1, 18), D(2021, 1, 22)),
    )
    with pytest.raises(ConflictError, match="同意面积"):
        check_stage(LUCHENG, history=SURVEYED, stage="consent_1", date=D(2021, 2, 1), evidence=evidence)


def test_owners_committee_required_in_lucheng() -> None:
    with pytest.raises(ConflictError, match="业委会"):
        _lucheng_consent(_consent(300, 300), owners_committee=False)


def test_lucheng_unknown_owners_committee_is_not_proof() -> None:
    # 二(三)1 "老旧小区须成立业委会或自治小组": a blank record does not show that one exists.
    with pytest.raises(ConflictError) as err:
        _lucheng_consent(_consent(300, 300), owners_committee=None)
    assert "尚无记录" in err.value.message("zh") and "温鹿政办〔2020〕21号 二(三)1" in err.value.message("zh")
    assert "unknown is not proof" in err.value.message("en")


def test_bad_evidence_is_a_data_error() -> None:
    with pytest.raises(DataError, match="301 大于总数 300"):
        check_stage(LUCHENG, history=SURVEYED, stage="consent_1", date=D(2021, 2, 1), evidence=_consent(301, 300))
    with pytest.raises(DataError, match="households_yes"):
        check_stage(LUCHENG, history=SURVEYED, stage="survey", date=D(2021, 2, 1), evidence={"households_yes": 1})


# --- publicity on the official calendar ------------------------------------------------------------------------


def _publicity(start: dt.date, end: dt.date) -> dict[str, Any]:
    return {"publicity_start": start.isoformat(), "publicity_end": end.isoformat()}


CHUXIONG_DESIGNED = _events(
    ("survey", "2024-01-08"), ("consent_1", "2024-02-01"), ("annual_plan", "2024-03-01"), ("design", "2024-06-03")
)


def test_publicity_across_national_day_2024_is_counted_on_the_official_calendar() -> None:
    # 29 Sep (Sunday, 调休 workday), 30 Sep, then 1–7 Oct off, 8 Oct: 3 working days, short of Chuxiong's 5.
    vote = {"households_agree": 2, "households_total": 3}
    with pytest.raises(ConflictError) as err:
        check_stage(
            CHUXIONG,
            history=CHUXIONG_DESIGNED,
            stage="consent_2",
            date=D(2024, 10, 9),
            evidence=vote | _publicity(D(2024, 9, 29), D(2024, 10, 8)),
        )
    assert "仅 3 个工作日" in err.value.message("zh")
    assert "楚市政办通〔2020〕5号 六(四)" in err.value.message("zh")
    # Adding 9 and 10 October makes five: 29 Sep, 30 Sep, 8, 9, 10 Oct.
    check_stage(
        CHUXIONG,
        history=CHUXIONG_DESIGNED,
        stage="consent_2",
        date=D(2024, 10, 11),
        evidence=vote | _publicity(D(2024, 9, 29), D(2024, 10, 10)),
    )


def test_publicity_dates_are_required_where_the_stage_has_publicity() -> None:
    with pytest.raises(ConflictError, match="公示"):
        check_stage(
            CHUXIONG,
            history=CHUXIONG_DESIGNED,
            stage="consent_2",
            date=D(2024, 10, 11),
            evidence={"households_agree": 2, "households_total": 3},
        )


# --- resident funds (Lucheng) ----------------------------------------------------------------------------------

LUCHENG_PLANNED = _events(
    ("survey", "2021-01-04"),
    ("consent_1", "2021-02-01"),
    ("design", "2021-03-01"),
    ("consent_2", "2021-04-01"),
    ("funds_ready", "2021-05-06"),
    ("annual_plan", "2021-06-01"),
)


def test_lucheng_tender_refused_with_funds_at_99_percent() -> None:
    funds = {"funds_collected_yuan": 990_000, "funds_required_yuan": 1_000_000}
    with pytest.raises(ConflictError) as err:
        check_stage(LUCHENG, history=LUCHENG_PLANNED, stage="tender", date=D(2021, 7, 1), evidence=funds)
    assert "990000" in err.value.message("zh") and "尚差 10000 元" in err.value.message("zh")
    assert "99.00%" in err.value.message("zh")
    assert "温鹿政办〔2020〕21号 二(三)4" in err.value.message("zh")
    check_stage(
        LUCHENG,
        history=LUCHENG_PLANNED,
        stage="tender",
        date=D(2021, 7, 1),
        evidence={"funds_collected_yuan": 1_000_000, "funds_required_yuan": 1_000_000},
    )


def test_lucheng_funds_ready_needs_all_resident_funds() -> None:
    before = LUCHENG_PLANNED[:4]
    with pytest.raises(ConflictError, match="100%") as err:
        check_stage(
            LUCHENG,
            history=before,
            stage="funds_ready",
            date=D(2021, 5, 6),
            evidence={"funds_collected_yuan": 99_999, "funds_required_yuan": 100_000},
        )
    # One yuan short: the refusal says so in yuan and never shows a rounded "100.00%".
    zh, en = err.value.message("zh"), err.value.message("en")
    assert "已筹 99999 元 / 应筹 100000 元，尚差 1 元（到位 99.99%）" in zh
    assert "1 yuan short (99.99%)" in en
    assert "100.00%" not in zh and "100.00%" not in en
    with pytest.raises(ConflictError, match="funds_required_yuan"):
        check_stage(LUCHENG, history=before, stage="funds_ready", date=D(2021, 5, 6), evidence={})


# --- order -----------------------------------------------------------------------------------------------------


def test_stage_out_of_order_is_refused() -> None:
    # Lucheng puts resident funds before the annual plan (温鹿政办〔2020〕21号 二(三)4).
    with pytest.raises(ConflictError) as err:
        check_stage(LUCHENG, history=LUCHENG_PLANNED[:4], stage="annual_plan", date=D(2021, 6, 1), evidence={})
    assert "居民自筹资金到位100%" in err.value.message("zh")
    with pytest.raises(ConflictError, match="早于前一阶段"):
        check_stage(LUCHENG, history=LUCHENG_PLANNED, stage="tender", date=D(2021, 5, 31), evidence={})


def test_stage_the_profile_does_not_have_is_refused() -> None:
    with pytest.raises(ConflictError, match="consent_2"):
        check_stage(MANGSHI, history=SURVEYED, stage="consent_2", date=D(2021, 2, 1), evidence={})


def test_jingyuan_tenders_before_design() -> None:
    history = _events(("survey", "2023-01-03"), ("consent_1", "2023-02-01"), ("annual_plan", "2023-03-01"))
    check_stage(JINGYUAN, history=history, stage="tender", date=D(2023, 4, 3), evidence={})
    with pytest.raises(ConflictError):
        check_stage(JINGYUAN, history=history, stage="design", date=D(2023, 4, 3), evidence={})


# --- deadlines -------------------------------------------------------------------------------------------------

MANGSHI_PLANNED = _events(("survey", "2020-08-03"), ("consent_1", "2020-09-15"), ("annual_plan", "2020-11-02"))


def test_mangshi_planning_due_in_december_and_design_in_march() -> None:
    # 五(二) "每年12月前拿出次年预实施的小区规划设计" is the planning stage (annual_plan); engineering design is
    # 五(三), "当年3月前". Plan year 2021, planning reached on 2 November 2020: on 15 January 2021 nothing is late;
    # design is due 31 March 2021, 75 days away (Jan 16 + Feb 28 + Mar 31).
    status, reason = project_status(MANGSHI, history=MANGSHI_PLANNED, plan_year=2021, as_of=D(2021, 1, 15))
    assert status == "on_track"
    assert "75" in reason and "2021-03-31" in reason and "芒政办发〔2020〕28号 五(三)" in reason
    # On 1 April 2021 with no design recorded, design (and tender) are one day late.
    status, reason = project_status(MANGSHI, history=MANGSHI_PLANNED, plan_year=2021, as_of=D(2021, 4, 1))
    assert status == "overdue" and "已逾期1天" in reason and "当年3月前完成工程设计" in reason


def test_mangshi_planning_overdue_after_december_until_the_plan_is_recorded() -> None:
    consulted = MANGSHI_PLANNED[:2]
    # Planning for plan year 2021 is due 31 December 2020: due soon on 10 December, 15 days late on 15 January.
    status, reason = project_status(MANGSHI, history=consulted, plan_year=2021, as_of=D(2020, 12, 10), lang="en")
    assert (status, "due in 21 days" in reason) == ("due_soon", True)
    status, reason = project_status(MANGSHI, history=consulted, plan_year=2021, as_of=D(2021, 1, 15))
    assert status == "overdue"
    assert "已逾期15天" in reason and "2020-12-31" in reason and "芒政办发〔2020〕28号 五(二)" in reason
    assert "假设" in reason  # "12月前" read as 31 December is an assumption, and the clause says so


def test_mangshi_deadline_lines_name_status_stage_and_clause() -> None:
    states = deadline_states(MANGSHI, history=MANGSHI_PLANNED, plan_year=2021, as_of=D(2021, 1, 15))
    lines = [s.line(MANGSHI) for s in states]
    assert [(s.rule.code, s.status) for s in states] == [
        ("survey_by_october", "met"),
        ("planning_by_december", "met"),
        ("design_by_march", "on_track"),
        ("tender_by_march", "on_track"),
        ("acceptance_by_january", "on_track"),
        ("management_in_3_months", "undated"),
    ]
    assert lines[1].startswith("[已完成（2020-11-02完成）] 期限 2020-12-31：")
    assert "阶段：规划设计及上报年度实施计划" in lines[1] and "芒政办发〔2020〕28号 五(二)" in lines[1]
    assert lines[2].startswith("[正常，还剩75天] 期限 2021-03-31：当年3月前完成工程设计（阶段：工程设计")
    assert lines[5].startswith("[日期待定] 期限 待定：")
    late = deadline_states(
        MANGSHI,
        history=_events(("survey", "2020-08-03"), ("consent_1", "2020-11-05")),
        plan_year=2021,
        as_of=D(2020, 11, 6),
    )
    assert late[0].line(MANGSHI, "en").startswith("[done (reached 2020-11-05, 5 days late)] due 2020-10-31")


def test_deadline_and_advice_texts_speak_one_language() -> None:
    """A rule source that holds both languages ("假设：… | en: assumption: …") is shown in the page's language."""
    history = _events(("survey", "2020-08-03"), ("consent_1", "2020-11-05"))
    for lang, foreign in (("zh", " | en:"), ("en", "假设：")):
        lines = [s.line(MANGSHI, lang) for s in deadline_states(MANGSHI, history=history, plan_year=2021,
                                                                 as_of=D(2020, 11, 6))]  # fmt: skip
        _status, reason = project_status(MANGSHI, history=history, plan_year=2021, as_of=D(2021, 1, 15), lang=lang)
        advice = stage_advisories(
            MANGSHI, stage="consent_1", evidence={"households_agree": 50, "households_total": 90}, lang=lang
        )
        texts = [*lines, reason, *advice]
        assert advice and all(foreign not in t for t in texts), [t for t in texts if foreign in t]
    assert "assumption" in " ".join(lines)  # the English half is there, in English


def test_mangshi_property_management_within_three_months_of_acceptance() -> None:
    history = _events(
        ("survey", "2020-08-03"),
        ("consent_1", "2020-09-15"),
        ("annual_plan", "2020-11-02"),
        ("design", "2020-12-01"),
        ("tender", "2021-03-01"),
        ("construction", "2021-04-01"),
        ("acceptance", "2022-01-20"),
    )
    assert project_status(MANGSHI, history=history, plan_year=2021, as_of=D(2022, 4, 20))[0] == "due_soon"
    assert project_status(MANGSHI, history=history, plan_year=2021, as_of=D(2022, 4, 21))[0] == "overdue"


def test_yulin_construction_by_30_june_and_jingyuan_fixed_dates() -> None:
    tendered = _events(
        ("survey", "2022-01-04"),
        ("annual_plan", "2022-02-07"),
        ("design", "2022-03-01"),
        ("consent_2", "2022-04-01"),
        ("tender", "2022-05-05"),
    )
    assert project_status(YULIN, history=tendered, plan_year=2022, as_of=D(2022, 6, 30))[0] == "due_soon"
    assert project_status(YULIN, history=tendered, plan_year=2022, as_of=D(2022, 7, 1))[0] == "overdue"
    # Jingyuan's dates are fixed, so no plan year is needed.
    status, reason = project_status(JINGYUAN, history=SURVEYED, plan_year=None, as_of=D(2023, 7, 1))
    assert status == "overdue" and "2023-06-30" in reason


def test_no_deadlines_means_on_track() -> None:
    assert project_status(LUCHENG, history=SURVEYED, plan_year=2021, as_of=D(2030, 1, 1))[0] == "on_track"


# --- the store -------------------------------------------------------------------------------------------------


def _communities(tmp_path: Path) -> Path:
    boxes = [shapely.box(101.540 + i * 0.002, 25.030, 101.541 + i * 0.002, 25.031) for i in range(3)]
    gdf = gpd.GeoDataFrame(
        {
            "id": ["C1", "C2", "C3"],
            "name": ["东城小区", "西城小区", "南城小区"],
            "street": ["鹿城街道"] * 3,
            "households": [300, 120, 90],
            "owners_committee": [True, True, False],
        },
        geometry=boxes,
        crs=4490,
    )
    path = tmp_path / "communities.geojson"
    gdf.to_file(path, driver="GeoJSON")
    return path


@pytest.fixture
def city_store(store: Store, tmp_path: Path) -> Store:
    import_layer(store, "communities", _communities(tmp_path))
    return store


def _record(store: Store, stage: str, day: dt.date, evidence: dict[str, Any] | None = None, **kw: Any) -> dict:
    return record_stage(
        store,
        community_id=kw.pop("community_id", "C1"),
        stage=stage,
        date=day,
        evidence=evidence or {},
        actor="clerk",
        profile="lucheng-2020",
        **kw,
    )


def test_record_refuses_unknown_community(city_store: Store) -> None:
    with pytest.raises(NotFoundError, match="C99"):
        _record(city_store, "survey", D(2021, 1, 4), community_id="C99")


def test_record_checks_rules_against_stored_history(city_store: Store) -> None:
    first = _record(city_store, "survey", D(2021, 1, 4))
    assert first["stage"] == "survey" and first["date"] == "2021-01-04" and first["actor"] == "clerk"
    with pytest.raises(ConflictError):
        _record(city_store, "design", D(2021, 2, 1))
    _record(city_store, "survey", D(2021, 1, 4), community_id="C3")
    with pytest.raises(ConflictError, match="业委会"):
        _record(city_store, "consent_1", D(2021, 2, 1), _consent(90, 90), community_id="C3")
    consent = _record(city_store, "consent_1", D(2021, 2, 1), _consent(200, 300))
    assert consent["evidence"] == {
        "households_agree": 200,
        "households_total": 300,
        "area_agree_m2": "2000",
        "area_total_m2": "3000",
    }
    assert [e["stage"] for e in stage_history(city_store, "C1")] == ["survey", "consent_1"]


def test_correction_is_a_new_event(city_store: Store) -> None:
    survey = _record(city_store, "survey", D(2021, 1, 4))
    _record(city_store, "consent_1", D(2021, 2, 1), _consent(200, 300))
    fixed = _record(city_store, "survey", D(2021, 1, 5), corrects=survey["event_id"], note="日期录错")
    history = stage_history(city_store, "C1")
    assert [(e["event_id"], e["date"], e["effective"]) for e in history] == [
        (survey["event_id"], "2021-01-04", False),
        (history[1]["event_id"], "2021-02-01", True),
        (fixed["event_id"], "2021-01-05", True),
    ]
    assert fixed["corrects"] == survey["event_id"] and fixed["note"] == "日期录错"
    with pytest.raises(ConflictError, match=str(fixed["event_id"])):
        _record(city_store, "survey", D(2021, 1, 6), corrects=survey["event_id"])
    current = current_stages(city_store)
    assert current.to_dict("records") == [{"community_id": "C1", "stage": "consent_1", "date": D(2021, 2, 1)}]


def test_correction_can_move_back_a_stage(city_store: Store) -> None:
    _record(city_store, "survey", D(2021, 1, 4), community_id="C2")
    wrong = _record(city_store, "consent_1", D(2021, 2, 1), _consent(80, 120), community_id="C2")
    _record(city_store, "survey", D(2021, 2, 1), community_id="C2", corrects=wrong["event_id"])
    current = current_stages(city_store).set_index("community_id")
    assert current.loc["C2", "stage"] == "survey"


def _ledger(path: Path, rows: list[list[Any]]) -> Path:
    book = Workbook()
    sheet = book.active
    sheet.append(
        [
            "小区编号",
            "阶段",
            "日期",
            "同意户数",
            "总户数",
            "同意面积",
            "总面积",
            "公示开始",
            "公示结束",
            "已筹资金",
            "应筹资金",
        ]
    )
    for row in rows:
        sheet.append(row)
    book.save(path)
    return path


def test_ledger_import_records_rows_in_order(city_store: Store, tmp_path: Path) -> None:
    path = _ledger(
        tmp_path / "台账.xlsx",
        [
            ["C1", "调查摸底", dt.datetime(2021, 1, 4)],
            ["C1", "consent_1", "2021-02-01", 200, 300, 2000, 3000],
            ["C2", "survey", "2021-01-06"],
        ],
    )
    events = import_ledger(city_store, path, profile="lucheng-2020", actor="clerk")
    assert [(e["community_id"], e["stage"]) for e in events] == [
        ("C1", "survey"),
        ("C1", "consent_1"),
        ("C2", "survey"),
    ]
    assert current_stages(city_store)["stage"].tolist() == ["consent_1", "survey"]


def test_ledger_with_a_bad_row_leaves_the_store_unchanged(city_store: Store, tmp_path: Path) -> None:
    _record(city_store, "survey", D(2021, 1, 4), community_id="C2")
    before = city_store.fingerprint()
    path = _ledger(
        tmp_path / "台账.xlsx",
        [
            ["C1", "survey", "2021-01-04"],
            ["C1", "consent_1", "2021-02-01", 199, 300, 2000, 3000],  # row 3: below 2/3
            ["C9", "survey", "2021-01-04"],  # row 4: unknown community
            ["C2", "consent_1", "2021-02-01", 120, 120, 3000, 3000],
        ],
    )
    with pytest.raises(DataError) as err:
        import_ledger(city_store, path, profile="lucheng-2020", actor="clerk")
    assert err.value.rows == [3, 4]
    assert "第3行" in err.value.message("zh") and "199/300" in err.value.message("zh")
    assert "C9" in err.value.message("zh")
    assert city_store.fingerprint() == before


# --- no invented thresholds: figures recorded, advice shown, refusals only where a seed says so ------------------

MANGSHI_SURVEYED = _events(("survey", "2020-08-03"))


def test_mangshi_consent_below_two_thirds_is_recorded_with_an_advisory() -> None:
    # 芒政办发〔2020〕28号 五(一) asks for a 民意调查 and sets no threshold: 50 of 90 households (55.55 %) is
    # recorded; the advice compares it with 2/3, a named 假设 (neighbouring Chuxiong's rule), and refuses nothing.
    vote = {"households_agree": 50, "households_total": 90}
    check_stage(MANGSHI, history=MANGSHI_SURVEYED, stage="consent_1", date=D(2020, 9, 15), evidence=vote)
    advice = stage_advisories(MANGSHI, stage="consent_1", evidence=vote)
    assert len(advice) == 1
    assert "50/90（55.55%）低于参考门槛 2/3" in advice[0] and "不作拒绝" in advice[0]
    assert "假设" in advice[0] and "楚市政办通〔2020〕5号 六(二)" in advice[0]
    # No figures at all: still recorded, and the advice says none were given.
    check_stage(MANGSHI, history=MANGSHI_SURVEYED, stage="consent_1", date=D(2020, 9, 15), evidence={})
    assert "未记录同意户数" in stage_advisories(MANGSHI, stage="consent_1", evidence={})[0]
    # At or above 2/3 there is nothing to advise.
    assert (
        stage_advisories(MANGSHI, stage="consent_1", evidence={"households_agree": 60, "households_total": 90}) == []
    )
    # Figures must still be consistent.
    with pytest.raises(DataError, match="91 大于总数 90"):
        check_stage(
            MANGSHI,
            history=MANGSHI_SURVEYED,
            stage="consent_1",
            date=D(2020, 9, 15),
            evidence={"households_agree": 91, "households_total": 90},
        )


def test_jingyuan_and_national_consent_are_never_refused_for_a_threshold_they_do_not_set() -> None:
    low = {"households_agree": 1, "households_total": 90}
    check_stage(JINGYUAN, history=SURVEYED, stage="consent_1", date=D(2023, 2, 1), evidence=low)
    national = load_profile("national-2020")
    check_stage(national, history=SURVEYED, stage="consent_1", date=D(2023, 2, 1), evidence=low)
    assert "1/90" in stage_advisories(JINGYUAN, stage="consent_1", evidence=low, lang="en")[0]


def test_yulin_design_vote_without_threshold_or_publicity_length() -> None:
    # 玉政办发〔2022〕13号 六(三): "通过方案公示征求意见、小区自治组织会议、业主代表会议等渠道" — no threshold, no
    # length, and publicity is one channel among several: nothing here may refuse.
    designed = _events(("survey", "2022-01-04"), ("annual_plan", "2022-02-07"), ("design", "2022-03-01"))
    vote = {"households_agree": 40, "households_total": 90}
    check_stage(YULIN, history=designed, stage="consent_2", date=D(2022, 4, 1), evidence=vote)
    advice = stage_advisories(YULIN, stage="consent_2", evidence=vote)
    assert [a[:3] for a in advice] == ["提示：", "提示："]
    assert "40/90（44.44%）低于参考门槛 2/3" in advice[0]
    assert "未记录公示日期，建议公示不少于5个工作日" in advice[1] and "假设" in advice[1]
    # 2024-09-29 (调休 Sunday, a working day) to 2024-10-08: 3 working days, short of the advised 5.
    posted = vote | _publicity(D(2024, 9, 29), D(2024, 10, 8))
    check_stage(YULIN, history=designed, stage="consent_2", date=D(2024, 10, 9), evidence=posted)
    assert "公示 3 个工作日，少于参考的5个工作日" in stage_advisories(YULIN, stage="consent_2", evidence=posted)[1]


def test_chuxiong_and_lucheng_still_refuse_citing_the_clause_that_says_it() -> None:
    with pytest.raises(ConflictError) as err:
        check_stage(
            CHUXIONG,
            history=SURVEYED,
            stage="consent_1",
            date=D(2021, 2, 1),
            evidence={"households_agree": 59, "households_total": 90} | _publicity(D(2021, 1, 18), D(2021, 1, 22)),
        )
    assert "同意改造意愿达三分之二以上" in err.value.message("zh")
    assert stage_advisories(CHUXIONG, stage="consent_1", evidence={"households_agree": 59}) == []


def test_every_consent_refusal_source_states_its_threshold() -> None:
    for profile in (CHUXIONG, LUCHENG, MANGSHI, JINGYUAN, YULIN, load_profile("national-2020")):
        if profile.consent.binding:
            assert "2/3" in profile.consent.source or "三分之二" in profile.consent.source
            assert "假设" not in profile.consent.source
        else:
            assert profile.consent.advisory is not None and "假设" in profile.consent.advisory.source


# --- the stage command -----------------------------------------------------------------------------------------


@pytest.fixture
def cli_store(city_store: Store, monkeypatch: pytest.MonkeyPatch) -> Store:
    from geo import settings

    monkeypatch.setenv("RENEWAL_DATABASE_URL", city_store.engine.url.render_as_string(hide_password=False))
    settings.database_settings.cache_clear()
    yield city_store
    settings.database_settings.cache_clear()


def test_stage_set_takes_chinese_names_and_show_prints_history_and_deadlines(cli_store: Store) -> None:
    from typer.testing import CliRunner

    from geo.cli import app

    runner = CliRunner()

    def run(*args: str) -> Any:
        return runner.invoke(app, ["stage", *args, "--profile", "mangshi-2020"])

    # The profile's own Chinese name and the common one (as the ledger accepts them).
    first = run("set", "C2", "项目前期工作（摸底调查）", "--date", "2020-08-03")
    assert first.exit_code == 0, first.output
    assert "已记录" in first.output and "项目前期工作（摸底调查）" in first.output
    poll = run(
        "set", "C2", "民意调查", "--date", "2020-09-15", "--households-agree", "50", "--households-total", "90"
    )
    assert poll.exit_code == 0, poll.output
    assert "提示" in poll.output and "50/90（55.55%）低于参考门槛 2/3" in poll.output
    plan = run("set", "C2", "列入年度计划", "--date", "2020-11-02")
    assert plan.exit_code == 0, plan.output
    unknown = run("set", "C2", "竣工庆典", "--date", "2020-11-03")
    assert unknown.exit_code == 2 and "无法识别的阶段“竣工庆典”" in unknown.output

    shown = run("show", "C2", "--plan-year", "2021", "--as-of", "2021-01-15")
    assert shown.exit_code == 0, shown.output
    lines = shown.output.splitlines()
    assert lines[0] == "C2 — 芒市老旧小区改造工作实施方案 (mangshi-2020); 计划年度：2021"
    assert any(
        "2020-09-15" in line and "民意调查（consent_1）" in line and "同意户数 50/90" in line for line in lines
    )
    assert "{" not in shown.output  # readable lines, not dicts
    deadline = next(line for line in lines if "当年3月前完成工程设计" in line)
    assert (
        deadline.strip().startswith("[正常，还剩75天] 期限 2021-03-31") and "芒政办发〔2020〕28号 五(三)" in deadline
    )
    planning = next(line for line in lines if "规划设计（规划阶段）" in line)
    assert planning.strip().startswith("[已完成（2020-11-02完成）]")
    english = runner.invoke(
        app, ["stage", "show", "C2", "--profile", "mangshi-2020", "--as-of", "2021-04-01", "--lang", "en"]
    )
    assert english.exit_code == 0, english.output
    assert "plan year: none" in english.output and "[not dated yet (needs the plan year)]" in english.output
