#!/usr/bin/env bash
# Engine test tier: real podman (conmon), containerd (ctr + the stock runc
# shim, by --runc-binary and by the runtime name io.containerd.remoteproc.v1),
# Docker and docker-compose drive bin/remoteproc-runtime against the
# remoteproc simulator.
#
#   bash tests/engines/run.sh          (as root; deno task test:engines)
#
# Installs podman, conmon, runc, containerd, kmod and, where the kernel has
# AppArmor on, apparmor from Debian when missing (docker.io and
# docker-compose too, unless REMOTEPROC_ENGINES_DOCKER=0), with
# --no-install-recommends. Everything else lives in a private temp
# directory: containers.conf, storage.conf, runroot and graphroot,
# install.sh's output (the runtime and containerd-shim-remoteproc-v1), a
# private containerd and dockerd (config, root, state, socket) started here
# and stopped at the end. A trap removes every container, image, daemon,
# mount and process this script made. Last line: "N passed, N failed".
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd -P)
project=$(cd "$here/../.." && pwd -P)
. "$project/tests/helpers/tier.sh"

passed=0
failed=0
tier_checks "the engine tier (podman, containerd, Docker)"

# ---------------------------------------------------------------- install
# Every package this tier uses is named: --no-install-recommends leaves out
# the Recommends, so nothing may come only from them. Not needed here, as
# root with netns "none" and no --init: uidmap, slirp4netns, fuse-overlayfs,
# dbus-user-session (rootless podman), netavark, aardvark-dns (networks),
# catatonit (--init, pods), buildah (podman build has its own), crun (podman
# runs our runtime), cgroupfs-mount (the cgroups are mounted), and Docker's
# iptables and tini (dependencies of docker.io anyway; iptables is off).
want=()
command -v podman >/dev/null || want+=(podman)
command -v conmon >/dev/null || want+=(conmon)
command -v runc >/dev/null || want+=(runc)
command -v containerd >/dev/null || want+=(containerd)
command -v containerd-shim-runc-v2 >/dev/null || want+=(containerd)
# overlay storage (podman, containerd, dockerd) may need the overlay module:
# dockerd runs modprobe, and the kernel's autoload calls /sbin/modprobe.
command -v modprobe >/dev/null || want+=(kmod)
# With AppArmor on (Debian's default kernel), podman and dockerd load their
# default profile with apparmor_parser before they call the runtime, and
# fail without it ("AppArmor enabled on system but the docker-default
# profile could not be loaded"). apparmor is only a Recommends of docker.io.
if grep -qs '^Y' /sys/module/apparmor/parameters/enabled && ! command -v apparmor_parser >/dev/null; then
  want+=(apparmor)
fi
if [ "${REMOTEPROC_ENGINES_DOCKER:-1}" != 0 ]; then
  command -v dockerd >/dev/null || want+=(docker.io)
  command -v docker-compose >/dev/null || want+=(docker-compose)
