# Shared by the shell tiers that drive real engines (tests/engines/run.sh,
# tests/k8s/run.sh): sourced, never run, with $project set to the checkout.
# It sets $deno and $launcher; $tmp (the tier's private directory) must be
# set before `ours` and `remove_private`.

deno=$project/node_modules/deno/deno
launcher=$project/bin/remoteproc-runtime
export NO_COLOR=1 DENO_NO_UPDATE_CHECK=1

say() { printf '%s\n' "$*"; }

# give_up MESSAGE: the tier cannot run; CI counts that as one failure.
give_up() {
  say "$*"
  say "0 passed, 1 failed"
  exit 1
}

# tier_checks WHAT: root (the engines need it) and an installed Deno.
tier_checks() {
  [ "$(id -u)" = 0 ] || give_up "$1 needs root"
  [ -x "$deno" ] || give_up "no $deno: run npm ci first"
}

# apt_install PACKAGE...: from Debian, --no-install-recommends, with no
# daemon started by the packages' scripts. On failure, the end of apt's
# output and a non-zero status.
apt_install() {
  say "=== installing $*"
  export DEBIAN_FRONTEND=noninteractive
  local policy_made= apt_log status=0
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
    chmod 755 /usr/sbin/policy-rc.d
    policy_made=1
  fi
  apt_log=$(mktemp)
  if ! { apt-get update -qq && apt-get install -y -qq --no-install-recommends "$@"; } >"$apt_log" 2>&1; then
    tail -n 20 "$apt_log"
    status=1
  fi
  rm -f "$apt_log"
  [ -n "$policy_made" ] && rm -f /usr/sbin/policy-rc.d
  return $status
}

# note_host_dirs PATH...: host paths the engines make whatever their
# configuration says; those missing now go in made_dirs, for
# remove_made_dirs at the end.
made_dirs=()
note_host_dirs() {
  local d
  for d in "$@"; do [ -e "$d" ] || made_dirs+=("$d"); done
}

# remove_made_dirs: what note_host_dirs found missing, if empty again.
remove_made_dirs() {
  local m
  for m in "${made_dirs[@]}"; do
    if [ -d "$m" ]; then rmdir "$m" 2>/dev/null; else rm -f "$m"; fi
  done
}

# ours: pids of processes whose command line names $tmp (proxies, shims,
# conmon, the simulator, daemons), never by a broad name.
ours() {
  local p
  for p in /proc/[0-9]*; do
    [ "${p#/proc/}" = "$$" ] && continue
    if tr '\0' ' ' 2>/dev/null <"$p/cmdline" | grep -qF "$tmp"; then
      say "${p#/proc/}"
    fi
  done
}

# remove_private SIM_PID: SIGKILL every process of ours but the simulator,
# then stop the simulator, unmount
# what is mounted under $tmp and remove it.
remove_private() {
  local pid m sim=$1
  for pid in $(ours); do
    [ "$pid" = "$sim" ] || kill -KILL "$pid" 2>/dev/null
  done
  if [ -n "$sim" ]; then
    kill "$sim" 2>/dev/null
    wait "$sim" 2>/dev/null
  fi
  for m in $(awk -v t="$tmp" 'index($2, t) == 1 { print $2 }' /proc/mounts | sort -r); do
    umount -l "$m" 2>/dev/null
  done
  rm -rf "$tmp" 2>/dev/null || { sleep 1; rm -rf "$tmp"; }
}

# wait_for SECONDS COMMAND...: until COMMAND succeeds (status 1 if never).
wait_for() {
  local deadline=$((SECONDS + $1))
  shift
  until "$@" >/dev/null 2>&1; do
    [ $SECONDS -ge $deadline ] && return 1
    sleep 0.1
  done
}
