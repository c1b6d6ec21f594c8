#!/usr/bin/env bash
# Runs the whole test suite the way CI does: makes sure the tools the tests drive are present (tmux, curl,
# Chromium, nginx, Xvfb with terminator and xterm, a Redis server on 127.0.0.1:6379), runs `bun test`, and ends
# with one line: "N passed, N failed".
set -uo pipefail
if [[ "${1:-}" == "--help" || "${1:-}" == "-h" ]]; then
  cat <<'TXT'
Usage: npm test [-- bun-test-args...]

Installs what the tests need when it is missing (Debian packages chromium, tmux, curl, openssl, nginx, redis-server,
and for the launcher under X xvfb, xfonts-base, terminator, xterm, x11-utils; needs root or passwordless sudo),
starts redis-server on 127.0.0.1:6379 if nothing answers there, then runs `bun test` (servers on Bun), builds for
Node (npm run build) and runs the HTTP/SSE end-to-end tests again with THREADCHAT_RUNTIME=node (servers started as
`node dist/server.js`); the core ones also run on Bun and on Node with every server over HTTPS (a certificate made
with openssl for the run).
Extra arguments go to `bun test` (a path or -t PATTERN to run a part) and make it one run, on Bun, or on Node
(built first) with THREADCHAT_RUNTIME=node.
The last line is "N passed, N failed", summing every run; a skipped or todo test, and a test file that
reported no test (it crashed, or holds none), count as failed, and the exit code is then non-zero.
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
command -v openssl >/dev/null || missing+=(openssl) # test certificates for the HTTPS tests
[[ -x /usr/bin/chromium ]] || missing+=(chromium)
command -v redis-server >/dev/null || missing+=(redis-server)
# tests/e2e/nginx.test.ts starts an nginx of its own (the binary, never the system service).
command -v nginx >/dev/null || [[ -x /usr/sbin/nginx ]] || missing+=(nginx)
# tests/e2e/launcher-x11.test.ts: its own Xvfb (xterm's default font is in xfonts-base), both terminals, xwininfo,
# and script(1) for the launcher's --log-dir.
command -v Xvfb >/dev/null || missing+=(xvfb)
[[ -d /usr/share/fonts/X11/misc ]] || missing+=(xfonts-base)
command -v terminator >/dev/null || missing+=(terminator)
command -v xterm >/dev/null || missing+=(xterm)
command -v xwininfo >/dev/null || missing+=(x11-utils)
command -v script >/dev/null || missing+=(bsdutils)
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
# The bin/chat (terminal) tests, and the page (browser) files but those listed, drive clients of the same app
# and stay on Bun (README).
NODE_E2E=(tests/e2e/chat.test.ts tests/e2e/fanout.test.ts tests/e2e/curl.test.ts tests/e2e/metrics.test.ts tests/e2e/logging.test.ts
  tests/e2e/limits.test.ts tests/e2e/resilience.test.ts tests/e2e/redis.test.ts tests/e2e/soak.test.ts tests/e2e/reset.test.ts
  tests/e2e/heartbeat.test.ts tests/e2e/readme.test.ts tests/config.test.ts tests/e2e/trust-proxy.test.ts tests/e2e/door.test.ts tests/e2e/sign-in.test.ts tests/e2e/typing.test.ts
  tests/e2e/status.test.ts tests/e2e/https.test.ts tests/e2e/idempotency.test.ts
  tests/e2e/data-folder.test.ts tests/e2e/full-disk.test.ts tests/e2e/accounts.test.ts tests/e2e/jwt-mode.test.ts tests/e2e/stream-key.test.ts
  tests/e2e/thread-limit.test.ts tests/e2e/names.test.ts tests/e2e/quota.test.ts tests/e2e/unix-socket.test.ts tests/e2e/search.test.ts
  tests/e2e/moderation.test.ts tests/e2e/edits.test.ts tests/e2e/plain-formats.test.ts tests/e2e/room-names.test.ts tests/e2e/room-list.test.ts tests/e2e/replies.test.ts
  tests/e2e/read-positions.test.ts tests/e2e/direct.test.ts)
# The core HTTP/SSE files once more on Bun and on Node with every server over HTTPS (HTTP/2 and HTTP/1.1 on one
# port): the run's own certificate, trusted by fetch (NODE_EXTRA_CA_CERTS) and curl (CURL_CA_BUNDLE) in these passes.
# The others test plain HTTP itself (raw sockets, the cookie without Secure, forwarded http://) and stay out.
TLS_E2E=(tests/e2e/chat.test.ts tests/e2e/fanout.test.ts tests/e2e/curl.test.ts tests/e2e/redis.test.ts
  tests/e2e/reset.test.ts tests/e2e/typing.test.ts tests/e2e/soak.test.ts tests/e2e/status.test.ts tests/e2e/idempotency.test.ts
  tests/e2e/accounts.test.ts tests/e2e/jwt-mode.test.ts tests/e2e/stream-key.test.ts
  tests/e2e/plain-formats.test.ts tests/e2e/read-positions.test.ts tests/e2e/direct.test.ts)

