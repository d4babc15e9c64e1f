#!/usr/bin/env python3
"""Demo dataset of the registry and the labour-force ledger, calibrated to 遵义市's 2025 figures
(../shared/seeds/: the city report 《五聚焦》 and a county meeting speech).

At scale 1.0 (the whole city) the dataset reproduces:

    外出务工 5.76万人 (out_of_province + in_province), 就近就地 4.1万人 (local + 帮扶车间 0.2万 +
    公益性岗位 0.6万 + self_employed): employed 98,600;
    人均就业落实率 97.37 % = employed ÷ labour force        → labour force 101,263;
    户均就业 2.24 = employed ÷ households with labour force  → 44,018 households with labour;
    零就业家庭 0 (every household with labour force has at least one member employed);
    有组织劳务输出 0.8万 among those working away;
    培训 14,809 人次 (761 of them in 2025);
    the county speech's household size 27,477 人 / 7,451 户 and 建档立卡 share 2,762 / 7,451.

At scale s every count is the full-city count times s, rounded, the ratios kept (the employment
rate and the per-household figure are fixed first, the rest follows from them). The dataset is
deterministic for a given (scale, seed). Communities come from the governance service's area file
(services/governance/governance_service/data/zunyi_areas.json); grids (2–6 per community) and
buildings (2–4 per grid) are made here and are created through the API by scripts/run.py.

    generate(scale, seed=7) -> Dataset   grids, buildings, households, residents, employments, trainings
    Dataset.summary() -> dict           the indicator figures the platform should show once loaded
    format_summary(summary) -> str      the same for people (Chinese labels)

Rows are plain dicts ready to POST; rows that point at other rows do so by a local key
(`household_key`, `resident_key`) that the loader replaces with the id the service returned.

Run: python scripts/demo_data.py [--scale 0.02] [--seed 7] [--json]
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
AREAS_FILE = ROOT / "services" / "governance" / "governance_service" / "data" / "zunyi_areas.json"

# --- the seeds' figures (full city, 2025) ---------------------------------------------------
EMPLOYED = 98_600  # 5.76万 外出务工 + 4.1万 就近就地
EMPLOYMENT_RATE = 0.9737  # 人均就业落实率
EMPLOYED_PER_HOUSEHOLD = 2.24  # 户均就业 (households with labour force)
ORGANISED_EXPORT = 8_000  # 有组织劳务输出 0.8万
TRAINING_PERSON_TIMES = 14_809  # 累计培训人次
TRAINING_THIS_YEAR = 761  # 今年已累计培训人次 (2025)
SPEECH_PEOPLE, SPEECH_HOUSEHOLDS, SPEECH_REGISTERED_POOR = 27_477, 7_451, 2_762
NO_LABOUR_HOUSEHOLDS = 900  # a few elderly households with no labour force (demo assumption, ~2 %)

# Employed by type. The seeds give the away total (5.76万), the local total (4.1万) and within the
# local total 帮扶车间 0.2万 and 公益性岗位 0.6万; the other splits are demo assumptions.
EMPLOYED_BY_TYPE = {
    "out_of_province": 36_000,  # 省外务工
    "in_province": 21_600,  # 省内县外      (36,000 + 21,600 = 57,600 = 5.76万)
    "local": 30_000,  # 县内就近就地
    "assistance_workshop": 2_000,  # 帮扶车间 0.2万
    "public_welfare_post": 6_000,  # 公益性岗位 0.6万
    "self_employed": 3_000,  # 自主创业   (30,000 + 2,000 + 6,000 + 3,000 = 41,000 = 4.1万)
}
AWAY_TYPES = ("out_of_province", "in_province")
TYPE_LABELS = {
    "out_of_province": "省外务工",
    "in_province": "省内县外",
    "local": "县内就近就地",
    "assistance_workshop": "帮扶车间",
    "public_welfare_post": "公益性岗位",
    "self_employed": "自主创业",
}
assert sum(EMPLOYED_BY_TYPE.values()) == EMPLOYED

REFERENCE_DATE = date(2025, 6, 30)  # ages are as of this day (the report's mid-2025 figures)
LABOUR_AGES = (18, 59)  # labour-force residents: working age 16–59, adults here
MAX_LABOUR_PER_HOUSEHOLD = 6
MAX_OTHERS_PER_HOUSEHOLD = 5

# Relative size of each community (default 1.0): the communities the seeds name are larger.
COMMUNITY_WEIGHTS = {
    "520302001001": 2.0,  # 松源社区
    "520303001001": 2.0,  # 学堂堡社区
    "520323001001": 2.0,  # 虹桥社区
    "520327001001": 2.5,  # 凤翔社区 (代管商铺厂房, 帮扶车间 8家)
    "520327002001": 0.5,  # 临江村 (a village)
    "520330001001": 1.5,  # 东皇街道 (习水)
    "520330001002": 1.5,
    "520330001003": 1.5,
    "520330001004": 1.5,
}
FIXED_GRIDS = {"520302001001": 6}  # 松源社区划分为6个子网格

# --- names --------------------------------------------------------------------------------------
# Common surnames, weighted, with those frequent in 遵义 (冉, 令狐, 母, 穆, 骆, 申) given some weight.
SURNAMES = (
    ("王", 8),
    ("李", 8),
    ("张", 7),
    ("刘", 6),
    ("陈", 6),
    ("杨", 6),
    ("罗", 5),
    ("吴", 4),
    ("周", 4),
    ("赵", 4),
    ("黄", 4),
    ("龙", 3),
    ("徐", 3),
    ("何", 3),
    ("胡", 3),
    ("郑", 2),
    ("谢", 2),
    ("韩", 2),
    ("冯", 2),
    ("田", 3),
    ("袁", 3),
    ("蒋", 2),
    ("唐", 2),
    ("曾", 2),
    ("彭", 2),
    ("邓", 2),
    ("肖", 2),
    ("冉", 3),
    ("令狐", 1),
    ("母", 1),
    ("穆", 1),
    ("骆", 1),
    ("申", 1),
    ("犹", 1),
    ("敖", 1),
    ("付", 2),
    ("任", 2),
    ("宋", 2),
    ("谭", 2),
    ("蔡", 1),
    ("余", 2),
    ("邹", 1),
    ("熊", 1),
    ("钟", 1),
    ("汪", 1),
)
_SURNAME_POOL = [s for s, w in SURNAMES for _ in range(w)]
MALE_CHARS = "伟强军勇杰涛明超刚平辉鹏华飞鑫波斌宇浩俊峰磊林兵龙江海洋文武建国志忠祥贵富德兴福春发云松"
FEMALE_CHARS = "芳娟敏静丽艳娜霞燕玲桂英秀兰琴红梅莉萍雪慧婷倩颖欣悦春花凤菊琼珍美莲蓉玉洁丹"
CHILD_CHARS = "子梓浩宇轩涵欣怡诗雨思佳晨睿一鑫可心瑶俊博文"

# --- employment -----------------------------------------------------------------------------
OUT_OF_PROVINCE_EMPLOYERS = (
    ("东莞市长骏鞋业有限公司", "东莞市"),  # the seed: moved to 习水 as 贵州骏华实业
    ("东莞市华晟电子科技有限公司", "东莞市"),
    ("东莞市粤顺五金制品有限公司", "东莞市"),
    ("深圳市鹏润精密电子有限公司", "深圳市"),
    ("深圳市宝安区嘉信包装制品厂", "深圳市"),
    ("广州市白云区恒达服装有限公司", "广州市"),
    ("佛山市顺德区美旭电器有限公司", "佛山市"),
    ("宁波甬兴塑胶制品有限公司", "宁波市"),
    ("宁波北仑港务物流有限公司", "宁波市"),
    ("苏州瑞达精密机械有限公司", "苏州市"),
    ("昆山华泰电子科技有限公司", "苏州市"),
    ("杭州钱塘纺织有限公司", "杭州市"),
    ("温州瓯江鞋业有限公司", "温州市"),
    ("厦门同安电子有限公司", "厦门市"),
    ("福州闽侯建设工程有限公司", "福州市"),
    ("上海松江汽车零部件有限公司", "上海市"),
)
IN_PROVINCE_EMPLOYERS = (
    ("贵阳综合保税区智能终端有限公司", "贵阳市"),
    ("贵州黔中物流有限公司", "贵阳市"),
    ("贵阳云岩区家政服务中心", "贵阳市"),
    ("贵州黔源建筑工程有限公司", "贵阳市"),
    ("安顺市西秀区蜡染工艺有限公司", "安顺市"),
    ("毕节市七星关区商贸有限公司", "毕节市"),
    ("六盘水市钟山区物业管理有限公司", "六盘水市"),
    ("遵义经济技术开发区电子产业园", "遵义市"),
    ("遵义市中心城区酒店管理有限公司", "遵义市"),
    ("凯里经济开发区纺织有限公司", "凯里市"),
)
LOCAL_EMPLOYERS = (
    "{county}城市管理服务有限公司",
    "{county}物业服务有限公司",
    "{county}建筑劳务有限公司",
    "{county}农旅发展有限公司",
    "{county}商贸有限公司",
    "{county}人民医院(护工)",
    "{county}茶叶专业合作社",
    "{county}家政服务有限公司",
)
# 帮扶车间 (就业帮扶车间/基地), by county; {county} is the county's short name.
WORKSHOPS = {
    "520330": ("贵州骏华实业有限公司",),  # the seed: 700余人就业, 月平均工资3500元左右
    "520324": ("正安吉他产业园乐器制造帮扶车间", "正安吉他配件加工帮扶车间"),
    "520325": ("道真食用菌产业园帮扶基地", "道真蔬菜产业园帮扶基地"),
    "520327": ("凤翔社区服饰加工帮扶车间", "凤翔社区电子元件帮扶车间", "凤翔社区竹编工艺帮扶车间"),
    "520328": ("湄潭茶叶加工帮扶车间",),
}
DEFAULT_WORKSHOPS = ("{county}安置社区鞋服加工帮扶车间", "{county}安置社区电子组装帮扶车间")
PUBLIC_WELFARE_POSTS = (
    "安置社区保洁员",
    "安置社区保安员",
    "安置社区网格信息员",
    "安置社区护林员",
    "安置社区公益性岗位",
)
SELF_EMPLOYED_TRADES = ("便民超市", "小吃店", "理发店", "快递代收点", "汽车维修店", "电商网店", "蔬菜摊", "服装店")
WAGES = {  # monthly, yuan, rounded to 10
    "out_of_province": (4000, 6500),
    "in_province": (3500, 5500),
    "local": (2200, 3800),
    "assistance_workshop": (2800, 4200),
    "public_welfare_post": (1500, 2000),
    "self_employed": (3000, 7000),
}

# --- training -----------------------------------------------------------------------------
COURSES = (  # (course, certificate or None)
    ("电工", "特种作业操作证(低压电工)"),
    ("焊工", "焊工职业技能等级证书(五级)"),
    ("家政服务", "家政服务员职业技能等级证书(五级)"),
    ("中式烹调", "中式烹调师职业技能等级证书(五级)"),
    ("中式面点", "中式面点师职业技能等级证书(五级)"),
    ("电子商务", "电子商务师职业技能等级证书(五级)"),
    ("育婴员", "育婴员职业技能等级证书(五级)"),
    ("养老护理员", "养老护理员职业技能等级证书(五级)"),
    ("挖掘机操作", "挖掘机司机职业技能等级证书(五级)"),
    ("缝纫工", None),
    ("食用菌栽培", None),
    ("茶叶加工", "茶叶加工工职业技能等级证书(五级)"),
    ("乐器制作(吉他)", None),
    ("创业培训(SYB)", "创业培训合格证书"),
)
COUNTY_COURSES = {"520325": "食用菌栽培", "520328": "茶叶加工", "520327": "茶叶加工", "520324": "乐器制作(吉他)"}

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"


def id_check_char(first17: str) -> str:
    """GB 11643 check character of the first 17 digits."""
    return _CHECK[sum(int(d) * w for d, w in zip(first17, _WEIGHTS, strict=True)) % 11]


# =============================================================================================
# Dataset
# =============================================================================================


@dataclass
class Dataset:
    scale: float
    seed: int
    grids: list[dict[str, Any]] = field(default_factory=list)  # POST /areas bodies, level grid
    buildings: list[dict[str, Any]] = field(default_factory=list)  # POST /areas bodies, level building
    households: list[dict[str, Any]] = field(default_factory=list)  # key + POST /households/batch item
    residents: list[dict[str, Any]] = field(default_factory=list)  # key, household_key + item
    employments: list[dict[str, Any]] = field(default_factory=list)  # resident_key + item
    trainings: list[dict[str, Any]] = field(default_factory=list)  # resident_key + item
    communities: list[dict[str, Any]] = field(default_factory=list)  # the area file's communities used

    def summary(self) -> dict[str, Any]:
        """The indicator figures the platform should show for this dataset (counted from the rows)."""
        return summarise(self)


def summarise(ds: Dataset, county: str | None = None) -> dict[str, Any]:
    """Expected figures for the whole dataset, or for one county (its 6-digit code)."""

    def mine(code: str) -> bool:
        return county is None or code.startswith(county)

    households = [h for h in ds.households if mine(h["community_code"])]
    residents = [r for r in ds.residents if mine(r["community_code"])]
    county_of_resident = {r["key"]: r["community_code"] for r in residents}
    employments = [e for e in ds.employments if e["resident_key"] in county_of_resident]
    trainings = [t for t in ds.trainings if t["resident_key"] in county_of_resident]

    household_of = {r["key"]: r["household_key"] for r in residents}
    labour = [r for r in residents if r["labour_capacity"]]
    labour_households = Counter(r["household_key"] for r in labour)
    employed_households = Counter(household_of[e["resident_key"]] for e in employments)
    employed = len(employments)
    by_type = Counter(e["employment_type"] for e in employments)
    this_year = str(REFERENCE_DATE.year)
    return {
        "scale": ds.scale,
        "seed": ds.seed,
        "area": county or "520300",
        "communities": len({h["community_code"] for h in households}),
        "grids": sum(1 for g in ds.grids if mine(g["code"])),
        "buildings": sum(1 for b in ds.buildings if mine(b["code"])),
        "households": len(households),
        "households_registered_poor": sum(1 for h in households if h["kind"] == "registered_poor"),
        "households_co_relocated": sum(1 for h in households if h["kind"] == "co_relocated"),
        "residents": len(residents),
        "average_household_size": _ratio(len(residents), len(households), 2),
        "labour_force": len(labour),
        "households_with_labour": len(labour_households),
        "households_without_labour": len(households) - len(labour_households),
        "employed": employed,
        "employment_rate_pct": _ratio(100 * employed, len(labour), 2),
        "employed_per_household": _ratio(employed, len(labour_households), 2),
        "zero_employment_households": sum(1 for h in labour_households if employed_households[h] == 0),
        "employed_by_type": {t: by_type[t] for t in EMPLOYED_BY_TYPE},
        "employed_away": sum(by_type[t] for t in AWAY_TYPES),
        "employed_local": employed - sum(by_type[t] for t in AWAY_TYPES),
        "organised_export": sum(1 for e in employments if e["organised_export"]),
        "average_monthly_wage": _ratio(sum(e["monthly_wage"] for e in employments), employed, 0),
        "training_person_times": len(trainings),
        "training_person_times_this_year": sum(1 for t in trainings if t["completed_on"].startswith(this_year)),
        "trained_persons": len({t["resident_key"] for t in trainings}),
    }


def _ratio(num: float, den: float, digits: int) -> float:
    return round(num / den, digits) if den else 0.0


def pad(text: str, width: int) -> str:
    """Left-justify to `width` terminal columns (a Chinese character takes two)."""
    return text + " " * max(0, width - sum(2 if ord(ch) > 0x2E80 else 1 for ch in text))


def format_summary(s: dict[str, Any]) -> str:
    """The expected figures, for the officials who check them against the monitoring views."""
    types = "\n".join(f"      {pad(TYPE_LABELS[t], 14)}{n:>8,}" for t, n in s["employed_by_type"].items())
    return f"""演示数据预期指标(scale={s["scale"]}, seed={s["seed"]}, 区域 {s["area"]})
  安置社区 {s["communities"]} 个, 网格 {s["grids"]} 个, 楼栋 {s["buildings"]} 栋
  搬迁户   {s["households"]:>8,} 户 (建档立卡 {s["households_registered_poor"]:,} 户, 同步搬迁 {s["households_co_relocated"]:,} 户)
  搬迁群众 {s["residents"]:>8,} 人 (户均 {s["average_household_size"]} 人)
  劳动力   {s["labour_force"]:>8,} 人, 有劳动力家庭 {s["households_with_labour"]:,} 户, 无劳动力家庭 {s["households_without_labour"]:,} 户
  就业     {s["employed"]:>8,} 人 (外出务工 {s["employed_away"]:,}, 就近就地 {s["employed_local"]:,})
{types}
  人均就业落实率 {s["employment_rate_pct"]:.2f} %  (目标 97.37 %)
  户均就业       {s["employed_per_household"]:.2f} 人 (目标 2.24 人)
  零就业家庭     {s["zero_employment_households"]} 户   (目标 动态清零)
  有组织劳务输出 {s["organised_export"]:,} 人
  月均工资       {s["average_monthly_wage"]:,.0f} 元
  培训           {s["training_person_times"]:,} 人次 ({REFERENCE_DATE.year}年 {s["training_person_times_this_year"]:,} 人次), {s["trained_persons"]:,} 人"""


# =============================================================================================
# Generation
# =============================================================================================


def load_areas(path: Path = AREAS_FILE) -> list[dict[str, Any]]:
    return list(json.loads(path.read_text(encoding="utf-8")))


def split(total: int, weights: list[float]) -> list[int]:
    """`total` split in proportion to `weights` (largest remainder): the parts sum to `total`."""
    whole = sum(weights)
    shares = [total * w / whole for w in weights]
    parts = [int(s) for s in shares]
    for i in sorted(range(len(weights)), key=lambda i: (parts[i] - shares[i], i))[: total - sum(parts)]:
        parts[i] += 1
    return parts


def targets(scale: float) -> dict[str, int]:
    """The full-city counts at `scale`. Employed first; the labour force and the households with
    labour follow from it through the two ratios, so that they hold as closely as rounding allows."""
    if not scale > 0:
        raise ValueError("scale must be positive")
    employed = max(3, round(EMPLOYED * scale))
    households_with_labour = max(1, round(employed / EMPLOYED_PER_HOUSEHOLD))
    labour = max(employed, round(employed / EMPLOYMENT_RATE))
    households = households_with_labour + round(NO_LABOUR_HOUSEHOLDS * scale)
    return {
        "employed": employed,
        "labour_force": labour,
        "households_with_labour": households_with_labour,
        "households": households,
        "residents": max(labour, round(households * SPEECH_PEOPLE / SPEECH_HOUSEHOLDS)),
        "registered_poor": round(households * SPEECH_REGISTERED_POOR / SPEECH_HOUSEHOLDS),
        "organised_export": round(ORGANISED_EXPORT * scale),
        "training_person_times": round(TRAINING_PERSON_TIMES * scale),
        "training_this_year": round(TRAINING_THIS_YEAR * scale),
    }


class _People:
    """Names, national ID numbers and phone numbers, unique across the dataset."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.ids: set[str] = set()
        self.phones: set[str] = set()

    def surname(self) -> str:
        return self.rng.choice(_SURNAME_POOL)

    def name(self, surname: str, male: bool, age: int) -> str:
        chars = CHILD_CHARS if age < 16 else (MALE_CHARS if male else FEMALE_CHARS)
        given = self.rng.choice(chars)
        if self.rng.random() < 0.7:
            given += self.rng.choice(chars)
        return surname + given

    def national_id(self, region: str, age: int, male: bool) -> str:
        """A valid GB 11643 number: region, a birth date giving `age` on REFERENCE_DATE, a sequence
        whose last digit is odd for men and even for women, and the check character."""
        rng = self.rng
        latest = REFERENCE_DATE.replace(year=REFERENCE_DATE.year - age)
        born = latest - timedelta(days=rng.randrange(365))
        while True:
            seq = rng.randrange(100) * 10 + rng.randrange(5) * 2 + (1 if male else 0)
            first17 = f"{region}{born:%Y%m%d}{seq:03d}"
            value = first17 + id_check_char(first17)
            if value not in self.ids:
                self.ids.add(value)
                return value

    def phone(self) -> str:
        while True:
            value = f"1{self.rng.choice('3456789')}{self.rng.randrange(10**9):09d}"
            if value not in self.phones:
                self.phones.add(value)
                return value


