#!/usr/bin/env bash
# Runs the whole test suite the way CI does: makes sure the tools the tests drive are present (tmux, curl,
# Chromium, a Redis server on 127.0.0.1:6379), runs `bun test`, and ends with one line: "N passed, N failed".
set -uo pipefail
if [[ "${1:-}" == "--help" || "${1:-}" == "-h" ]]; then
  cat <<'TXT'
Usage: npm test [-- bun-test-args...]

Installs what the tests need when it is missing (Debian packages chromium, tmux, curl, redis-server; needs root
or passwordless sudo), starts redis-server on 127.0.0.1:6379 if nothing answers there, then runs `bun test`
(servers on Bun), builds for Node (npm run build) and runs the HTTP/SSE end-to-end tests again with
THREADCHAT_RUNTIME=node (servers started as `node dist/server.js`).
Extra arguments go to `bun test` (a path or -t PATTERN to run a part) and make it one run, on Bun, or on Node
(built first) with THREADCHAT_RUNTIME=node.
The last line is "N passed, N failed", summing both runs.
TXT
  exit 0
fi
cd "$(dirname "$0")/.."
BUN=node_modules/.bin/bun
[[ -x $BUN ]] || { echo "bun is missing: run 'npm install' first" >&2; exit 2; }

SUDO=""
[[ $(id -u) -eq 0 ]] || SUDO="sudo -n"
missing=()
command -v tmux >/dev/null || missing+=(tmux)
command -v curl >/dev/null || missing+=(curl)
[[ -x /usr/bin/chromium ]] || missing+=(chromium)
command -v redis-server >/dev/null || missing+=(redis-server)
if ((${#missing[@]})); then
  echo "Installing ${missing[*]} (Debian packages)..." >&2
  aptlog=$(mktemp)
  if $SUDO apt-get update -qq >"$aptlog" 2>&1 && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >>"$aptlog" 2>&1; then
    echo "Installed ${missing[*]}." >&2
  else
    tail -20 "$aptlog" >&2
    echo "Could not install ${missing[*]} (log above): the tests that need them will fail." >&2
  fi
  rm -f "$aptlog"
fi
if command -v redis-server >/dev/null && ! (exec 3<>/dev/tcp/127.0.0.1/6379) 2>/dev/null; then
  echo "Starting redis-server on 127.0.0.1:6379..." >&2
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no >&2
fi

# The HTTP/SSE end-to-end files that run a second time, against the Node build (`node dist/server.js`).
NODE_E2E=(tests/e2e/chat.test.ts tests/e2e/fanout.test.ts tests/e2e/curl.test.ts tests/e2e/metrics.test.ts tests/e2e/logging.test.ts tests/config.test.ts)

total_passed=0
total_failed=0
status=0
# Runs `bun test ARGS...` (with the environment given before it), adds its counts to the totals.
run_tests() {
  local log passed failed code
  log=$(mktemp)
  env "$@" 2>&1 | tee "$log"
  code=${PIPESTATUS[0]}
  passed=$(grep -Eo '^ *[0-9]+ pass$' "$log" | tail -1 | grep -Eo '[0-9]+')
  failed=$(grep -Eo '^ *[0-9]+ fail$' "$log" | tail -1 | grep -Eo '[0-9]+')
  rm -f "$log"
  passed=${passed:-0}
  failed=${failed:-0}
  # A crash that printed no summary still counts as a failure.
  if [[ $code -ne 0 && $failed -eq 0 ]]; then failed=1; fi
  total_passed=$((total_passed + passed))
  total_failed=$((total_failed + failed))
  [[ $code -eq 0 ]] || status=$code
}
build_for_node() {
  echo "Building for Node (npm run build)..." >&2
  if ! "$BUN" scripts/build.ts >&2; then
    echo "The build failed: the Node run cannot start." >&2
    total_failed=$((total_failed + 1))
    status=1
    return 1
  fi
}

if (($# == 0)); then
  run_tests THREADCHAT_RUNTIME=bun "$BUN" test --timeout 120000
  echo "--- the same HTTP/SSE end-to-end tests against the server on Node ($(node --version)) ---"
  build_for_node && run_tests THREADCHAT_RUNTIME=node "$BUN" test --timeout 120000 "${NODE_E2E[@]}"
else
  if [[ "${THREADCHAT_RUNTIME:-}" == node ]]; then build_for_node; fi
  [[ $status -ne 0 ]] || run_tests "THREADCHAT_RUNTIME=${THREADCHAT_RUNTIME:-bun}" "$BUN" test --timeout 120000 "$@"
fi
echo "$total_passed passed, $total_failed failed"
exit $status
