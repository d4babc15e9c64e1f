#!/usr/bin/env bash
# Runs the test suite against real Kafka and MongoDB-protocol servers.
#
# If neither KAFKA_BOOTSTRAP_SERVERS nor MONGODB_URI is set, a local stack (scripts/stack.py) is started
# in .stack/test on ports 19192 (Kafka; controller 19193) and 27217 (SecantusDB), so it does not clash
# with the dev stack of `make run` / `make stack-up`, and stopped again on exit (its data and logs
# stay in .stack/test/ for a look; the next run starts from empty data).
# Extra pytest arguments, split as a shell would (quotes group words): PYTEST_ARGS="-k 'outbox or relay' -x".
# Exit code: pytest's, except that "no tests collected" (5) counts as a failure.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

PY=.venv/bin/python
STACK_DIR=${TEST_STACK_DIR:-.stack/test}
KAFKA_PORT=${TEST_KAFKA_PORT:-19192}
MONGO_PORT=${TEST_MONGO_PORT:-27217}

if [[ ! -x "$PY" ]]; then
  echo "test.sh: $PY is missing: run 'make install' first" >&2
  exit 2
fi

started=0
# shellcheck disable=SC2317  # called by the EXIT trap
stop_stack() {
  if [[ $started == 1 ]]; then
    "$PY" scripts/stack.py stop --dir "$STACK_DIR" || echo "test.sh: could not stop the stack in $STACK_DIR" >&2
  fi
}
trap stop_stack EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

if [[ -z "${KAFKA_BOOTSTRAP_SERVERS:-}" && -z "${MONGODB_URI:-}" ]]; then
  if "$PY" scripts/stack.py status --dir "$STACK_DIR" >/dev/null 2>&1; then
    echo "test.sh: reusing the stack already running in $STACK_DIR (left running afterwards)" >&2
  else
    started=1
    # fresh data for every run; a leftover stopped stack is wiped first
    "$PY" scripts/stack.py clean --dir "$STACK_DIR" >&2
    "$PY" scripts/stack.py start --dir "$STACK_DIR" --kafka-port "$KAFKA_PORT" --mongo-port "$MONGO_PORT" >/dev/null
  fi
  eval "$("$PY" scripts/stack.py env --dir "$STACK_DIR")"
elif [[ -z "${KAFKA_BOOTSTRAP_SERVERS:-}" || -z "${MONGODB_URI:-}" ]]; then
  echo "test.sh: only one of KAFKA_BOOTSTRAP_SERVERS and MONGODB_URI is set: no local stack is started" >&2
fi
echo "test.sh: KAFKA_BOOTSTRAP_SERVERS=${KAFKA_BOOTSTRAP_SERVERS:-} MONGODB_URI=${MONGODB_URI:-}" >&2

# Test folders that hold no file yet are absent from a fresh clone: pass only the ones there.
paths=()
for d in tests/unit tests/integration tests/e2e; do
  [[ -d $d ]] && paths+=("$d")
done
if [[ ${#paths[@]} == 0 ]]; then
  echo "test.sh: no test folder (tests/unit, tests/integration, tests/e2e) exists" >&2
  exit 1
fi

extra=()
eval "extra=(${PYTEST_ARGS:-})"  # the caller's own words, with their quoting
set +e
.venv/bin/pytest -q "${paths[@]}" "${extra[@]}"
rc=$?
set -e
if [[ $rc == 5 ]]; then
  echo "test.sh: pytest collected no tests: failing" >&2
  rc=1
fi
exit $rc