def _date_between(rng: random.Random, first: date, last: date) -> date:
    return first + timedelta(days=rng.randrange((last - first).days + 1))


def _short_county(name: str) -> str:
    """道真仡佬族苗族自治县 → 道真县, for company names."""
    return name[:2] + "县" if name.endswith("自治县") else name


def generate(scale: float, seed: int = 7, areas_file: Path = AREAS_FILE) -> Dataset:
    """The demo dataset at `scale` (1.0 = the whole city), deterministic for (scale, seed)."""
    rng = random.Random(seed)
    t = targets(scale)
    areas = load_areas(areas_file)
    names = {a["code"]: a["name"] for a in areas}
    communities = [a for a in areas if a["level"] == "community"]
    ds = Dataset(scale=scale, seed=seed, communities=communities)

    # --- grids and buildings: the same for every scale (seeded by the community) -------------
    buildings_of: dict[str, list[str]] = {}
    for c in communities:
        crng = random.Random(f"{seed}:{c['code']}")
        n_grids = FIXED_GRIDS.get(c["code"]) or crng.randint(2, 6)
        numbers = iter(range(1, 100))
        buildings_of[c["code"]] = []
        for g in range(1, n_grids + 1):
            grid = f"{c['code']}-G{g:02d}"
            ds.grids.append({"code": grid, "name": f"第{_cn(g)}网格", "level": "grid", "parent": c["code"]})
            for b in range(1, crng.randint(2, 4) + 1):
                building = f"{grid}-B{b:02d}"
                ds.buildings.append(
                    {"code": building, "name": f"{next(numbers)}栋", "level": "building", "parent": grid}
                )
                buildings_of[c["code"]].append(building)

    # --- households: labour members, employed members, other members --------------------------
    n_hl, n_h = t["households_with_labour"], t["households"]
    labour_counts = [1] * n_hl
    for _ in range(t["labour_force"] - n_hl):
        while True:
            i = rng.randrange(n_hl)
            if labour_counts[i] < MAX_LABOUR_PER_HOUSEHOLD:
                labour_counts[i] += 1
                break
    employed_counts = list(labour_counts)
    for _ in range(t["labour_force"] - t["employed"]):
        while True:  # nobody's last worker: 零就业家庭 stays at zero
            i = rng.randrange(n_hl)
            if employed_counts[i] > 1:
                employed_counts[i] -= 1
                break
    no_labour = n_h - n_hl
    others = [0] * n_hl + [1] * no_labour  # a household without labour force has 1–2 elderly
    left = t["residents"] - t["labour_force"] - no_labour
    for _ in range(left):
        while True:
            i = rng.randrange(n_h)
            limit = MAX_OTHERS_PER_HOUSEHOLD if i < n_hl else 2
            if others[i] < limit:
                others[i] += 1
                break
    order = list(range(n_h))
    rng.shuffle(order)  # households without labour force spread over the communities
    kinds = ["registered_poor"] * t["registered_poor"] + ["co_relocated"] * (n_h - t["registered_poor"])
    rng.shuffle(kinds)

    # --- placement: households over communities, buildings and rooms ------------------------
    weights = [COMMUNITY_WEIGHTS.get(c["code"], 1.0) for c in communities]
    placement: list[str] = []
    for c, n in zip(communities, split(n_h, weights), strict=True):
        placement += [c["code"]] * n
    rooms: Counter[str] = Counter()

    people = _People(rng)
    workers: list[tuple[dict[str, Any], str]] = []  # (resident, county code) of the employed
    labour_residents: list[tuple[dict[str, Any], str]] = []
    for slot, i in enumerate(order):
        community = placement[slot]
        county = community[:6]
        building = rng.choice(buildings_of[community])
        k = rooms[building]
        rooms[building] += 1
        unit, floor, door = k // 72 + 1, k % 72 // 4 + 1, k % 4 + 1
        hkey = f"H{slot + 1:06d}"
        ds.households.append(
            {
                "key": hkey,
                "kind": kinds[slot],
                "community_code": community,
                "grid_code": building.rsplit("-", 1)[0],
                "building_code": building,
                "room": f"{unit}单元{floor}{door:02d}室",
            }
        )
        members = _members(rng, labour_counts[i] if i < n_hl else 0, others[i])
        surname = people.surname()
        employed_left = employed_counts[i] if i < n_hl else 0
        labour_members = [j for j, m in enumerate(members) if m[2]]
        rng.shuffle(labour_members)
        employed_members = set(labour_members[:employed_left])
        for j, (role, age, labour, male) in enumerate(members):
            own = surname if role in ("head", "child", "father") else people.surname()
            resident: dict[str, Any] = {
                "key": f"R{len(ds.residents) + 1:07d}",
                "household_key": hkey,
                "community_code": community,
                "name": people.name(own, male, age),
                "national_id": people.national_id(county, age, male),
                "labour_capacity": labour,
            }
            if (labour and rng.random() < 0.8) or (not labour and age >= 60 and rng.random() < 0.3):
                resident["phone"] = people.phone()
            ds.residents.append(resident)
            if labour:
                labour_residents.append((resident, county))
                if j in employed_members:
                    workers.append((resident, county))

    # --- employment spells ------------------------------------------------------------------
    types: list[str] = []
    for kind, n in zip(EMPLOYED_BY_TYPE, split(len(workers), list(EMPLOYED_BY_TYPE.values())), strict=True):
        types += [kind] * n
    rng.shuffle(types)
    away = [k for k, kind in enumerate(types) if kind in AWAY_TYPES]
    organised = set(rng.sample(away, min(len(away), t["organised_export"])))
    for k, ((resident, county), kind) in enumerate(zip(workers, types, strict=True)):
        employer, destination = _job(rng, kind, county, names)
        low, high = WAGES[kind]
        if employer == "贵州骏华实业有限公司":
            low, high = 3000, 4000  # 月平均工资3500元左右
        ds.employments.append(
            {
                "resident_key": resident["key"],
                "employment_type": kind,
                "organised_export": k in organised,
                "employer": employer,
                "destination": destination,
                "monthly_wage": rng.randrange(low, high + 1, 10),
                "started_on": _date_between(rng, date(2023, 1, 1), date(2025, 12, 31)).isoformat(),
            }
        )

    # --- training: person-times over labour-force residents, some trained twice ----------------
    n_train = t["training_person_times"]
    persons = min(len(labour_residents), max(1, round(n_train / 1.2))) if n_train else 0
    trained = rng.sample(labour_residents, persons)
    trainees = trained + [rng.choice(trained) for _ in range(n_train - persons)] if persons else []
    this_year = set(rng.sample(range(len(trainees)), min(len(trainees), t["training_this_year"])))
    for k, (resident, county) in enumerate(trainees):
        if county in COUNTY_COURSES and rng.random() < 0.3:
            course = COUNTY_COURSES[county]
            certificate = next(c for n, c in COURSES if n == course)
        else:
            course, certificate = rng.choice(COURSES)
        if certificate is not None and rng.random() < 0.25:
            certificate = None  # attended without passing the assessment
        completed = (
            _date_between(rng, date(REFERENCE_DATE.year, 1, 10), REFERENCE_DATE)
            if k in this_year
            else _date_between(rng, date(2020, 3, 1), date(REFERENCE_DATE.year - 1, 12, 31))
        )
        ds.trainings.append(
            {
                "resident_key": resident["key"],
                "course": course,
                "hours": rng.choice((40, 48, 56, 64, 72, 80, 96, 120)),
                "certificate": certificate,
                "completed_on": completed.isoformat(),
            }
        )
    ds.trainings.sort(key=lambda r: r["completed_on"])
    return ds