fi
if [ ${#want[@]} -gt 0 ]; then
  apt_install "${want[@]}" || give_up "cannot install ${want[*]}"
fi

# ---------------------------------------------------------------- private dirs
tmp=$(mktemp -d /tmp/rprt-engines.XXXXXX)
ctr_ns=rprt-test
sysroot=$tmp/sysroot
log_dir=$tmp/logs
mkdir -p "$log_dir" "$tmp/podman" "$tmp/containerd" "$tmp/build"
sim_pid=
containerd_pid=
dockerd_pid=
csock=$tmp/containerd/containerd.sock

# Host directories the engines create whatever their configuration says
# (shim sockets, plugin dirs): removed at the end if this run made them and
# they are empty again.
# dockerd 20.10 writes its trust key to /etc/docker/key.json, whatever
# daemon.json says.
# A runtime reached by name (io.containerd.remoteproc.v1) gets the runc
# shim's default --root, /run/containerd/runc/<namespace>.
note_host_dirs /etc/docker/key.json /run/containerd/fifo /run/containerd/s \
  "/run/containerd/runc/$ctr_ns" /run/containerd/runc /run/containerd /run/docker/plugins /run/docker

cleanup() {
  set +e
  if command -v podman >/dev/null; then
    podman rm -af -t 0 >/dev/null 2>&1
    podman rmi -af >/dev/null 2>&1
    podman system reset -f >/dev/null 2>&1
  fi
  if [ -n "$containerd_pid" ]; then
    local c
    for c in $(ctr -a "$csock" -n "$ctr_ns" task ls -q 2>/dev/null); do
      ctr -a "$csock" -n "$ctr_ns" task kill -a -s KILL "$c" >/dev/null 2>&1
      ctr -a "$csock" -n "$ctr_ns" task delete -f "$c" >/dev/null 2>&1
    done
    for c in $(ctr -a "$csock" -n "$ctr_ns" container ls -q 2>/dev/null); do
      ctr -a "$csock" -n "$ctr_ns" container rm "$c" >/dev/null 2>&1
    done
    ctr -a "$csock" -n "$ctr_ns" image ls -q 2>/dev/null | xargs -r ctr -a "$csock" -n "$ctr_ns" image rm >/dev/null 2>&1
  fi
  docker_cleanup
  [ -n "$containerd_pid" ] && kill "$containerd_pid" 2>/dev/null && wait "$containerd_pid" 2>/dev/null
  remove_private "$sim_pid"
  remove_made_dirs
}
docker_cleanup() { :; }
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---------------------------------------------------------------- helpers
fail() {
  say "    FAIL: $*"
  exit 1
}
# run_test NAME FUNCTION: runs FUNCTION in a subshell; any fail() ends it.
run_test() {
  local name=$1 fn=$2 start=$SECONDS
  if ("$fn") >"$log_dir/current" 2>&1; then
    passed=$((passed + 1))
    say "ok   $name ($((SECONDS - start))s)"
    [ "${REMOTEPROC_ENGINES_VERBOSE:-0}" = 0 ] || sed 's/^/    /' "$log_dir/current"
  else
    failed=$((failed + 1))
    say "FAIL $name ($((SECONDS - start))s)"
    sed 's/^/    /' "$log_dir/current"
  fi
}
contains() { # contains TEXT NEEDLE [WHAT]
  case $1 in *"$2"*) ;; *) fail "${3:-output} lacks \"$2\": $1" ;; esac
}
lacks() {
  case $1 in *"$2"*) fail "${3:-output} has \"$2\": $1" ;; esac
}
rp_dir() { say "$sysroot/sys/class/remoteproc/remoteproc$1"; }
rp_state() { cat "$(rp_dir "$1")/state"; }
is_state() { [ "$(rp_state "$1")" = "$2" ]; }
trace() { printf '%s' "$2" >>"$sysroot/sys/kernel/debug/remoteproc/remoteproc$1/trace0"; }
crash() { echo 1 >"$sysroot/sys/kernel/debug/remoteproc/remoteproc$1/crash"; }
state_root=$sysroot/run/remoteproc-runtime
# Nothing of ours left: no container state, no claim, no stored firmware.
# (The state root keeps its containers/ and claims/ directories.)
assert_clean() {
  local left
  left=$(find "$state_root" "$sysroot/lib/firmware" -mindepth 1 \
    ! -path "$state_root/claims" ! -path "$state_root/containers" \
    ! -name '.*' 2>/dev/null)
  [ -z "$left" ] || fail "left behind: $left"
  local n
  for n in 0 1 2; do
    is_state "$n" offline || fail "remoteproc$n reads $(rp_state "$n")"
  done
}

# ---------------------------------------------------------------- simulator
# m4 and dsp keep the kernel's default recovery (enabled); r5 has it
# disabled so a crash stops the container.
say "=== simulator under $sysroot"
"$deno" run -q -P=demo "$project/sim/main.ts" --root "$sysroot" \
  --processors m4,dsp,r5 --trace >"$log_dir/sim.log" 2>&1 &
sim_pid=$!
wait_for 30 grep -q "simulator running" "$log_dir/sim.log" ||
  give_up "the simulator did not start: $(cat "$log_dir/sim.log")"
