// Chinese labels and number formatting as officials read them.

export const LEVELS = ["province", "city", "county", "town", "community", "grid", "building"];

export const LEVEL_LABELS = {
  province: "省级",
  city: "市级",
  county: "县级",
  town: "镇(街道)",
  community: "安置社区",
  grid: "网格",
  building: "楼栋",
};

// What the children of an area are called ("各县(市、区)人均就业落实率").
export const CHILD_LABELS = {
  province: "市(州)",
  city: "县(市、区)",
  county: "镇(街道)",
  town: "安置社区",
  community: "网格",
  grid: "楼栋",
  building: "",
};

export const ROLE_LABELS = {
  city_officer: "市级后续扶持工作人员",
  county_officer: "县级后续扶持工作人员",
  community_cadre: "社区干部",
  grid_worker: "网格员",
  commission_viewer: "发改委监测(只读)",
  bureau_system: "部门系统",
  building_head: "楼栋长",
  party_secretary: "社区党组织书记",
};

export const EMPLOYMENT_TYPES = [
  { key: "out_of_province", label: "省外务工", away: true },
  { key: "in_province", label: "省内县外", away: true },
  { key: "local", label: "县内就近就地", away: false },
  { key: "assistance_workshop", label: "帮扶车间", away: false },
  { key: "public_welfare_post", label: "公益性岗位", away: false },
  { key: "self_employed", label: "自主创业", away: false },
];

export const HOUSEHOLD_KINDS = { registered_poor: "建档立卡", co_relocated: "同步搬迁" };

// other "kind" values the live feed shows: projects and disputes
export const OTHER_KINDS = {
  industry: "后续扶持产业项目",
  collective_economy: "社区集体经济项目",
  employment: "就业帮扶项目",
  infrastructure: "配套基础设施项目",
  public_service: "公共服务设施项目",
  neighbourhood: "邻里纠纷",
  family: "家庭纠纷",
  property: "物业纠纷",
  labour: "劳资纠纷",
};

export const CAUSES = {
  resident_registered: "居民登记",
  worker_employed: "登记就业",
  employment_ended: "结束就业",
  labour_capacity_changed: "劳动能力变更",
  resident_moved_out: "居民迁出",
};

// The headline cards, in the order officials read them; decimals as the indicators declare.
export const HEADLINE = [
  "households",
  "residents",
  "labour_force",
  "employed",
  "employment_rate",
  "employed_per_household",
  "zero_employment_households",
];

export const DECIMALS = {
  employment_rate: 2,
  employed_per_household: 2,
  request_completion_rate: 2,
  resolved_low_level_share: 2,
  mediation_success_rate: 2,
  average_rating: 2,
  mean_hours_to_close: 1,
  allocated: 2,
  disbursed: 2,
  disbursement_rate: 2,
  dividends: 2,
  collective_income: 2,
  collective_assets: 2,
};

// 社区治理: the 四单 requests, disputes, door-to-door services (targets: 100 %, 0, ≥ 98 %, ≥ 500/年).
export const COMMUNITY_CARDS = [
  "requests_submitted",
  "request_completion_rate",
  "requests_overdue_open",
  "resolved_low_level_share",
  "average_rating",
  "mean_hours_to_close",
  "mediation_success_rate",
  "visits_this_year",
];

// 项目资金: follow-up industry projects and their money (万元).
export const PROJECT_CARDS = [
  "projects",
  "allocated",
  "disbursed",
  "disbursement_rate",
  "project_jobs",
  "dividends",
  "households_benefiting",
  "collective_income",
];

export const PROJECT_STATUSES = [
  { key: "approved", label: "已批复", color: "#6d9eea" },
  { key: "under_construction", label: "在建", color: "#f0a330" },
  { key: "operating", label: "运营中", color: "#12936f" },
  { key: "completed", label: "已完结", color: "#2559b8" },
  { key: "cancelled", label: "已撤销", color: "#b8c2cc" },
];

export const INDUSTRY_CHAINS = [
  { key: "agriculture", label: "特色农业", color: "#12936f" },
  { key: "light_industry", label: "特色轻工业", color: "#2559b8" },
  { key: "culture_tourism", label: "特色文旅", color: "#e0631f" },
];

export const FUND_SOURCES = [
  { key: "central_earmarked", label: "中央财政衔接戴帽资金" },
  { key: "city_special", label: "市级专项资金" },
  { key: "other", label: "其他资金" },
];

export function num(value, decimals = 0) {
  if (value == null || Number.isNaN(value)) return "—";
  return Number(value).toLocaleString("zh-CN", {
    minimumFractionDigits: decimals,
    maximumFractionDigits: decimals,
  });
}

export function signed(value, decimals = 0) {
  if (value == null) return "—";
  const text = num(Math.abs(value), decimals);
  if (value > 0) return `+${text}`;
  if (value < 0) return `−${text}`;
  return text;
}

/** The level of an area code (GB/T 2260 six digits; twelve-digit town and community codes;
 *  grids and buildings extend their community's code with -Gnn and -Bnn). */
export function levelOf(code) {
  if (/-B/.test(code)) return "building";
  if (/-G/.test(code)) return "grid";
  if (code.length === 6) {
    if (code.endsWith("0000")) return "province";
    if (code.endsWith("00")) return "city";
    return "county";
  }
  if (code.length === 12) return code.endsWith("000") ? "town" : "community";
  return "community";
}

export function rankOf(code) {
  return LEVELS.indexOf(levelOf(code));
}

const pad = (n) => String(n).padStart(2, "0");

export function clock(iso) {
  if (!iso) return "";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return "";
  const now = new Date();
  const time = `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
  if (d.toDateString() === now.toDateString()) return time;
  return `${d.getMonth() + 1}月${d.getDate()}日 ${time.slice(0, 5)}`;
}

export function day(iso) {
  if (!iso) return "";
  const d = new Date(iso);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

export function escapeHtml(text) {
  return String(text ?? "").replace(
    /[&<>"']/g,
    (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c],
  );
}
