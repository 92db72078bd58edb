#!/usr/bin/env bash
# `npm run test:repeat -- N [files…]`: runs the suite (or the given files) N times in a row and lists
# every test that failed at least once, with how often — flaky tests show up here, not in one lucky run.
set -uo pipefail
LOG_TAG=test-repeat
source "$(dirname "$0")/lib.sh"
runs=${1:-3}
shift || true
dir=$(mktemp -d /tmp/sightline-test-repeat.XXXXXX)
passed=0
for i in $(seq 1 "$runs"); do
  started=$(date +%s)
  if bash scripts/test.sh "$@" >"$dir/run-$i.log" 2>&1; then passed=$((passed + 1)); result=passed; else result=FAILED; fi
  summary=$(grep -E '^ℹ (tests|pass|fail) ' "$dir/run-$i.log" | tr '\n' ' ')
  log "run $i/$runs: $result in $(( $(date +%s) - started )) s — $summary(log: $dir/run-$i.log)"
done
log "$passed of $runs runs passed"
# The reporter lists the failing tests once more at the end of each run, after "failing tests:".
failures=$(for f in "$dir"/run-*.log; do sed -n '/^✖ failing tests:/,$p' "$f" | grep -E '^✖ ' | grep -v 'failing tests:' | sed -E 's/ \([0-9.]+ms\)$//' | sort -u; done | sort | uniq -c | sort -rn)
if [ -n "$failures" ]; then
  log "tests that failed at least once (times failed, test):"
  echo "$failures"
  exit 1
fi
log "no test failed in any run"
