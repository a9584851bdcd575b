"""The domain model: layers, their columns and Chinese aliases, and the deficiency items.

Everything that names a column or an item code imports it from here, so the importers, the stores, the analyses
and the API agree on one vocabulary (CONTRACT.md, "Input layers" and "Deficiency items").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

#: Geographic CRS every geometry is stored in (CGCS2000).
STORAGE_EPSG = 4490
#: Integer columns are 64-bit (BIGINT): every integer kept is below this in magnitude.
INT_LIMIT = 2**63

ColumnType = Literal["text", "int", "float", "bool", "json"]


@dataclass(frozen=True)
class Column:
    """One attribute of a layer, with its Chinese alias (accepted on import, used as a spreadsheet header)."""

    name: str
    type: ColumnType
    zh: str
    required: bool = False


@dataclass(frozen=True)
class Layer:
    """A spatial (or tabular) layer the store keeps."""

    name: str
    geometry: Literal["polygon", "line", "none"]
    columns: tuple[Column, ...]
    zh: str
    aliases: dict[str, str] = field(default_factory=dict)

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)


_ID = Column("id", "text", "编号", required=True)
_NAME = Column("name", "text", "名称")

STREETS = Layer(
    "streets",
    "polygon",
    (_ID, Column("name", "text", "街道名称", required=True), Column("district", "text", "区县")),
    zh="街道",
)
NEIGHBOURHOODS = Layer(
    "neighbourhoods",
    "polygon",
    (_ID, Column("name", "text", "社区名称", required=True), Column("street", "text", "所属街道")),
    zh="社区",
)
COMMUNITIES = Layer(
    "communities",
    "polygon",
    (
        _ID,
        Column("name", "text", "小区名称", required=True),
        Column("street", "text", "所属街道"),
        Column("neighbourhood", "text", "所属社区"),
        Column("year_built", "int", "建成年份"),
        Column("households", "int", "户数"),
        Column("low_income_households", "int", "低保户数"),
        Column("floor_area_m2", "float", "建筑面积"),
        Column("building_type", "text", "楼栋类型"),
        Column("property_management", "bool", "物业管理"),
        Column("owners_committee", "bool", "业委会或自治小组"),
    ),
    zh="小区",
)
BUILDINGS = Layer(
    "buildings",
    "polygon",
    (
        _ID,
        Column("community_id", "text", "所属小区"),
        Column("year_built", "int", "建成年份"),
        Column("floors", "int", "层数"),
        Column("households", "int", "户数"),
        Column("floor_area_m2", "float", "建筑面积"),
        Column("structure", "text", "结构"),
        Column("safety_grade", "text", "安全等级"),
        Column("hollow_core_slab", "bool", "多孔板"),
    ),
    zh="楼栋",
)
ZONES = Layer(
    "zones",
    "polygon",
    (_ID, _NAME, Column("kind", "text", "类型", required=True)),
    zh="片区",
)
ROADS = Layer(
    "roads",
    "line",
    (_ID, _NAME, Column("class", "text", "道路等级", required=True)),
    zh="道路",
)

ZONE_KINDS: dict[str, str] = {
    "demolition": "计划拆迁范围",
    "shantytown": "棚户区",
    "urban_village": "城中村",
    "self_built": "自建房区",
}
ROAD_CLASSES: dict[str, str] = {"major": "主干道", "minor": "次干道", "lane": "巷道"}
SAFETY_GRADES = ("A", "B", "C", "D")
BUILDING_TYPES: dict[str, str] = {"unit": "单元楼", "other": "其他"}

#: Deficiency items (CONTRACT.md): code -> (Chinese label, English label).
DEFICIENCY_ITEMS: dict[str, tuple[str, str]] = {
    "water_supply": ("供水", "water supply"),
    "drainage": ("排水/雨污分流", "drainage / storm-sewage separation"),
    "power": ("供电", "power supply"),
    "gas": ("燃气", "gas"),
    "road": ("道路", "roads"),
    "fire_safety": ("消防", "fire safety"),
    "security": ("安防", "security"),
    "lighting": ("照明", "lighting"),
    "telecom": ("弱电/光纤", "telecom / fibre"),
    "overhead_lines": ("架空线", "overhead lines"),
    "waste_sorting": ("垃圾分类", "waste sorting"),
    "roof": ("屋面", "roofs"),
    "facade": ("外立面", "façades"),
    "stairwell": ("楼道", "stairwells"),
    "heating": ("供暖", "heating"),
    "illegal_structures": ("违章建筑", "illegal structures"),
    "greening": ("绿化", "greening"),
    "accessibility": ("适老/无障碍", "elderly-friendly / accessibility"),
    "parking": ("停车", "parking"),
    "ev_charging": ("充电设施", "EV charging"),
    "parcel_lockers": ("快递柜/信报箱", "parcel lockers / mailboxes"),
    "culture_sports": ("文体设施", "culture and sports facilities"),
    "property_room": ("物业用房", "property-management rooms"),
    "energy_saving": ("建筑节能", "building energy saving"),
    "elevator": ("加装电梯", "elevator retrofit"),
    "community_service": ("社区服务设施", "community service facilities"),
    "health_station": ("卫生服务站", "health station"),
    "childcare": ("托育/幼儿园", "childcare / kindergarten"),
    "elderly_care": ("养老/助餐", "elderly care / meal aid"),
    "convenience": ("便民市场/便利店", "markets / convenience stores"),
}
#: The four basic items that take priority (水电路气).
WATER_POWER_ROAD_GAS = ("water_supply", "power", "road", "gas")

SURVEY = Layer(
    "survey",
    "none",
    (
        Column("community_id", "text", "小区编号"),
        Column("name", "text", "小区名称"),
        Column("street", "text", "所属街道"),
        *(Column(code, "bool", zh) for code, (zh, _en) in DEFICIENCY_ITEMS.items()),
        Column("support_households", "int", "支持改造户数"),
        Column("already_renovated", "text", "已改造项目"),
    ),
    zh="调查表",
)

LAYERS: dict[str, Layer] = {
    layer.name: layer for layer in (STREETS, NEIGHBOURHOODS, COMMUNITIES, BUILDINGS, ZONES, ROADS, SURVEY)
}
SPATIAL_LAYERS = tuple(name for name, layer in LAYERS.items() if layer.geometry != "none")

#: Progress stages in their common order (CONTRACT.md, `renewal stage set`).
STAGES: dict[str, tuple[str, str]] = {
    "survey": ("摸底调查", "survey"),
    "consent_1": ("第一次征求意见", "first consent"),
    "annual_plan": ("列入年度计划", "annual plan"),
    "design": ("可研/初步设计", "feasibility and preliminary design"),
    "consent_2": ("方案表决及公示", "design vote and publicity"),
    "funds_ready": ("居民资金到位", "resident funds in hand"),
    "tender": ("招投标", "tender"),
    "construction": ("开工", "construction"),
    "completion": ("竣工", "completion"),
    "acceptance": ("竣工验收", "acceptance"),
    "audit": ("结算审计", "settlement audit"),
    "handover": ("移交/长效管理", "handover / long-term management"),
}