def _cn(n: int) -> str:
    digits = "零一二三四五六七八九"
    if n < 10:
        return digits[n]
    tens, ones = divmod(n, 10)
    return (digits[tens] if tens > 1 else "") + "十" + (digits[ones] if ones else "")


def _members(rng: random.Random, labour: int, others: int) -> list[tuple[str, int, bool, bool]]:
    """(role, age, labour capacity, male) of a household's members: `labour` working-age adults
    (the head, the spouse, grown children or relatives) and `others` children or elderly."""
    lo, hi = LABOUR_AGES
    out: list[tuple[str, int, bool, bool]] = []
    if labour:
        head_age = rng.randint(max(lo, 24), hi)
        head_male = rng.random() < 0.8
        out.append(("head", head_age, True, head_male))
        if labour >= 2:
            out.append(("spouse", min(hi, max(lo, head_age + rng.randint(-5, 4))), True, not head_male))
        for _ in range(labour - 2):
            if head_age >= 40:  # a grown child
                out.append(("child", rng.randint(lo, min(hi, head_age - 20)), True, rng.random() < 0.5))
            else:  # a sibling or another relative of working age
                out.append(("relative", rng.randint(lo, hi), True, rng.random() < 0.5))
        for _ in range(others):
            if head_age <= 52 and rng.random() < 0.75:  # a child (or grandchild) under 16
                out.append(("child", rng.randint(0, min(15, head_age - 18)), False, rng.random() < 0.5))
            else:  # an elderly parent
                male = rng.random() < 0.45
                age = rng.randint(max(60, head_age + 20), max(62, min(92, head_age + 38)))
                out.append(("father" if male else "mother", age, False, male))
    else:  # elderly people living alone or as a couple
        first_male = rng.random() < 0.5
        age = rng.randint(62, 88)
        out.append(("head", age, False, first_male))
        for _ in range(others - 1):
            out.append(("spouse", min(95, max(60, age + rng.randint(-5, 5))), False, not first_male))
    return out