total_passed=0
total_failed=0
status=0
# Runs `bun test ARGS...` (with the environment given before it), adds its counts to the totals. A skipped or
# todo test counts as failed, and so does a test file that reported no test (it crashed, or holds none): the
# summary line cannot stay green while part of the suite did not run.
run_tests() {
  local log code counts passed failed skipped empty
  log=$(mktemp)
  env "$@" 2>&1 | tee "$log"
  code=${PIPESTATUS[0]}
  # bun test prints each file as "path.test.ts:" and each test as "(pass) ...", "(fail) ...", "(skip) ...", "(todo) ...".
  counts=$(awk '
    /^[^ (].*\.test\.(ts|tsx|js):$/ { if (file != "" && n == 0) empty = empty " " file; file = substr($0, 1, length($0) - 1); n = 0; next }
    # bun test lists the failed (and skipped) tests again at the end, under "N tests failed:": not counted twice.
    /^[0-9]+ tests? (failed|skipped|todo):?$/ { recap = 1 }
    recap { next }
    /^\(pass\) / { pass++; n++ } /^\(fail\) / { fail++; n++ } /^\((skip|todo)\) / { skip++; n++ }
    END { if (file != "" && n == 0) empty = empty " " file; printf "%d %d %d%s\n", pass, fail, skip, empty }' "$log")
  rm -f "$log"
  read -r passed failed skipped empty <<<"$counts"
  if ((skipped > 0)); then echo "$skipped test(s) skipped or todo: counted as failed" >&2; fi
  if [[ $* == *" -t "* || $* == *"--test-name-pattern"* ]]; then empty=''; fi # a filtered run leaves files out on purpose
  if [[ -n $empty ]]; then echo "test files that reported no test (crashed, or hold none), counted as failed:$empty" >&2; fi
  failed=$((failed + skipped + $(wc -w <<<"$empty")))
  # A run that failed without a failing test (a crash, a timeout of the whole run) still counts as one.
  if [[ $code -ne 0 && $failed -eq 0 ]]; then failed=1; fi
  if [[ $failed -gt 0 && $code -eq 0 ]]; then code=1; fi
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
# Runs `bun test ARGS...` with every test server over HTTPS, on a certificate made for this run.
run_over_https() {
  local dir
  dir=$(mktemp -d)
  if openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$dir/key.pem" -out "$dir/cert.pem" \
    -days 1 -subj '/CN=threadchat test' -addext 'subjectAltName=IP:127.0.0.1,DNS:localhost' 2>/dev/null; then
    run_tests THREADCHAT_TEST_TLS_DIR="$dir" NODE_EXTRA_CA_CERTS="$dir/cert.pem" CURL_CA_BUNDLE="$dir/cert.pem" "$@"
  else
    echo "openssl could not make a test certificate: the HTTPS pass did not run." >&2
    total_failed=$((total_failed + 1))
    status=1
  fi
  rm -rf "$dir"
}

if (($# == 0)); then
  run_tests THREADCHAT_RUNTIME=bun "$BUN" test --timeout 120000
  echo "--- the core HTTP/SSE end-to-end tests against the server on Bun over HTTPS ---"
  run_over_https THREADCHAT_RUNTIME=bun "$BUN" test --timeout 120000 "${TLS_E2E[@]}"
  echo "--- the same HTTP/SSE end-to-end tests against the server on Node ($(node --version)) ---"
  if build_for_node; then
    run_tests THREADCHAT_RUNTIME=node "$BUN" test --timeout 120000 "${NODE_E2E[@]}"
    echo "--- the core HTTP/SSE end-to-end tests against the server on Node over HTTPS ---"
    run_over_https THREADCHAT_RUNTIME=node "$BUN" test --timeout 120000 "${TLS_E2E[@]}"
  fi
else
  if [[ "${THREADCHAT_RUNTIME:-}" == node ]]; then build_for_node; fi
  [[ $status -ne 0 ]] || run_tests "THREADCHAT_RUNTIME=${THREADCHAT_RUNTIME:-bun}" "$BUN" test --timeout 120000 "$@"
fi
echo "$total_passed passed, $total_failed failed"
exit $status
