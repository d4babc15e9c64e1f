// The monitoring page: log in with a bearer token, start at the highest area it covers, drill
// down city → county → town → community, and follow the area live over Server-Sent Events.
import { ApiError, decodeClaims, followStream, get, token } from "./api.js";
import {
  chart,
  clearAll,
  fundsOption,
  pieOption,
  projectsPieOption,
  rateOption,
  requestsOption,
  resizeAll,
  sourcesOption,
  trendOption,
  typesOption,
  zeroOption,
} from "./charts.js";
import {
  CAUSES,
  CHILD_LABELS,
  COMMUNITY_CARDS,
  DECIMALS,
  EMPLOYMENT_TYPES,
  HEADLINE,
  HOUSEHOLD_KINDS,
  LEVEL_LABELS,
  OTHER_KINDS,
  PROJECT_CARDS,
  PROJECT_STATUSES,
  ROLE_LABELS,
  clock,
  day,
  escapeHtml,
  levelOf,
  num,
  rankOf,
  signed,
} from "./format.js";

const $ = (sel) => document.querySelector(sel);
const FEED_KEEP = 50;
const ZERO_SHOWN = 50;

const state = {
  claims: null,
  area: null,
  view: null,
  indicators: new Map(),
  trendKey: "employment_rate",
  feed: [],
  freshFeed: new Map(),
  stream: null,
  names: new Map(),
  lastValues: new Map(),
  changes: new Map(),
  seq: 0,
  refreshTimer: null,
};

// ---------------------------------------------------------------------------------------------
// login

function showLogin(message = "") {
  closeStream();
  $("#app").hidden = true;
  $("#session").hidden = true;
  $("#login").hidden = false;
  $("#login-error").textContent = message;
  $("#token").value = "";
  $("#token").focus();
}

function claimsProblem(claims) {
  if (claims.exp && claims.exp * 1000 < Date.now()) return "登录已过期,请重新获取身份令牌";
  if (!Array.isArray(claims.areas) || claims.areas.length === 0) return "身份令牌未包含管辖区域(areas)";
  return null;
}

$("#login-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const raw = $("#token").value.trim().replace(/^Bearer\s+/i, "");
  let claims;
  try {
    claims = decodeClaims(raw);
  } catch (error) {
    $("#login-error").textContent = error.message;
    return;
  }
  const problem = claimsProblem(claims);
  if (problem) {
    $("#login-error").textContent = problem;
    return;
  }
  token.set(raw);
  start();
});

$("#logout").addEventListener("click", () => {
  token.clear();
  history.replaceState(null, "", location.pathname);
  showLogin();
});

async function start() {
  const raw = token.get();
  if (!raw) return showLogin();
  let claims;
  try {
    claims = decodeClaims(raw);
  } catch (error) {
    token.clear();
    return showLogin(error.message);
  }
  const problem = claimsProblem(claims);
  if (problem) {
    token.clear();
    return showLogin(problem);
  }
  state.claims = claims;
  $("#login").hidden = true;
  $("#app").hidden = false;
  $("#session").hidden = false;
  const roles = (claims.roles || []).map((r) => ROLE_LABELS[r] || r).join("、");
  $("#who").textContent = `${claims.name || claims.sub || ""} · ${roles}`;
  renderScopes();
  try {
    const list = await get("indicators");
    state.indicators = new Map(list.map((i) => [i.key, i]));
    renderTrendSelect();
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) return expired(error);
  }
  navigate(fromHash() || roots()[0]);
}

function expired(error) {
  token.clear();
  showLogin(error.message);
}

/** The token's areas at the highest level it covers (a city officer: the city). */
function roots() {
  const areas = state.claims.areas;
  const top = Math.min(...areas.map(rankOf));
  return areas.filter((a) => rankOf(a) === top);
}

function renderScopes() {
  const list = roots();
  const el = $("#scopes");
  if (list.length < 2) {
    el.innerHTML = "";
    return;
  }
  el.innerHTML =
    `<span class="muted">管辖区域</span>` +
    list.map((a) => `<button class="chip" data-code="${escapeHtml(a)}">${escapeHtml(nameOf(a))}</button>`).join("");
}

