#!/usr/bin/env bash
# The unit suite at the instants where a test that reads the wall clock or the host's time zone
# would fail: just after midnight China time (16:30 UTC), the last seconds of a year in UTC, a
# morning in UTC, and under other host time zones. libfaketime moves the process's clock; every
# instant below is UTC and is given to faketime in the host zone it runs under.
#
#   bash scripts/test_anyhour.sh           # every instant below
#   ANYHOUR="UTC|2026-12-01 16:30:00" bash scripts/test_anyhour.sh   # one "zone|UTC instant"
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

if ! command -v faketime >/dev/null; then
  echo "test_anyhour.sh: faketime is missing (Debian package faketime; scripts/ensure_packages.sh installs it as root)" >&2
  exit 1
fi

if [[ -n "${ANYHOUR:-}" ]]; then
  instants=("$ANYHOUR")
else
  instants=(
    "UTC|2026-12-01 04:00:00"
    "UTC|2026-12-01 16:30:00"
    "UTC|2026-12-31 23:59:30"
    "America/Los_Angeles|2026-12-01 16:30:00"
    "Asia/Shanghai|2026-12-31 23:59:30"
  )
fi

for spec in "${instants[@]}"; do
  zone=${spec%%|*}
  utc=${spec#*|}
  local_time=$(TZ=$zone date -d "$utc UTC" '+%Y-%m-%d %H:%M:%S')
  printf "test_anyhour.sh: unit suite at %s UTC under TZ=%s: " "$utc" "$zone"
  TZ=$zone faketime -f "@$local_time" .venv/bin/python -m pytest -q -p no:cacheprovider tests/unit \
    | tail -n 1
done
