// The read model's API as the page uses it: the bearer token (kept in sessionStorage), JSON
// calls with the API's own Chinese error messages, and the Server-Sent Events stream read with
// fetch() (EventSource cannot send an Authorization header).

const TOKEN_KEY = "relocation.monitor.token";
// The page is served at <base>/monitor/; the API lives at <base>/api/v1 (works behind a prefix).
const API_BASE = new URL("../api/v1/", location.href);

export class ApiError extends Error {
  constructor(status, message, field) {
    super(message);
    this.status = status;
    this.field = field;
  }
}

const STATUS_MESSAGES = {
  401: "请先登录(身份令牌无效或已过期)",
  403: "无权查看该区域",
  404: "该区域暂无数据",
  429: "请求过于频繁,请稍后再试",
};

export const token = {
  get: () => sessionStorage.getItem(TOKEN_KEY),
  set: (value) => sessionStorage.setItem(TOKEN_KEY, value),
  clear: () => sessionStorage.removeItem(TOKEN_KEY),
};

/** The claims of a JWT, decoded without verification (the API verifies; the page only reads
 *  which areas and roles the token names). Throws a Chinese message when it is not a JWT. */
export function decodeClaims(jwt) {
  const parts = (jwt || "").trim().split(".");
  if (parts.length !== 3) throw new Error("这不是有效的身份令牌(应为三段以“.”分隔的 JWT)");
  try {
    const b64 = parts[1].replace(/-/g, "+").replace(/_/g, "/");
    const padded = b64 + "=".repeat((4 - (b64.length % 4)) % 4);
    const bytes = Uint8Array.from(atob(padded), (c) => c.charCodeAt(0));
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    throw new Error("身份令牌无法解析,请确认复制完整");
  }
}

function url(path, params) {
  const u = new URL(path.replace(/^\//, ""), API_BASE);
  for (const [k, v] of Object.entries(params || {})) if (v != null) u.searchParams.set(k, v);
  return u;
}

function headers(accept = "application/json") {
  return { Authorization: `Bearer ${token.get()}`, Accept: accept };
}

async function failure(response) {
  let body = {};
  try {
    body = await response.json();
  } catch {
    /* not JSON: fall back to the status */
  }
  const message = body.message || STATUS_MESSAGES[response.status] || `服务暂不可用(${response.status})`;
  return new ApiError(response.status, message, body.field);
}

export async function get(path, params) {
  let response;
  try {
    response = await fetch(url(path, params), { headers: headers(), cache: "no-store" });
  } catch {
    throw new ApiError(0, "无法连接监测服务,请检查网络");
  }
  if (!response.ok) throw await failure(response);
  return response.json();
}

/** Parses a text/event-stream body into (event, data) pairs. Pure, fed chunk by chunk. */
export class SseParser {
  constructor(onEvent) {
    this.onEvent = onEvent;
    this.buffer = "";
    this.event = "message";
    this.data = [];
  }

  push(chunk) {
    this.buffer += chunk;
    let nl;
    while ((nl = this.buffer.indexOf("\n")) >= 0) {
      let line = this.buffer.slice(0, nl);
      this.buffer = this.buffer.slice(nl + 1);
      if (line.endsWith("\r")) line = line.slice(0, -1);
      this.line(line);
    }
  }

  line(line) {
    if (line === "") {
      if (this.data.length) this.onEvent(this.event, this.data.join("\n"));
      this.event = "message";
      this.data = [];
      return;
    }
    if (line.startsWith(":")) return; // a comment
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (field === "event") this.event = value;
    else if (field === "data") this.data.push(value);
  }
}

/**
 * Follows /stream?area=… and calls onEvent(kind, parsedJson) for `view`, `feed` and `ping`.
 * Reconnects with exponential backoff (1 s, 2 s, 4 s … 15 s, with jitter) whenever the stream
 * ends: the read model closes it when it switches generations after a rebuild, and a proxy or a
 * network may drop it. A stream silent for 45 s (pings come every 15 s) is dropped and reopened.
 * 401/403/404 are final: onFatal(ApiError) and no retry.
 */
export function followStream(area, { onEvent, onState, onFatal }) {
  let stopped = false;
  let controller = null;
  let timer = null;
  let attempt = 0;
  let lastSeen = Date.now();
  const watchdog = setInterval(() => {
    if (controller && Date.now() - lastSeen > 45_000) controller.abort();
  }, 5_000);

  async function connect() {
    controller = new AbortController();
    onState("connecting");
    try {
      const response = await fetch(url("stream", { area }), {
        headers: headers("text/event-stream"),
        signal: controller.signal,
        cache: "no-store",
      });
      if (!response.ok) {
        const error = await failure(response);
        if ([401, 403, 404].includes(response.status)) {
          stopped = true;
          onState("closed");
          onFatal(error);
          return;
        }
        throw error;
      }
      attempt = 0;
      lastSeen = Date.now();
      onState("live");
      const parser = new SseParser((kind, data) => {
        let parsed;
        try {
          parsed = JSON.parse(data);
        } catch {
          return;
        }
        onEvent(kind, parsed);
      });
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        lastSeen = Date.now();
        parser.push(value);
      }
    } catch {
      /* dropped or refused: retried below */
    }
    if (stopped) return;
    attempt += 1;
    const delay = Math.min(15_000, 500 * 2 ** attempt) * (0.8 + Math.random() * 0.4);
    onState("retry", delay);
    timer = setTimeout(connect, delay);
  }

  connect();
  return {
    close() {
      stopped = true;
      clearTimeout(timer);
      clearInterval(watchdog);
      if (controller) controller.abort();
    },
  };
}
