# Sourced first by every page script tests/helpers/doc_blocks.ts writes
# (after __dir=PRIVATE-DIR): stops what a page left running, and says which
# block it was in.
set -e -o pipefail
__bg=()
__block() { printf '%s\n' "$1" >"$__dir/.block"; }
# __ready PID LOG TEXT: until LOG shows TEXT (a background block is ready).
__ready() {
  local i
  for i in $(seq 1200); do
    grep -qF -- "$3" "$2" 2>/dev/null && return 0
    if ! kill -0 "$1" 2>/dev/null; then
      printf 'it ended before printing "%s":\n' "$3"
      cat "$2"
      return 1
    fi
    sleep 0.1
  done
  printf 'no "%s" after 120 s:\n' "$3"
  cat "$2"
  return 1
}
# Pids whose command line names the private directory, but for this script
# and the timeout(1) that runs it (subshells and grep are gone when the
# caller looks).
__ours() {
  grep -laF -- "$__dir" /proc/[0-9]*/cmdline 2>/dev/null |
    while IFS=/ read -r _ _ pid _; do
      case $pid in "$$" | "$PPID") ;; *) printf '%s\n' "$pid" ;; esac
    done
  return 0
}
__cleanup() {
  local code=$? p left=
  set +e
  for p in "${__bg[@]}"; do
    kill -TERM -- "-$p" 2>/dev/null || kill -TERM "$p" 2>/dev/null
  done
  for p in "${__bg[@]}"; do wait "$p" 2>/dev/null; done
  sleep 0.2
  for p in $(__ours); do
    [ -d "/proc/$p" ] || continue
    left="$left $p:$(tr '\0' ' ' 2>/dev/null <"/proc/$p/cmdline" | cut -c1-160)"
    pkill -KILL -P "$p" 2>/dev/null
    kill -KILL "$p" 2>/dev/null
  done
  if [ -n "$left" ]; then
    printf 'left running after the page:%s\n' "$left" >"$__dir/.left"
  fi
  exit "$code"
}
trap __cleanup EXIT
trap 'exit 124' TERM INT