$("#scopes").addEventListener("click", (event) => {
  const code = event.target.closest("[data-code]")?.dataset.code;
  if (code) navigate(code);
});

// ---------------------------------------------------------------------------------------------
// navigation

function fromHash() {
  const code = decodeURIComponent(location.hash.replace(/^#\/?/, ""));
  return /^[0-9A-Za-z-]{6,40}$/.test(code) ? code : null;
}

window.addEventListener("hashchange", () => {
  const code = fromHash();
  if (state.claims && code && code !== state.area) navigate(code);
});

function nameOf(code) {
  return state.names.get(code) || code;
}

function remember(area) {
  if (area && area.name && area.name !== area.code) state.names.set(area.code, area.name);
}

async function navigate(code) {
  const seq = ++state.seq;
  closeStream();
  state.area = code;
  state.view = null;
  state.lastValues = new Map();
  state.changes = new Map();
  state.feed = [];
  if (location.hash !== `#${code}`) history.replaceState(null, "", `#${code}`);
  document.body.dataset.area = code;
  delete document.body.dataset.rendered;
  delete document.body.dataset.streamed;
  hideError();
  $("#content").classList.add("loading");
  let view;
  try {
    view = await get(`views/${encodeURIComponent(code)}`);
  } catch (error) {
    if (seq !== state.seq) return;
    $("#content").classList.remove("loading");
    if (error.status === 401) return expired(error);
    showError(error.message);
    const root = roots()[0];
    $("#crumbs").innerHTML =
      (code === root
        ? ""
        : `<a href="#${escapeHtml(root)}" data-code="${escapeHtml(root)}">${escapeHtml(nameOf(root))}</a><span class="sep">›</span>`) +
      `<span class="here">${escapeHtml(code)}</span>`;
    $("#area-name").textContent = "";
    $("#area-level").textContent = "";
    $("#updated").textContent = "";
    $("#content").hidden = true;
    setLive("closed");
    return;
  }
  if (seq !== state.seq) return;
  $("#content").hidden = false;
  $("#content").classList.remove("loading");
  clearAll();
  render(view);
  loadTrend();
  loadZero();
  loadFeed();
  openStream(code, seq);
}

function openStream(code, seq) {
  state.stream = followStream(code, {
    onState: (s, delay) => seq === state.seq && setLive(s, delay),
    onFatal: (error) => {
      if (seq !== state.seq) return;
      if (error.status === 401) expired(error);
      else showError(error.message);
    },
    onEvent: (kind, data) => {
      if (seq !== state.seq) return;
      if (kind === "view" && data.area?.code === state.area) {
        render(data);
        document.body.dataset.streamed = String(Number(document.body.dataset.streamed || 0) + 1);
        scheduleRefresh();
      } else if (kind === "feed") {
        addFeed(data);
      }
    },
  });
}

function closeStream() {
  if (state.stream) state.stream.close();
  state.stream = null;
}

/** Trend and zero-employment list follow the view, at most every 1.5 s. */
function scheduleRefresh() {
  clearTimeout(state.refreshTimer);
  state.refreshTimer = setTimeout(() => {
    loadTrend();
    loadZero();
  }, 1500);
}

function setLive(s, delay) {
  const el = $("#live");
  el.dataset.state = s;
  el.querySelector("span").textContent = {
    connecting: "正在连接…",
    live: "实时更新中",
    retry: `连接中断,${Math.max(1, Math.round((delay || 0) / 1000))} 秒后重连`,
    closed: "未连接",
  }[s];
}

function showError(message) {
  const el = $("#error");
  el.textContent = message;
  el.hidden = false;
}

function hideError() {
  $("#error").hidden = true;
}

// ---------------------------------------------------------------------------------------------
// rendering the view

function render(view) {
  state.view = view;
  remember(view.area);
  for (const c of view.children) remember(c.area);
  view.children.sort((a, b) => a.area.code.localeCompare(b.area.code));
  renderCrumbs(view.area.path);
  $("#area-name").textContent = view.area.name;
  $("#area-level").textContent = LEVEL_LABELS[view.area.level] || view.area.level;
  $("#updated").textContent = view.updated_at ? `数据更新于 ${clock(view.updated_at)}` : "";
  renderCards(view);
  renderChildren(view);
  $("#c-pie-total").textContent = `已就业 ${num(view.counters.employed || 0)} 人`;
  chart($("#c-pie")).setOption(pieOption(view.counters));
  $("#requests-total").textContent = `累计点单 ${num(view.counters.requests_submitted || 0)} 件`;
  chart($("#c-requests")).setOption(requestsOption(view.counters));
  $("#projects-total").textContent = `共 ${num(view.counters.projects || 0)} 个项目`;
  chart($("#c-projects")).setOption(projectsPieOption(view.counters));
  chart($("#c-sources")).setOption(sourcesOption(view.counters));
  document.body.dataset.rendered = view.updated_at || "1";
}

function renderCrumbs(path) {
  const mine = new Set(state.claims.areas);
  let from = path.findIndex((code) => mine.has(code));
  if (from < 0) from = path.length - 1;
  const crumbs = path.slice(from);
  $("#crumbs").innerHTML = crumbs
    .map((code, i) =>
      i === crumbs.length - 1
        ? `<span class="here" aria-current="page">${escapeHtml(nameOf(code))}</span>`
        : `<a href="#${escapeHtml(code)}" data-code="${escapeHtml(code)}">${escapeHtml(nameOf(code))}</a>`,
    )
    .join(`<span class="sep">›</span>`);
  const unknown = crumbs.filter((c) => !state.names.has(c));
  if (unknown.length) resolveNames(unknown).then(() => state.view && renderCrumbs(state.view.area.path));
}

const FOOTS = {
  households: (c) =>
    `${HOUSEHOLD_KINDS.registered_poor} ${num(c["households:registered_poor"] || 0)} · ${HOUSEHOLD_KINDS.co_relocated} ${num(c["households:co_relocated"] || 0)}`,
  residents: (c) =>
    `${HOUSEHOLD_KINDS.registered_poor} ${num(c["residents:registered_poor"] || 0)} · ${HOUSEHOLD_KINDS.co_relocated} ${num(c["residents:co_relocated"] || 0)}`,
  labour_force: (c) => `有劳动力家庭 ${num(c.households_with_labour || 0)} 户`,
  employed: (c) => `外出务工 ${num(c.employed_away || 0)} · 就近就地 ${num(c.employed_local || 0)}`,
  requests_submitted: (c) => `在办 ${num(c.requests_open || 0)} · 已办结 ${num(c.requests_resolved || 0)}`,
  resolved_low_level_share: () => "小事不出楼栋、不出网格",
  average_rating: (c) => `已评单 ${num(c.requests_closed || 0)} 件(满分 5 分)`,
  mean_hours_to_close: () => "从点单到评单关闭",
  projects: (c) =>
    PROJECT_STATUSES.filter((s) => c[`projects:status:${s.key}`])
      .map((s) => `${s.label} ${num(c[`projects:status:${s.key}`])}`)
      .join(" · "),
  allocated: (c) => `省级示范项目 ${num(c.projects_demonstration || 0)} 个`,
  disbursed: (c) => `拨付率 ${c.allocated_fen ? num(((c.disbursed_fen || 0) / c.allocated_fen) * 100, 2) : "—"}%`,
  disbursement_rate: () => "已拨付 ÷ 安排资金",
  project_jobs: () => "按就业台账实际带动",
  dividends: (c) =>
    `到户 ${num((c["dividends_fen:household"] || 0) / 1e6, 2)} 万 · 到集体 ${num((c["dividends_fen:collective"] || 0) / 1e6, 2)} 万`,
  households_benefiting: () => "获得分红的搬迁户",
  collective_income: (c) => `集体资产 ${num((c.collective_assets_fen || 0) / 1e6, 2)} 万元`,
};

const decimalsOf = (key) => DECIMALS[key] ?? state.indicators.get(key)?.decimals ?? 0;

function renderCards(view) {
  cardsInto($("#cards"), HEADLINE, view);
  cardsInto($("#cards-community"), COMMUNITY_CARDS, view);
  cardsInto($("#cards-projects"), PROJECT_CARDS, view);
}

function cardsInto(el, keys, view) {
  const byKey = new Map(view.indicators.map((i) => [i.key, i]));
  const html = keys.filter((k) => byKey.has(k)).map((key) => {
    const ind = byKey.get(key);
    const decimals = decimalsOf(key);
    const status = ind.met == null ? "neutral" : ind.met ? "met" : "unmet";
    let foot;
    if (ind.target != null) {
      const op = ind.better === "lower" ? "≤" : "≥";
      const unit = ind.unit === "%" ? "%" : ` ${ind.unit}`;
      const target = `<span class="target">目标 ${op} ${num(ind.target, decimals)}${unit}</span>`;
      let gap = `<span class="pill neutral">暂无数据</span>`;
      if (ind.met === true) {
        gap = `<span class="pill met">达标${ind.gap ? ` ${signed(ind.gap, decimals)}` : ""}</span>`;
      } else if (ind.met === false) {
        gap = `<span class="pill unmet">未达标 差距 ${signed(ind.gap, decimals)}</span>`;
      }
      foot = `${target}${gap}`;
    } else {
      foot = `<span class="target">${FOOTS[key] ? FOOTS[key](view.counters) : ""}</span>`;
    }
    // a change stays marked for a few seconds (+1 / −1 beside the label), whatever arrives next
    const before = state.lastValues.get(key);
    const fresh = before != null && ind.value != null && before !== ind.value;
    if (fresh) {
      const delta = Math.round((ind.value - before) * 10 ** decimals) / 10 ** decimals;
      state.changes.set(key, { delta, until: Date.now() + 6000 });
      clearTimeout(state.changesTimer);
      state.changesTimer = setTimeout(() => state.view && renderCards(state.view), 6100);
    }
    const change = state.changes.get(key);
    const bump =
      change && change.until > Date.now()
        ? `<span class="delta ${(change.delta > 0) === (ind.better !== "lower") ? "good" : "bad"}">${signed(change.delta, decimals)}</span>`
        : "";
    return `<div class="card ${status}${fresh ? " bump" : ""}" data-indicator="${key}" data-value="${ind.value ?? ""}">
      <div class="label">${escapeHtml(ind.label)}${bump}</div>
      <div class="value"><span class="num">${num(ind.value, decimals)}</span><span class="unit">${escapeHtml(ind.unit)}</span></div>
      <div class="foot">${foot}</div>
    </div>`;
  });
  el.innerHTML = html.join("");
  for (const k of keys) if (byKey.has(k)) state.lastValues.set(k, byKey.get(k).value);
}

function renderChildren(view) {
  const children = view.children;
  const noun = CHILD_LABELS[view.area.level] || "下级区域";
  let toggled = false;
  document.querySelectorAll(".needs-children").forEach((el) => {
    toggled ||= el.hidden !== (children.length === 0);
    el.hidden = children.length === 0;
  });
  if (toggled) requestAnimationFrame(resizeAll); // charts drawn while hidden have no size
  if (!children.length) return;
  $("#t-rate").textContent = `各${noun}人均就业落实率`;
  $("#t-zero").textContent = `各${noun}零就业家庭`;
  $("#t-types").textContent = `各${noun}就业结构`;
  $("#t-table").textContent = `各${noun}指标对比`;
  $("#t-completion").textContent = `各${noun}民情实事办结率`;
  $("#t-mediation").textContent = `各${noun}矛盾纠纷调解成功率`;
  $("#t-visits").textContent = `各${noun}本年上门服务`;
  $("#t-funds").textContent = `各${noun}项目资金`;
  chart($("#c-rate")).setOption(rateOption(children, {}));
  chart($("#c-zero")).setOption(zeroOption(children));
  chart($("#c-types")).setOption(typesOption(children));
  chart($("#c-completion")).setOption(
    rateOption(children, { key: "request_completion_rate", label: "民情实事办结率" }),
  );
  chart($("#c-mediation")).setOption(rateOption(children, { key: "mediation_success_rate", label: "调解成功率" }));
  chart($("#c-visits")).setOption(
    rateOption(children, { key: "visits_this_year", unit: "次", decimals: 0, label: "本年上门服务" }),
  );
  chart($("#c-funds")).setOption(fundsOption(children));
  for (const id of ["#c-rate", "#c-zero", "#c-types", "#c-completion", "#c-mediation", "#c-visits", "#c-funds"]) {
    const c = chart($(id));
    if (!c.__drill) {
      c.on("click", (p) => {
        const child = state.view?.children[p.dataIndex];
        if (child) navigate(child.area.code);
      });
      c.__drill = true;
    }
  }
  const cell = (c, key) => {
    const v = c.values[key];
    const met = c.met[key];
    const cls = met == null ? "" : met ? "met" : "unmet";
    return `<td class="n ${cls}">${num(v, decimalsOf(key))}</td>`;
  };
  const row = (c) => `<tr data-code="${escapeHtml(c.area.code)}" tabindex="0" title="查看${escapeHtml(c.area.name)}">
      <th scope="row"><span class="go">›</span>${escapeHtml(c.area.name)}</th>
      ${HEADLINE.map((k) => cell(c, k)).join("")}
    </tr>`;
  $("#children tbody").innerHTML = children.map(row).join("");
  const total = {
    values: Object.fromEntries(view.indicators.map((i) => [i.key, i.value])),
    met: Object.fromEntries(view.indicators.map((i) => [i.key, i.met])),
  };
  $("#children tfoot").innerHTML = `<tr><th scope="row">${escapeHtml(view.area.name)}合计</th>${HEADLINE.map((k) => cell(total, k)).join("")}</tr>`;
}

$("#children").addEventListener("click", (event) => {
  const code = event.target.closest("tr[data-code]")?.dataset.code;
  if (code) navigate(code);
});
$("#children").addEventListener("keydown", (event) => {
  const code = event.target.closest("tr[data-code]")?.dataset.code;
  if (code && (event.key === "Enter" || event.key === " ")) navigate(code);
});
$("#crumbs").addEventListener("click", (event) => {
  const code = event.target.closest("a[data-code]")?.dataset.code;
  if (code) {
    event.preventDefault();
    navigate(code);
  }
});

// ---------------------------------------------------------------------------------------------
// trend

function renderTrendSelect() {
  const groups = { registry: "搬迁群众", employment: "就业帮扶", community: "社区治理", projects: "项目资金" };
  const byGroup = {};
  for (const i of state.indicators.values()) (byGroup[i.group] ||= []).push(i);
  $("#trend-indicator").innerHTML = Object.entries(byGroup)
    .map(
      ([g, list]) =>
        `<optgroup label="${escapeHtml(groups[g] || g)}">${list
          .map((i) => `<option value="${escapeHtml(i.key)}"${i.key === state.trendKey ? " selected" : ""}>${escapeHtml(i.label)}</option>`)
          .join("")}</optgroup>`,
    )
    .join("");
}

$("#trend-indicator").addEventListener("change", (event) => {
  state.trendKey = event.target.value;
  loadTrend();
});

async function loadTrend() {
  const seq = state.seq;
  const key = state.trendKey;
  try {
    const trend = await get(`views/${encodeURIComponent(state.area)}/trend`, { indicator: key });
    if (seq !== state.seq || key !== state.trendKey) return;
    const decimals = state.indicators.get(key)?.decimals ?? DECIMALS[key] ?? 0;
    const unit = trend.unit === "%" ? "%" : ` ${trend.unit}`;
    $("#trend-target").textContent = trend.target == null ? "" : `目标 ${num(trend.target, decimals)}${unit}`;
    const c = chart($("#c-trend"));
    if (c.__shows !== `${state.area}|${key}`) c.clear(); // another area or indicator: draw afresh
    c.__shows = `${state.area}|${key}`;
    c.setOption(trendOption(trend, decimals));
  } catch (error) {
    if (error.status === 401) expired(error);
  }
}

// ---------------------------------------------------------------------------------------------
// zero-employment households

/** Looks up the names of areas the page has not seen yet (at most 60, six at a time): the API
 *  gives codes in the alert list and the feed; a view of the area names it and its children. */
async function resolveNames(codes) {
  const queue = [...new Set(codes)].filter((c) => c && !state.names.has(c)).slice(0, 60);
  async function worker() {
    for (let code = queue.shift(); code; code = queue.shift()) {
      if (state.names.has(code)) continue;
      try {
        const v = await get(`views/${encodeURIComponent(code)}`);
        state.names.set(code, v.area.name);
        for (const c of v.children) remember(c.area);
      } catch {
        state.names.set(code, code);
      }
    }
  }
  await Promise.all(Array.from({ length: 6 }, worker));
}

const depthHere = () => (state.view ? state.view.area.path.length : 0);

/** The names of the areas between the current one and the place (county · town · community). */
function placeOf(path, { deepest = 4 } = {}) {
  return path.slice(depthHere(), deepest + 1).map(nameOf).join(" · ");
}

async function loadZero() {
  const seq = state.seq;
  let list;
  try {
    list = await get("zero-employment-households", { area: state.area, limit: 200 });
  } catch (error) {
    if (error.status === 401) expired(error);
    return;
  }
  if (seq !== state.seq) return;
  list.sort((a, b) => b.days_at_zero - a.days_at_zero);
  const shown = list.slice(0, ZERO_SHOWN);
  const codes = shown.flatMap((h) => [...h.area_path.slice(depthHere(), 5), h.building]).filter(Boolean);
  if (codes.some((c) => !state.names.has(c))) {
    await resolveNames(codes);
    if (seq !== state.seq) return;
  }
  $("#zero-count").textContent = list.length >= 200 ? "200+ 户" : `${list.length} 户`;
  $("#zero-count").className = `badge ${list.length ? "unmet" : "met"}`;
  const el = $("#zero-list");
  if (!list.length) {
    el.innerHTML = `<li class="empty">✓ 当前无零就业家庭,保持动态清零</li>`;
    return;
  }
  el.innerHTML =
    shown
      .map((h) => {
        const severity = h.days_at_zero >= 30 ? "high" : h.days_at_zero >= 7 ? "mid" : "low";
        const where = [h.community, h.building].filter(Boolean).map(nameOf).join(" · ");
        const above = placeOf(h.area_path, { deepest: 3 });
        const facts = [above, `户编号 ${h.household_id.slice(-8)}`, `劳动力 ${num(h.labour_count)} 人`, `${day(h.since)} 起`];
        const text = facts.filter(Boolean).join(" · ");
        return `<li data-household="${escapeHtml(h.household_id)}" title="${escapeHtml(`${where} · ${text}`)}">
          <div class="who">
            <b>${escapeHtml(where)}</b>
            <small>${escapeHtml(text)}</small>
          </div>
          <div class="days ${severity}"><b>${num(h.days_at_zero)}</b><small>天</small></div>
        </li>`;
      })
      .join("") + (list.length > ZERO_SHOWN ? `<li class="more">另有 ${num(list.length - ZERO_SHOWN)} 户未列出</li>` : "");
}

// ---------------------------------------------------------------------------------------------
// live feed

const FEED_TONES = {
  "governance.request_overdue": "alert",
  "governance.request_escalated": "warn",
  "governance.request_reopened": "warn",
  "governance.request_rated": "ok",
  "governance.request_resolved": "ok",
  "projects.dividend_paid": "ok",
  "projects.funds_disbursed": "ok",
  "projects.payment_reversed": "warn",
  "employment.worker_employed": "ok",
  "employment.household_zero_employment_cleared": "ok",
  "employment.household_zero_employment_raised": "alert",
  "employment.employment_ended": "warn",
  "governance.resident_moved_out": "warn",
};

async function loadFeed() {
  const seq = state.seq;
  try {
    const items = await get("feed", { area: state.area, limit: FEED_KEEP });
    if (seq !== state.seq) return;
    const seen = new Set(state.feed.map((f) => f.event_id));
    state.feed = [...state.feed, ...items.filter((i) => !seen.has(i.event_id))].slice(0, FEED_KEEP);
    items.forEach(learnFromFeed);
    renderFeed();
    feedNames();
  } catch (error) {
    if (error.status === 401) expired(error);
  }
}

function learnFromFeed(item) {
  if (item.type === "governance.area_registered" && item.detail?.name) {
    state.names.set(item.area_path[item.area_path.length - 1], item.detail.name);
  }
}

function addFeed(item) {
  if (state.feed.some((f) => f.event_id === item.event_id)) return;
  learnFromFeed(item);
  state.feed = [item, ...state.feed].slice(0, FEED_KEEP);
  state.freshFeed.set(item.event_id, Date.now() + 3000);
  renderFeed();
  feedNames();
}

async function feedNames() {
  const codes = state.feed.flatMap((i) => i.area_path.slice(depthHere(), 5)).filter((c) => !state.names.has(c));
  if (!codes.length) return;
  const seq = state.seq;
  await resolveNames(codes);
  if (seq === state.seq) renderFeed();
}

function feedDetail(item) {
  const d = item.detail || {};
  const parts = [];
  const type = EMPLOYMENT_TYPES.find((t) => t.key === d.employment_type);
  if (type) parts.push(type.label);
  if (d.employer) parts.push(d.employer);
  if (d.monthly_wage != null) parts.push(`月薪 ${num(d.monthly_wage)} 元`);
  if (d.course) parts.push(d.course);
  if (d.kind) parts.push(HOUSEHOLD_KINDS[d.kind] || OTHER_KINDS[d.kind] || d.kind);
  if (d.name) parts.push(d.name);
  if (d.labour_count != null) parts.push(`劳动力 ${num(d.labour_count)} 人`);
  if (d.cause) parts.push(`原因:${CAUSES[d.cause] || d.cause}`);
  if (d.amount_fen != null) parts.push(`金额 ${num(d.amount_fen / 1e6, 2)} 万元`);
  if (d.score != null) parts.push(`评分 ${num(d.score)} 分`);
  if (d.successful != null) parts.push(d.successful ? "调解成功" : "调解未成功");
  if (d.to_status) parts.push(PROJECT_STATUSES.find((s) => s.key === d.to_status)?.label || d.to_status);
  return parts.join(" · ");
}

function renderFeed() {
  const now = Date.now();
  for (const [id, until] of state.freshFeed) if (until < now) state.freshFeed.delete(id);
  const el = $("#feed");
  if (!state.feed.length) {
    el.innerHTML = `<li class="empty">暂无动态</li>`;
    return;
  }
  el.innerHTML = state.feed
    .map(
      (item) => `<li class="${state.freshFeed.has(item.event_id) ? "fresh" : ""}" data-type="${escapeHtml(item.type)}">
        <time>${escapeHtml(clock(item.at))}</time>
        <div>
          <span class="tag ${FEED_TONES[item.type] || "info"}">${escapeHtml(item.label)}</span>
          <span class="place">${escapeHtml(placeOf(item.area_path) || nameOf(item.area_path[item.area_path.length - 1]))}</span>
          <div class="detail">${escapeHtml(feedDetail(item))}</div>
        </div>
      </li>`,
    )
    .join("");
}

// ---------------------------------------------------------------------------------------------

let resizeTimer = null;
window.addEventListener("resize", () => {
  clearTimeout(resizeTimer);
  resizeTimer = setTimeout(resizeAll, 150);
});

// exposed for the browser test and for a look from the console
window.monitor = {
  state,
  levelOf,
  option: (selector) => JSON.parse(JSON.stringify(chart($(selector)).getOption())),
};

start();
