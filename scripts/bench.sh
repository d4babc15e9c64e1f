#!/usr/bin/env bash
# Runs every bench/*.py (except the helpers common.py and _*.py) with the project's interpreter against real Kafka and MongoDB-protocol servers.
#
# Same pattern as scripts/test.sh: if neither KAFKA_BOOTSTRAP_SERVERS nor MONGODB_URI is set, a local
# stack is started in .stack/bench (Kafka 19492, controller 19493; SecantusDB 27417) and stopped on exit.
# Extra arguments for every benchmark: BENCH_ARGS="--n 1000". Exit code: 1 if any benchmark failed.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

PY=.venv/bin/python
STACK_DIR=${BENCH_STACK_DIR:-.stack/bench}
KAFKA_PORT=${BENCH_KAFKA_PORT:-19492}
MONGO_PORT=${BENCH_MONGO_PORT:-27417}

if [[ ! -x "$PY" ]]; then
  echo "bench.sh: $PY is missing: run 'make install' first" >&2
  exit 2
fi

shopt -s nullglob
benches=()
for f in bench/*.py; do
  case "$(basename "$f")" in
    common.py | _*.py | conftest.py) ;; # helpers imported by the benchmarks, not benchmarks
    *) benches+=("$f") ;;
  esac
done
if [[ ${#benches[@]} == 0 ]]; then
  echo "bench.sh: no bench/*.py to run"
  exit 0
fi

started=0
# shellcheck disable=SC2317  # called by the EXIT trap
stop_stack() {
  if [[ $started == 1 ]]; then
    "$PY" scripts/stack.py stop --dir "$STACK_DIR" || echo "bench.sh: could not stop the stack in $STACK_DIR" >&2
  fi
}
trap stop_stack EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

if [[ -z "${KAFKA_BOOTSTRAP_SERVERS:-}" && -z "${MONGODB_URI:-}" ]]; then
  if "$PY" scripts/stack.py status --dir "$STACK_DIR" >/dev/null 2>&1; then
    echo "bench.sh: reusing the stack already running in $STACK_DIR (left running afterwards)" >&2
  else
    started=1
    "$PY" scripts/stack.py clean --dir "$STACK_DIR" >&2
    "$PY" scripts/stack.py start --dir "$STACK_DIR" --kafka-port "$KAFKA_PORT" --mongo-port "$MONGO_PORT" >/dev/null
  fi
  eval "$("$PY" scripts/stack.py env --dir "$STACK_DIR")"
fi

failed=()
for bench in "${benches[@]}"; do
  echo "=== $bench"
  # shellcheck disable=SC2086  # BENCH_ARGS is split into words on purpose
  if ! "$PY" "$bench" ${BENCH_ARGS:-}; then
    failed+=("$bench")
  fi
done
if [[ ${#failed[@]} != 0 ]]; then
  echo "bench.sh: failed: ${failed[*]}" >&2
  exit 1
fi
echo "bench.sh: ${#benches[@]} benchmark(s) done"
