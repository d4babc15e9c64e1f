// The page's charts, drawn with Apache ECharts (copied from node_modules by build.mjs).
import * as echarts from "./vendor/echarts.esm.min.js";

import { EMPLOYMENT_TYPES, FUND_SOURCES, INDUSTRY_CHAINS, PROJECT_STATUSES, num } from "./format.js";

export const COLORS = {
  blue: "#1f5fbf",
  met: "#1a9e5c",
  unmet: "#d9483b",
  none: "#b8c2cc",
  target: "#e0631f",
  ink: "#1d2b3a",
  muted: "#6b7a89",
  grid: "#e8edf2",
};

export const TYPE_COLORS = {
  out_of_province: "#2559b8",
  in_province: "#6d9eea",
  local: "#12936f",
  assistance_workshop: "#4cc39c",
  public_welfare_post: "#f0a330",
  self_employed: "#a477d6",
};

const FONT = '"Noto Sans CJK SC", "Source Han Sans SC", "PingFang SC", "Microsoft YaHei", sans-serif';

const charts = new Map();

export function chart(el) {
  let c = charts.get(el);
  if (!c) {
    c = echarts.init(el, null, { renderer: "canvas", locale: "ZH" });
    charts.set(el, c);
  }
  return c;
}

export function resizeAll() {
  for (const c of charts.values()) c.resize();
}

/** Forget what the charts show (a new area): the next option draws afresh. Within one area the
 *  options are merged, so a live update moves the bars instead of redrawing them from zero. */
export function clearAll() {
  for (const c of charts.values()) c.clear();
}

const base = () => ({
  textStyle: { fontFamily: FONT, color: COLORS.ink },
  animationDurationUpdate: 500,
  tooltip: {
    trigger: "axis",
    axisPointer: { type: "shadow" },
    textStyle: { fontFamily: FONT },
    confine: true,
  },
  grid: { left: 12, right: 24, top: 36, bottom: 8, containLabel: true },
});

function categoryAxis(names) {
  return {
    type: "category",
    data: names,
    axisTick: { show: false },
    axisLine: { lineStyle: { color: "#c5cfd9" } },
    axisLabel: {
      interval: 0,
      color: COLORS.ink,
      fontSize: names.length > 10 ? 11 : 13,
      rotate: names.length > 10 ? 35 : 0,
      formatter: (v) => (v.length > 8 ? `${v.slice(0, 7)}…` : v),
    },
  };
}

function valueAxis(extra = {}) {
  return {
    type: "value",
    splitLine: { lineStyle: { color: COLORS.grid } },
    axisLabel: { color: COLORS.muted },
    ...extra,
  };
}

// "no data" text in the middle of a chart. Always there, by id, and hidden when there is data:
// a merged option cannot remove a graphic element that was never drawn (ECharts throws).
function empty(text, show = true) {
  return {
    graphic: [
      {
        id: "empty",
        type: "text",
        left: "center",
        top: "middle",
        ignore: !show,
        silent: true,
        style: { text, fill: COLORS.muted, fontSize: 14, fontFamily: FONT },
      },
    ],
  };
}

const noGraphic = empty("", false);

function targetLine(target, unit, decimals) {
  if (target == null) return { data: [] };
  return {
    silent: true,
    animation: false,
    symbol: "none",
    lineStyle: { color: COLORS.target, type: "dashed", width: 2 },
    label: {
      formatter: `目标\n${num(target, decimals)}${unit}`,
      position: "end",
      lineHeight: 15,
      color: COLORS.target,
      fontWeight: "bold",
      fontFamily: FONT,
    },
    data: [{ yAxis: target }],
  };
}