def _job(rng: random.Random, kind: str, county: str, names: dict[str, str]) -> tuple[str, str]:
    """(employer, destination) of a spell of `kind` for a worker living in `county`."""
    county_name = _short_county(names[county])
    if kind == "out_of_province":
        return rng.choice(OUT_OF_PROVINCE_EMPLOYERS)
    if kind == "in_province":
        employer, city = rng.choice(IN_PROVINCE_EMPLOYERS)
        if city == "遵义市":  # another county of the city: the central districts
            city = "遵义市红花岗区" if county != "520302" else "遵义市汇川区"
        return employer, city
    destination = names[county]
    if kind == "assistance_workshop":
        workshop = rng.choice(WORKSHOPS.get(county, DEFAULT_WORKSHOPS))
        return workshop.format(county=county_name), destination
    if kind == "public_welfare_post":
        return f"{county_name}{rng.choice(PUBLIC_WELFARE_POSTS)}", destination
    if kind == "self_employed":
        return f"个体工商户({rng.choice(SELF_EMPLOYED_TRADES)})", destination
    return rng.choice(LOCAL_EMPLOYERS).format(county=county_name), destination


# =============================================================================================
# Command line
# =============================================================================================


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scale", type=float, default=0.02, help="1.0 = the whole city (default 0.02)")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--county", help="also print the figures of this county (6-digit code)")
    ap.add_argument("--json", action="store_true", help="print the summary as JSON")
    args = ap.parse_args(argv)
    started = time.perf_counter()
    ds = generate(args.scale, args.seed)
    elapsed = time.perf_counter() - started
    summaries = [ds.summary()] + ([summarise(ds, args.county)] if args.county else [])
    if args.json:
        print(json.dumps(summaries if args.county else summaries[0], ensure_ascii=False, indent=2))
    else:
        for s in summaries:
            print(format_summary(s))
    print(
        f"generated in {elapsed:.2f} s: {len(ds.grids)} grids, {len(ds.buildings)} buildings, "
        f"{len(ds.households)} households, {len(ds.residents)} residents, {len(ds.employments)} employments, "
        f"{len(ds.trainings)} trainings",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