sysroot=$(cd "$sysroot" && pwd -P)
state_root=$sysroot/run/remoteproc-runtime
echo disabled >"$(rp_dir 2)/recovery"
sleep 0.5
if ! grep -qx disabled "$(rp_dir 2)/recovery" ||
  ! grep -qx disabled "$sysroot/sys/kernel/debug/remoteproc/remoteproc2/recovery"; then
  give_up "the simulator did not take recovery=disabled for r5"
fi
export REMOTEPROC_RUNTIME_SYSROOT=$sysroot

# Firmware image build context.
"$deno" run -q -P=demo "$here/make_fw.ts" "$tmp/build/fw.elf"
cat >"$tmp/build/Containerfile" <<'EOF'
FROM scratch
COPY fw.elf /fw.elf
ENTRYPOINT ["fw.elf"]
EOF
image=localhost/rprt-fw:test

# ---------------------------------------------------------------- podman
# podman runs kill and delete with an empty environment (only
# XDG_RUNTIME_DIR=), so the sysroot cannot come from the environment there:
# the runtime podman knows is a two-line wrapper adding --sysroot. On a
# real board containers.conf names bin/remoteproc-runtime itself.
podman_rt=$tmp/podman/remoteproc-runtime
cat >"$podman_rt" <<EOF
#!/bin/sh
exec $launcher --sysroot=$sysroot "\$@"
EOF
chmod 755 "$podman_rt"
export CONTAINERS_CONF=$tmp/podman/containers.conf
export CONTAINERS_STORAGE_CONF=$tmp/podman/storage.conf
export CONTAINERS_REGISTRIES_CONF=$tmp/podman/registries.conf
cat >"$CONTAINERS_CONF" <<EOF
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]
netns = "none"