/** 人均就业落实率 of every child against its target, bars coloured met / not met. */
export function rateOption(children, { key = "employment_rate", unit = "%", decimals = 2, label = "人均就业落实率" }) {
  const names = children.map((c) => c.area.name);
  const values = children.map((c) => c.values[key] ?? null);
  const targets = children.map((c) => c.targets?.[key] ?? null);
  const distinct = [...new Set(targets.filter((t) => t != null))];
  const uniform = distinct.length === 1 && targets.every((t) => t != null);
  const known = values.filter((v) => v != null);
  const floor = Math.min(...known, ...distinct);
  const min = unit === "%" && known.length && floor > 40 ? Math.max(0, Math.floor((floor - 5) / 10) * 10) : 0;
  return {
    ...base(),
    ...(children.length ? noGraphic : empty("暂无下级区域数据")),
    tooltip: {
      ...base().tooltip,
      formatter: (items) => {
        const i = items[0].dataIndex;
        const c = children[i];
        const met = c.met?.[key];
        const status = met == null ? "" : met ? "<b style='color:#1a9e5c'>达标</b>" : "<b style='color:#d9483b'>未达标</b>";
        const target = targets[i] == null ? "" : `<br>目标 ${num(targets[i], decimals)}${unit} ${status}`;
        return `${c.area.name}<br>${label} <b>${num(values[i], decimals)}${unit}</b>${target}`;
      },
    },
    grid: { left: 12, right: 64, top: 36, bottom: 8, containLabel: true },
    xAxis: categoryAxis(names),
    yAxis: valueAxis({
      min,
      max: unit === "%" ? (v) => Math.max(100, Math.ceil(v.max)) : undefined,
      axisLabel: { color: COLORS.muted, formatter: unit === "%" ? "{value}%" : "{value}" },
    }),
    series: [
      {
        name: label,
        type: "bar",
        barMaxWidth: 44,
        cursor: "pointer",
        data: values.map((v, i) => ({
          value: v,
          itemStyle: {
            color: v == null ? COLORS.none : children[i].met?.[key] === false ? COLORS.unmet : COLORS.met,
            borderRadius: [4, 4, 0, 0],
          },
        })),
        label: {
          show: true,
          position: "top",
          fontSize: children.length > 10 ? 10 : 12,
          color: COLORS.ink,
          formatter: (p) => (p.value == null ? "无" : num(p.value, decimals)),
        },
        markLine: targetLine(uniform ? distinct[0] : null, unit, decimals),
      },
      {
        name: "目标",
        type: "scatter",
        symbol: "rect",
        symbolSize: [36, 3],
        itemStyle: { color: COLORS.target },
        data: uniform ? [] : targets,
        tooltip: { show: false },
      },
    ],
  };
}

/** 零就业家庭 per child: the target is 动态清零, so every bar above zero is red. */
export function zeroOption(children) {
  const names = children.map((c) => c.area.name);
  const values = children.map((c) => c.values.zero_employment_households ?? 0);
  return {
    ...base(),
    ...(children.length ? noGraphic : empty("暂无下级区域数据")),
    tooltip: { ...base().tooltip, valueFormatter: (v) => `${num(v)} 户` },
    xAxis: categoryAxis(names),
    yAxis: valueAxis({ minInterval: 1 }),
    series: [
      {
        name: "零就业家庭",
        type: "bar",
        barMaxWidth: 44,
        cursor: "pointer",
        data: values.map((v) => ({
          value: v,
          itemStyle: { color: v > 0 ? COLORS.unmet : COLORS.met, borderRadius: [4, 4, 0, 0] },
        })),
        label: { show: true, position: "top", color: COLORS.ink, formatter: (p) => num(p.value) },
      },
    ],
  };
}

/** Employed by type per child, stacked: 外出务工 in blues, 就近就地 in greens and warm tones. */
export function typesOption(children) {
  const names = children.map((c) => c.area.name);
  return {
    ...base(),
    ...(children.length ? noGraphic : empty("暂无下级区域数据")),
    legend: { top: 0, left: "center", itemWidth: 12, itemHeight: 12, textStyle: { fontFamily: FONT } },
    grid: { left: 12, right: 24, top: 44, bottom: 8, containLabel: true },
    tooltip: { ...base().tooltip, valueFormatter: (v) => `${num(v)} 人` },
    xAxis: categoryAxis(names),
    yAxis: valueAxis({ minInterval: 1 }),
    series: EMPLOYMENT_TYPES.map((t) => ({
      name: t.label,
      type: "bar",
      stack: "employed",
      barMaxWidth: 44,
      cursor: "pointer",
      itemStyle: { color: TYPE_COLORS[t.key] },
      emphasis: { focus: "series" },
      data: children.map((c) => c.counters?.[`employed:${t.key}`] ?? 0),
    })),
  };
}

// A pie in two rings: `inner` and `outer` are each ring's own settings (name, radius, label, data).
const ring = (own) => ({ type: "pie", center: ["50%", "52%"], itemStyle: { borderColor: "#fff", borderWidth: 2 }, ...own });

function ringsOption({ any, emptyText, tooltip, inner, outer }) {
  return {
    textStyle: { fontFamily: FONT, color: COLORS.ink },
    ...(any ? noGraphic : empty(emptyText)),
    tooltip: { trigger: "item", formatter: tooltip, textStyle: { fontFamily: FONT } },
    series: [ring(inner), ring(outer)],
  };
}

