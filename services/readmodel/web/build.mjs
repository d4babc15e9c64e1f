// Builds the monitoring page into the read model's static folder (served at /monitor/):
// the page's own files from src/ and Apache ECharts' ES-module build from node_modules (installed
// by `npm ci` from package-lock.json, never pasted into the repository).
//
//   node build.mjs                 -> ../readmodel_service/static/
//   node build.mjs --out DIR       -> DIR (the e2e test builds into a temporary folder)
import { createHash } from "node:crypto";
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const outArg = args.indexOf("--out");
const out = resolve(outArg >= 0 ? args[outArg + 1] : join(here, "..", "readmodel_service", "static"));
const src = join(here, "src");
const echarts = join(here, "node_modules", "echarts");

if (!existsSync(join(echarts, "dist", "echarts.esm.min.mjs"))) {
  console.error("build.mjs: node_modules/echarts is missing: run `npm ci` in services/readmodel/web first");
  process.exit(1);
}

const pageFiles = readdirSync(src).filter((f) => /\.(html|js|css|svg)$/.test(f));
// A build id from every input, so browsers never mix a new page with a cached old script.
const hash = createHash("sha256");
for (const f of pageFiles.sort()) hash.update(f).update(readFileSync(join(src, f)));
hash.update(readFileSync(join(echarts, "package.json")));
const build = hash.digest("hex").slice(0, 10);

rmSync(out, { recursive: true, force: true });
mkdirSync(join(out, "vendor"), { recursive: true });
for (const f of pageFiles) {
  const text = readFileSync(join(src, f), "utf8").replaceAll("__BUILD__", build);
  writeFileSync(join(out, f), text);
}
// .js rather than .mjs: every static server knows its content type.
copyFileSync(join(echarts, "dist", "echarts.esm.min.mjs"), join(out, "vendor", "echarts.esm.min.js"));
for (const [from, to] of [
  ["LICENSE", "ECHARTS-LICENSE.txt"],
  ["NOTICE", "ECHARTS-NOTICE.txt"],
]) {
  if (existsSync(join(echarts, from))) copyFileSync(join(echarts, from), join(out, "vendor", to));
}
const version = JSON.parse(readFileSync(join(echarts, "package.json"), "utf8")).version;
writeFileSync(join(out, "build.json"), JSON.stringify({ build, echarts: version, files: pageFiles }, null, 2) + "\n");
console.log(`monitoring page ${build} (echarts ${version}) -> ${out}`);