[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
tmp_dir = "$tmp/podman/tmp"
runtime = "remoteproc"
runtime_supports_json = ["crun", "runc", "kata", "runsc", "youki", "krun", "remoteproc"]
runtime_supports_nocgroup = ["crun", "remoteproc"]

[engine.runtimes]
remoteproc = ["$podman_rt"]
EOF
cat >"$CONTAINERS_STORAGE_CONF" <<EOF
[storage]
driver = "overlay"
runroot = "$tmp/podman/runroot"
graphroot = "$tmp/podman/graphroot"
EOF
: >"$CONTAINERS_REGISTRIES_CONF"

pod_status() { podman ps -a --filter "name=^$1\$" --format '{{.Status}}'; }
pod_gone() { [ -z "$(podman ps -a -q --filter "name=^$1\$")" ]; }
logs_have() { podman logs "$1" 2>&1 | grep -qF -- "$2"; }

t_podman_build() {
  podman build -q -t "$image" -f "$tmp/build/Containerfile" "$tmp/build" || fail "podman build"
  podman image exists "$image" || fail "no image"
}

t_podman_run_ps_logs() {
  podman run -d --name fw1 --annotation remoteproc.name=m4 "$image" || fail "podman run -d"
  is_state 0 running || fail "m4 reads $(rp_state 0)"
  contains "$(pod_status fw1)" "Up" "podman ps"
  wait_for 10 logs_have fw1 "deployed and running" || fail "logs: $(podman logs fw1 2>&1)"
  trace 0 "hello from the m4
"
  wait_for 10 logs_have fw1 "hello from the m4" || fail "trace not in logs: $(podman logs fw1 2>&1)"
}

t_podman_stop() {
  podman stop -t 10 fw1 >/dev/null || fail "podman stop"
  is_state 0 offline || fail "m4 reads $(rp_state 0)"
  contains "$(pod_status fw1)" "Exited (143)" "podman ps -a"
  wait_for 10 logs_have fw1 "stopped on request" || fail "logs: $(podman logs fw1 2>&1)"
  [ -z "$(ls "$sysroot/lib/firmware")" ] || fail "stored firmware left: $(ls "$sysroot/lib/firmware")"
}

t_podman_start_again() {
  podman start fw1 >/dev/null || fail "podman start"
  is_state 0 running || fail "m4 reads $(rp_state 0)"
  contains "$(pod_status fw1)" "Up" "podman ps"
  trace 0 "second boot
"
  wait_for 10 logs_have fw1 "second boot" || fail "logs: $(podman logs fw1 2>&1)"
}

t_podman_kill() {
  podman kill -s TERM fw1 >/dev/null || fail "podman kill -s TERM"
  wait_for 15 is_state 0 offline || fail "m4 reads $(rp_state 0)"
  wait_for 10 sh -c "podman ps -a --filter name=^fw1\$ --format '{{.Status}}' | grep -q 'Exited (143)'" ||
    fail "status $(pod_status fw1)"
  podman start fw1 >/dev/null || fail "podman start"
  is_state 0 running || fail "m4 reads $(rp_state 0)"
  # SIGKILL kills the proxy; podman's cleanup (delete) then stops the core.
  podman kill fw1 >/dev/null || fail "podman kill"
  wait_for 15 sh -c "podman ps -a --filter name=^fw1\$ --format '{{.Status}}' | grep -q 'Exited (137)'" ||
    fail "status $(pod_status fw1)"
  wait_for 15 is_state 0 offline || fail "after podman kill, m4 reads $(rp_state 0)"
}

t_podman_rm_f() {
  podman start fw1 >/dev/null || fail "podman start"
  is_state 0 running || fail "m4 reads $(rp_state 0)"
  podman rm -f fw1 >/dev/null || fail "podman rm -f"
  pod_gone fw1 || fail "container still listed"
  assert_clean
}

t_podman_run_rm_crash() {
  # Foreground run --rm: a crash (recovery disabled) ends it with the
  # proxy's status 2, what the proxy logged reaches the terminal, and podman
  # removes the container.
  podman run --rm --name fw2 --annotation remoteproc.name=r5 "$image" >"$tmp/run-rm.out" 2>&1 &
  local run=$!
  wait_for 20 is_state 2 running || fail "r5 reads $(rp_state 2): $(cat "$tmp/run-rm.out")"
  wait_for 10 grep -q "deployed and running" "$tmp/run-rm.out" || fail "output: $(cat "$tmp/run-rm.out")"
  trace 2 "r5: watchdog about to bite
"
  sleep 0.5
  crash 2
  if ! wait_for 20 eval '! kill -0 '"$run"; then
    kill "$run"
    fail "podman run did not end after the crash: $(cat "$tmp/run-rm.out")"
  fi
  local code=0
  wait "$run" || code=$?
  [ "$code" = 2 ] || fail "podman run exit $code, output: $(cat "$tmp/run-rm.out")"
  local out
  out=$(cat "$tmp/run-rm.out")
  contains "$out" "watchdog about to bite"
  contains "$out" "crashed"
  pod_gone fw2 || fail "fw2 still listed"
  # delete stops the crashed core
  wait_for 10 is_state 2 offline || fail "r5 reads $(rp_state 2)"
  assert_clean
}

t_podman_run_rm_d() {
  podman run --rm -d --name fw3 --annotation remoteproc.name=dsp "$image" >/dev/null || fail "podman run --rm -d"
  is_state 1 running || fail "dsp reads $(rp_state 1)"
  podman stop -t 10 fw3 >/dev/null || fail "podman stop"
  wait_for 10 pod_gone fw3 || fail "fw3 still listed"
  assert_clean
}

# podman_error NAME EXPECTED-MESSAGE PODMAN-RUN-ARGS...
podman_error() {
  local name=$1 want=$2 code=0 out
  shift 2
  out=$(timeout 60 podman run --rm --name "$name" "$@" 2>&1) || code=$?
  [ "$code" != 0 ] || fail "podman run succeeded: $out"
  [ "$code" != 124 ] || fail "podman run hung"
  contains "$out" "$want" "podman run output"
  podman rm -f "$name" >/dev/null 2>&1
  pod_gone "$name" || fail "$name still listed"
  say "$out"
}

t_podman_errors() {
  podman_error e1 'no remote processor named "nope" (available: m4 (remoteproc0), dsp (remoteproc1), r5 (remoteproc2))' \
    --annotation remoteproc.name=nope "$image"
  podman_error e2 "annotation remoteproc.name is required" "$image"
  podman_error e3 'firmware file "missing.elf" does not exist in the rootfs' \
    --annotation remoteproc.name=m4 --entrypoint missing.elf "$image"
  podman_error e4 "no terminal" -t --annotation remoteproc.name=m4 "$image"
  assert_clean
  podman run -d --name holder --annotation remoteproc.name=m4 "$image" >/dev/null || fail "podman run holder"
  podman_error e5 "remoteproc0 (m4) is in use by container" --annotation remoteproc.name=m4 "$image"
  is_state 0 running || fail "the holder's m4 reads $(rp_state 0)"
  podman rm -f holder >/dev/null || fail "podman rm -f holder"
  assert_clean
}

t_podman_info_version() {
  podman info --format '{{.Host.OCIRuntime.Name}} {{.Host.OCIRuntime.Version}}' >"$tmp/info" 2>&1 || fail "podman info: $(cat "$tmp/info")"
  contains "$(cat "$tmp/info")" "remoteproc remoteproc-runtime version"
}

say "=== podman $(podman --version | awk '{print $3}')"
run_test "podman build: FROM scratch image with the firmware" t_podman_build
run_test "podman info: runtime --version" t_podman_info_version
run_test "podman run -d deploys; ps Up; logs show lifecycle and trace" t_podman_run_ps_logs
run_test "podman stop: processor offline, Exited (143)" t_podman_stop
run_test "podman start deploys again" t_podman_start_again
run_test "podman kill -s TERM / SIGKILL" t_podman_kill
run_test "podman rm -f stops and removes everything" t_podman_rm_f
run_test "podman run --rm: crash ends it with status 2 and the last trace" t_podman_run_rm_crash
run_test "podman run --rm -d + stop removes the container" t_podman_run_rm_d
run_test "podman run errors are the runtime's messages; nothing left" t_podman_errors

# ---------------------------------------------------------------- containerd
runc_root=$tmp/containerd/runc
# install.sh --containerd under a private root: the runtime (a wrapper
# around this checkout's launcher, as a release binary would be) and
# containerd-shim-remoteproc-v1 beside it. containerd and dockerd get its
# bin directory first in their PATH, as /usr/local/bin is on a board.
inst=$tmp/inst
mkdir -p "$tmp/inst-src"
printf '#!/bin/sh\nexec %s "$@"\n' "$launcher" >"$tmp/inst-src/remoteproc-runtime"
chmod 755 "$tmp/inst-src/remoteproc-runtime"
if ! sh "$project/install.sh" --root "$inst" --containerd "$tmp/inst-src/remoteproc-runtime" >"$log_dir/install.log" 2>&1; then
  cat "$log_dir/install.log"
fi
inst_bin=$inst/usr/local/bin
cat >"$tmp/containerd/config.toml" <<EOF
version = 2
root = "$tmp/containerd/root"
state = "$tmp/containerd/state"
disabled_plugins = ["io.containerd.grpc.v1.cri"]

[grpc]
  address = "$csock"

[ttrpc]
  address = "$csock.ttrpc"
EOF
PATH="$inst_bin:$PATH" containerd --config "$tmp/containerd/config.toml" >"$log_dir/containerd.log" 2>&1 &
containerd_pid=$!
C() { ctr -a "$csock" -n "$ctr_ns" "$@"; }
# ctr run with the stock runc shim and our binary as its runc.
crun() { C run --runc-binary "$launcher" --runc-root "$runc_root" "$@"; }
task_status() { C task ls | awk -v id="$1" '$1 == id { print $3 }'; }
is_task() { [ "$(task_status "$1")" = "$2" ]; }
clog() { cat "$tmp/ctr-$1.log" 2>/dev/null; }
clog_has() { clog "$1" | grep -qF -- "$2"; }

t_ctr_import() {
  wait_for 30 C version || fail "containerd did not start: $(cat "$log_dir/containerd.log")"
  podman save --format oci-archive -o "$tmp/fw.tar" "$image" || fail "podman save"
  C image import --base-name localhost/rprt-fw "$tmp/fw.tar" || fail "ctr image import"
  rm -f "$tmp/fw.tar"
  C image ls -q | grep -qx "$image" || fail "image not listed: $(C image ls -q)"
}

t_ctr_run_ls_ps() {
  crun -d --annotation remoteproc.name=dsp --log-uri "file://$tmp/ctr-c1.log" "$image" c1 ||
    fail "ctr run -d"
  is_task c1 RUNNING || fail "ctr task ls: $(C task ls)"
  is_state 1 running || fail "dsp reads $(rp_state 1)"
  local pid
  pid=$(C task ls | awk '$1 == "c1" { print $2 }')
  C task ps c1 | grep -qw "$pid" || fail "ctr task ps: $(C task ps c1)"
  wait_for 10 clog_has c1 "deployed and running" || fail "log: $(clog c1)"
  trace 1 "dsp says hi
"
  wait_for 10 clog_has c1 "dsp says hi" || fail "trace not in log: $(clog c1)"
}

t_ctr_kill() {
  C task kill c1 || fail "ctr task kill"
  wait_for 15 is_task c1 STOPPED || fail "ctr task ls: $(C task ls)"
  is_state 1 offline || fail "dsp reads $(rp_state 1)"
  wait_for 10 clog_has c1 "stopped on request" || fail "log: $(clog c1)"
  C task delete c1 >"$tmp/out" 2>&1 || fail "ctr task delete: $(cat "$tmp/out")"
  contains "$(cat "$tmp/out")" "exit code 143" "ctr task delete"
  C container rm c1 || fail "ctr container rm"
  assert_clean
}

t_ctr_crash() {
  crun -d --annotation remoteproc.name=r5 --log-uri "file://$tmp/ctr-c2.log" "$image" c2 || fail "ctr run -d"
  is_task c2 RUNNING || fail "ctr task ls: $(C task ls)"
  trace 2 "r5: last words
"
  sleep 0.5
  crash 2
  wait_for 15 is_task c2 STOPPED || fail "not STOPPED after the crash: $(C task ls)"
  local log
  log=$(clog c2)
  contains "$log" "r5: last words"
  contains "$log" "crashed (recovery disabled)"
  C task delete c2 >"$tmp/out" 2>&1 || fail "ctr task delete: $(cat "$tmp/out")"
  contains "$(cat "$tmp/out")" "exit code 2" "ctr task delete"
  is_state 2 offline || fail "delete left r5 $(rp_state 2)"
  C container rm c2 || fail "ctr container rm"
  assert_clean
}

t_ctr_delete_force() {
  crun -d --annotation remoteproc.name=m4 --null-io "$image" c3 || fail "ctr run -d"
  is_state 0 running || fail "m4 reads $(rp_state 0)"
  timeout 60 ctr -a "$csock" -n "$ctr_ns" task delete --force c3 >/dev/null || fail "ctr task delete --force"
  [ -z "$(task_status c3)" ] || fail "task still listed: $(C task ls)"
  wait_for 10 is_state 0 offline || fail "m4 reads $(rp_state 0)"
  C container rm c3 || fail "ctr container rm"
  assert_clean
}

# ctr -t needs a terminal of its own: script(1) gives it one.
ctr_tty_error() {
  local code=0 out
  out=$(timeout 60 script -qec "ctr -a '$csock' -n '$ctr_ns' run -t --runc-binary '$launcher' --runc-root '$runc_root' --annotation remoteproc.name=m4 '$image' tty1" /dev/null 2>&1) || code=$?
  [ "$code" != 0 ] || fail "ctr run -t succeeded: $out"
  [ "$code" != 124 ] || fail "ctr run -t hung"
  contains "$out" "no terminal" "ctr run -t output"
  [ -z "$(task_status tty1)" ] || fail "task tty1 left: $(C task ls)"
  C container rm tty1 >/dev/null 2>&1
  say "$out"
}

# ctr_error NAME EXPECTED-MESSAGE CTR-RUN-FLAGS... (image, id and $ctr_cmd appended)
ctr_error() {
  local name=$1 want=$2 code=0 out
  shift 2
  out=$(timeout 60 ctr -a "$csock" -n "$ctr_ns" run --runc-binary "$launcher" --runc-root "$runc_root" \
    --null-io "$@" "$image" "$name" ${ctr_cmd:-} 2>&1) || code=$?
  [ "$code" != 0 ] || fail "ctr run succeeded: $out"
  [ "$code" != 124 ] || fail "ctr run hung"
  contains "$out" "$want" "ctr run output"
  [ -z "$(task_status "$name")" ] || fail "task $name left: $(C task ls)"
  C container rm "$name" >/dev/null 2>&1
  say "$out"
}

t_ctr_errors() {
  ctr_error e1 'no remote processor named "nope"' --annotation remoteproc.name=nope
  ctr_error e2 "annotation remoteproc.name is required"
  ctr_cmd=missing.elf ctr_error e3 'firmware file "missing.elf" does not exist in the rootfs' \
    --annotation remoteproc.name=m4
  ctr_tty_error
  assert_clean
  crun -d --null-io --annotation remoteproc.name=m4 "$image" holder || fail "ctr run holder"
  ctr_error e5 "remoteproc0 (m4) is in use by container holder" --annotation remoteproc.name=m4
  is_state 0 running || fail "the holder's m4 reads $(rp_state 0)"
  C task kill -s KILL holder
  wait_for 10 is_task holder STOPPED || fail "holder not stopped: $(C task ls)"
  C task delete holder >/dev/null 2>&1
  C container rm holder || fail "ctr container rm holder"
  assert_clean
}

# The upstream Go runtime's name: containerd finds containerd-shim-remoteproc-v1
# in its PATH; no runtime options, so the runc shim's default root.
name_root=/run/containerd/runc/$ctr_ns
by_name() { C run --runtime io.containerd.remoteproc.v1 "$@"; }

t_ctr_by_name_lifecycle() {
  [ -x "$inst_bin/containerd-shim-remoteproc-v1" ] || fail "install.sh did not install the shim: $(cat "$log_dir/install.log")"
  by_name -d --annotation remoteproc.name=dsp --log-uri "file://$tmp/ctr-n1.log" "$image" n1 ||
    fail "ctr run --runtime io.containerd.remoteproc.v1: $(tail -n 5 "$log_dir/containerd.log")"
  C container info n1 | grep -q '"Name": "io.containerd.remoteproc.v1"' || fail "runtime: $(C container info n1 | grep -A2 Runtime)"
  is_task n1 RUNNING || fail "ctr task ls: $(C task ls)"
  is_state 1 running || fail "dsp reads $(rp_state 1)"
  [ -f "$name_root/containers/n1/state.json" ] || fail "no state under the runc shim's default root $name_root: $(ls -R "$name_root" 2>&1)"
  local pid
  pid=$(C task ls | awk '$1 == "n1" { print $2 }')
  C task ps n1 | grep -qw "$pid" || fail "ctr task ps: $(C task ps n1)"
  wait_for 10 clog_has n1 "deployed and running" || fail "log: $(clog n1)"
  trace 1 "dsp through the shim name
"
  wait_for 10 clog_has n1 "dsp through the shim name" || fail "trace not in log: $(clog n1)"
  C task kill n1 || fail "ctr task kill"
  wait_for 15 is_task n1 STOPPED || fail "ctr task ls: $(C task ls)"
  is_state 1 offline || fail "dsp reads $(rp_state 1)"
  C task delete n1 >"$tmp/out" 2>&1 || fail "ctr task delete: $(cat "$tmp/out")"
  contains "$(cat "$tmp/out")" "exit code 143" "ctr task delete"
  C container rm n1 || fail "ctr container rm"
  [ ! -e "$name_root/containers/n1" ] || fail "state left: $(ls -R "$name_root/containers/n1")"
  assert_clean
}

t_ctr_by_name_error() {
  local code=0 out
  out=$(timeout 60 ctr -a "$csock" -n "$ctr_ns" run --runtime io.containerd.remoteproc.v1 --null-io \
    --annotation remoteproc.name=nope "$image" n2 2>&1) || code=$?
  [ "$code" != 0 ] || fail "ctr run succeeded: $out"
  [ "$code" != 124 ] || fail "ctr run hung"
  contains "$out" 'OCI runtime create failed: no remote processor named "nope" (available: m4 (remoteproc0), dsp (remoteproc1), r5 (remoteproc2))' "ctr run output"
  [ -z "$(task_status n2)" ] || fail "task n2 left: $(C task ls)"
  C container rm n2 >/dev/null 2>&1
  [ ! -e "$name_root/containers/n2" ] || fail "state left: $(ls -R "$name_root/containers/n2")"
  assert_clean
  say "$out"
}

say "=== containerd $(containerd --version | awk '{print $3}') (runc shim, --runc-binary $launcher)"
run_test "containerd starts; image imported from podman" t_ctr_import
run_test "ctr run -d deploys; task ls RUNNING; task ps; log has lifecycle and trace" t_ctr_run_ls_ps
run_test "ctr task kill: STOPPED, exit code 143, processor offline" t_ctr_kill
run_test "a crash makes the task STOPPED on its own (exit 2)" t_ctr_crash
run_test "ctr task delete --force of a running task" t_ctr_delete_force
run_test "ctr run errors are the runtime's messages; -t fails fast" t_ctr_errors
run_test "ctr run --runtime io.containerd.remoteproc.v1 (installed shim): deploy, ps, log, kill 143, delete" t_ctr_by_name_lifecycle
run_test "ctr run --runtime io.containerd.remoteproc.v1 shows the runtime's error; nothing left" t_ctr_by_name_error

# ---------------------------------------------------------------- docker
if [ -f "$here/docker.sh" ] && [ "${REMOTEPROC_ENGINES_DOCKER:-1}" != 0 ]; then
  # shellcheck source=tests/engines/docker.sh
  . "$here/docker.sh"
fi

# ---------------------------------------------------------------- docs
# The pages' shell blocks marked `engine=NAME` (tests/helpers/doc_blocks.ts)
# run as written, with this tier's engines and its simulator standing for
# the README's /tmp/rprt-sim; skipped blocks are listed with their reason.
docs_dir=$tmp/docs
t_docs() { # ENGINE
  "$deno" run -q -P=test "$here/docs.ts" --engine "$1" --simulator "$sysroot" \
    --dir "$docs_dir/$1" >"$log_dir/docs-$1" 2>&1
  local code=$?
  cat "$log_dir/docs-$1"
  [ "$code" = 0 ] || fail "a page's $1 blocks failed"
}
t_docs_podman() { t_docs podman; }
t_docs_ctr() { t_docs ctr; }
t_docs_docker() { DOCKER_HOST=unix://$docker_sock t_docs docker; }
docs_engines=(podman ctr)
if [ -n "${dockerd_pid:-}" ] && [ -n "${docker_sock:-}" ]; then docs_engines+=(docker); fi
for e in "${docs_engines[@]}"; do
  if [ "$("$deno" run -q -P=test "$here/docs.ts" --engine "$e" --count)" != 0 ]; then
    run_test "docs: the pages' $e blocks run as written" "t_docs_$e"
    grep '^skip ' "$log_dir/docs-$e" 2>/dev/null | sed 's/^/    /'
  fi
done

# ---------------------------------------------------------------- leftovers
t_nothing_left() {
  local left=
  local pid
  for pid in $(ours); do
    [ "$pid" = "$sim_pid" ] || [ "$pid" = "$containerd_pid" ] || [ "$pid" = "$dockerd_pid" ] ||
      left="$left $pid:$(tr '\0' ' ' 2>/dev/null </proc/"$pid"/cmdline | cut -c1-120)"
  done
  [ -z "$left" ] || fail "processes left:$left"
  assert_clean
  podman ps -a -q | grep -q . && fail "podman containers left: $(podman ps -a)"
  C container ls -q | grep -q . && fail "containerd containers left: $(C container ls)"
  left=$(find "$name_root" -mindepth 1 ! -path "$name_root/containers" ! -name '.*' 2>/dev/null)
  [ -z "$left" ] || fail "left in $name_root: $left"
  true
}
run_test "no container, proxy or claim is left behind" t_nothing_left

say "$passed passed, $failed failed"
[ "$failed" = 0 ]