/** The area's employed: 外出务工 vs 就近就地 inside, the six types around. */
export function pieOption(counters) {
  const away = EMPLOYMENT_TYPES.filter((t) => t.away);
  const total = EMPLOYMENT_TYPES.reduce((s, t) => s + (counters[`employed:${t.key}`] || 0), 0);
  const sum = (types) => types.reduce((s, t) => s + (counters[`employed:${t.key}`] || 0), 0);
  return ringsOption({
    any: total,
    emptyText: "暂无就业数据",
    tooltip: "{b}<br>{c} 人({d}%)",
    inner: {
      name: "外出与就近",
      radius: [0, "36%"],
      label: { position: "inner", color: "#fff", fontSize: 12, fontWeight: "bold", formatter: "{b}\n{d}%" },
      data: [
        { name: "外出务工", value: sum(away), itemStyle: { color: "#2f5fa8" } },
        { name: "就近就地", value: sum(EMPLOYMENT_TYPES.filter((t) => !t.away)), itemStyle: { color: "#17895f" } },
      ].filter((d) => d.value > 0),
    },
    outer: {
      name: "就业类型",
      radius: ["48%", "68%"],
      avoidLabelOverlap: true,
      label: { formatter: "{b}\n{c}人", fontSize: 12, color: COLORS.ink },
      labelLine: { length: 8, length2: 8 },
      data: EMPLOYMENT_TYPES.map((t) => ({
        name: t.label,
        value: counters[`employed:${t.key}`] || 0,
        itemStyle: { color: TYPE_COLORS[t.key] },
      })).filter((d) => d.value > 0),
    },
  });
}

/** One indicator over time, from the daily ledger, with its target. */
export function trendOption(trend, decimals) {
  const points = trend.points.map((p) => [p.date, p.value]);
  const percent = trend.unit === "%";
  return {
    ...base(),
    ...(points.length ? noGraphic : empty("暂无历史数据")),
    tooltip: {
      trigger: "axis",
      confine: true,
      textStyle: { fontFamily: FONT },
      valueFormatter: (v) => `${num(v, decimals)}${trend.unit}`,
    },
    grid: { left: 12, right: 64, top: 36, bottom: 8, containLabel: true },
    xAxis: {
      type: "time",
      axisLabel: { color: COLORS.muted, hideOverlap: true, formatter: "{M}月{d}日" },
      axisLine: { lineStyle: { color: "#c5cfd9" } },
      splitLine: { show: false },
    },
    yAxis: valueAxis({
      scale: percent,
      max: percent ? (v) => Math.max(100, Math.ceil(v.max)) : undefined,
      axisLabel: { color: COLORS.muted, formatter: percent ? "{value}%" : "{value}" },
    }),
    series: [
      {
        name: trend.label,
        type: "line",
        data: points,
        showSymbol: points.length < 40,
        symbolSize: 7,
        lineStyle: { width: 3, color: COLORS.blue },
        itemStyle: { color: COLORS.blue },
        areaStyle: {
          color: new echarts.graphic.LinearGradient(0, 0, 0, 1, [
            { offset: 0, color: "rgba(31,95,191,0.28)" },
            { offset: 1, color: "rgba(31,95,191,0.02)" },
          ]),
        },
        markLine: targetLine(trend.target, trend.unit, decimals),
      },
    ],
  };
}

const WAN = 1_000_000; // fen in 1万元

/** 项目资金 per child: allocated and disbursed side by side (万元), with the disbursement rate. */
export function fundsOption(children) {
  const names = children.map((c) => c.area.name);
  const wan = (c, key) => (c.values[key] ?? 0);
  return {
    ...base(),
    ...(children.length ? noGraphic : empty("暂无下级区域数据")),
    legend: { top: 0, left: "center", itemWidth: 12, itemHeight: 12, textStyle: { fontFamily: FONT } },
    grid: { left: 12, right: 24, top: 44, bottom: 8, containLabel: true },
    tooltip: {
      ...base().tooltip,
      formatter: (items) => {
        const c = children[items[0].dataIndex];
        const a = wan(c, "allocated");
        const d = wan(c, "disbursed");
        const rate = a > 0 ? `<br>拨付率 <b>${num((d / a) * 100, 2)}%</b>` : "";
        return `${c.area.name}<br>安排资金 <b>${num(a, 2)} 万元</b><br>已拨付 <b>${num(d, 2)} 万元</b>${rate}`;
      },
    },
    xAxis: categoryAxis(names),
    yAxis: valueAxis({ axisLabel: { color: COLORS.muted, formatter: "{value} 万" } }),
    series: [
      {
        name: "安排资金",
        type: "bar",
        barMaxWidth: 28,
        cursor: "pointer",
        itemStyle: { color: "#9db8e6", borderRadius: [4, 4, 0, 0] },
        data: children.map((c) => wan(c, "allocated")),
      },
      {
        name: "已拨付",
        type: "bar",
        barMaxWidth: 28,
        cursor: "pointer",
        itemStyle: { color: COLORS.blue, borderRadius: [4, 4, 0, 0] },
        data: children.map((c) => wan(c, "disbursed")),
      },
    ],
  };
}

