#!/usr/bin/env bash
# Makes sure the Debian packages the tests need are there: Chromium and a Chinese font for the
# browser e2e test (tests/e2e/test_monitoring_page.py drives /usr/bin/chromium with Playwright for
# Python; Playwright's own browser download is never used), and faketime for the any-hour run of the
# unit suite (scripts/test_anyhour.sh). Installs them with apt-get when missing and we are root (CI,
# fresh machines); otherwise only says what is missing. Idempotent and quiet when all is present.
set -euo pipefail

CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
missing=()
[[ -x "$CHROMIUM" ]] || missing+=(chromium)
command -v faketime >/dev/null || missing+=(faketime)
# fonts-noto-cjk: without a CJK font every Chinese character renders as a box ("tofu")
fonts=$(command -v fc-list >/dev/null && fc-list :lang=zh family || true)
if [[ ${fonts,,} != *"noto sans cjk"* ]]; then
  missing+=(fonts-noto-cjk)
fi
[[ ${#missing[@]} == 0 ]] && exit 0

if [[ $(id -u) != 0 ]] || ! command -v apt-get >/dev/null; then
  echo "ensure_packages.sh: missing ${missing[*]}: install them with apt-get as root (the browser test and the any-hour run need them)" >&2
  exit 0
fi
echo "ensure_packages.sh: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" fontconfig >/dev/null
fc-cache -f >/dev/null 2>&1 || true
"$CHROMIUM" --version >&2
faketime --version 2>&1 | head -n 1 >&2 || true
