#!/usr/bin/env bash
# Runs the whole test suite the way CI does: makes sure the tools the tests drive are present (tmux, curl,
# Chromium, a Redis server on 127.0.0.1:6379), runs `bun test`, and ends with one line: "N passed, N failed".
set -uo pipefail
if [[ "${1:-}" == "--help" || "${1:-}" == "-h" ]]; then
  cat <<'TXT'
Usage: npm test [-- bun-test-args...]

Installs what the tests need when it is missing (Debian packages chromium, tmux, curl, redis-server; needs root
or passwordless sudo), starts redis-server on 127.0.0.1:6379 if nothing answers there, then runs `bun test`.
Extra arguments go to `bun test` (a path or -t PATTERN to run a part).
The last line is "N passed, N failed".
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

log=$(mktemp)
"$BUN" test --timeout 120000 "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
passed=$(grep -Eo '^ *[0-9]+ pass$' "$log" | tail -1 | grep -Eo '[0-9]+')
failed=$(grep -Eo '^ *[0-9]+ fail$' "$log" | tail -1 | grep -Eo '[0-9]+')
rm -f "$log"
passed=${passed:-0}
failed=${failed:-0}
# A crash that printed no summary still counts as a failure.
if [[ $status -ne 0 && $failed -eq 0 ]]; then failed=1; fi
echo "$passed passed, $failed failed"
exit $status