/** Funds by source for the area: allocated vs disbursed (万元), from its counters (fen). */
export function sourcesOption(counters) {
  const rows = FUND_SOURCES.filter((s) => counters[`allocated_fen:${s.key}`] || counters[`disbursed_fen:${s.key}`]);
  return {
    ...base(),
    ...(rows.length ? noGraphic : empty("暂无资金数据")),
    legend: { top: 0, left: "center", itemWidth: 12, itemHeight: 12, textStyle: { fontFamily: FONT } },
    grid: { left: 12, right: 48, top: 44, bottom: 8, containLabel: true },
    tooltip: { ...base().tooltip, valueFormatter: (v) => `${num(v, 2)} 万元` },
    xAxis: valueAxis({ axisLabel: { color: COLORS.muted, formatter: "{value} 万" } }),
    yAxis: { type: "category", data: rows.map((s) => s.label), axisTick: { show: false }, inverse: true },
    series: [
      {
        name: "安排资金",
        type: "bar",
        barMaxWidth: 22,
        itemStyle: { color: "#9db8e6", borderRadius: [0, 4, 4, 0] },
        label: { show: true, position: "right", formatter: (p) => num(p.value, 2), color: COLORS.ink },
        data: rows.map((s) => (counters[`allocated_fen:${s.key}`] || 0) / WAN),
      },
      {
        name: "已拨付",
        type: "bar",
        barMaxWidth: 22,
        itemStyle: { color: COLORS.blue, borderRadius: [0, 4, 4, 0] },
        label: { show: true, position: "right", formatter: (p) => num(p.value, 2), color: COLORS.ink },
        data: rows.map((s) => (counters[`disbursed_fen:${s.key}`] || 0) / WAN),
      },
    ],
  };
}

/** Projects by status (inside) and by industry chain (around). */
export function projectsPieOption(counters) {
  const status = PROJECT_STATUSES.map((s) => ({
    name: s.label,
    value: counters[`projects:status:${s.key}`] || 0,
    itemStyle: { color: s.color },
  })).filter((d) => d.value > 0);
  const chains = INDUSTRY_CHAINS.map((c) => ({
    name: c.label,
    value: counters[`projects:chain:${c.key}`] || 0,
    itemStyle: { color: c.color },
  })).filter((d) => d.value > 0);
  return ringsOption({
    any: status.length,
    emptyText: "暂无项目",
    tooltip: "{a}<br>{b}:{c} 个({d}%)",
    inner: {
      name: "项目状态",
      radius: [0, "38%"],
      label: { position: "inner", color: "#fff", fontSize: 11, formatter: "{b}\n{c}" },
      data: status,
    },
    outer: {
      name: "产业链",
      radius: ["50%", "68%"],
      label: { formatter: "{b}\n{c}个", fontSize: 12, color: COLORS.ink },
      data: chains,
    },
  });
}

/** The 四单 requests of the area: where they stand, with the overdue ones in red. */
export function requestsOption(counters) {
  const rows = [
    { name: "在办", value: counters.requests_open || 0, color: "#f0a330" },
    { name: "已办结待评单", value: (counters.requests_resolved || 0) - (counters.requests_closed || 0), color: "#6d9eea" },
    { name: "已评单关闭", value: counters.requests_closed || 0, color: COLORS.met },
    { name: "逾期未办结", value: counters.requests_overdue_open || 0, color: COLORS.unmet },
  ];
  const any = rows.some((r) => r.value > 0);
  return {
    ...base(),
    ...(any ? noGraphic : empty("暂无群众诉求")),
    tooltip: { ...base().tooltip, valueFormatter: (v) => `${num(v)} 件` },
    xAxis: categoryAxis(rows.map((r) => r.name)),
    yAxis: valueAxis({ minInterval: 1 }),
    series: [
      {
        name: "群众诉求",
        type: "bar",
        barMaxWidth: 48,
        data: rows.map((r) => ({ value: r.value, itemStyle: { color: r.color, borderRadius: [4, 4, 0, 0] } })),
        label: { show: true, position: "top", color: COLORS.ink, formatter: (p) => num(p.value) },
      },
    ],
  };
}
