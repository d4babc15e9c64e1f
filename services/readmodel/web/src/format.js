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

export const DECIMALS = { employment_rate: 2, employed_per_household: 2 };

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
