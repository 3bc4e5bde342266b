# Docker part of the engine tier, sourced by run.sh (uses its helpers).
#
# dockerd runs here (Debian 12 docker.io 20.10.24) with a private data-root,
# exec-root, socket and daemon.json that registers the runtime, and its own
# managed containerd, which inherits REMOTEPROC_RUNTIME_SYSROOT and a PATH
# holding containerd-shim-remoteproc-v1. Docker 20.10 cannot pass OCI
# annotations (`docker run --annotation` needs API 1.43, Docker Engine 24),
# so the processor is named by REMOTEPROC_NAME in the container's
# environment (`docker run -e`, compose `environment:`).
#
# Then docker-compose (Debian's 1.29) brings up a two-service file and takes
# it down again.
# shellcheck shell=bash disable=SC2154

docker_dir=$tmp/docker
docker_sock=$docker_dir/docker.sock
mkdir -p "$docker_dir"
cat >"$docker_dir/daemon.json" <<EOF
{
  "runtimes": {
    "remoteproc": { "path": "$launcher" }
  },
  "data-root": "$docker_dir/data",
  "exec-root": "$docker_dir/exec",
  "pidfile": "$docker_dir/dockerd.pid",
  "hosts": ["unix://$docker_sock"],
  "bridge": "none",
  "iptables": false,
  "ip6tables": false,
  "storage-driver": "overlay2",
  "exec-opts": ["native.cgroupdriver=cgroupfs"]
}
EOF
# The docker.io client (/usr/bin/docker) speaks the daemon's API version.
D() { DOCKER_HOST=unix://$docker_sock /usr/bin/docker "$@"; }
DC() { DOCKER_HOST=unix://$docker_sock docker-compose --ansi never -p rprt -f "$docker_dir/compose/docker-compose.yml" "$@"; }

docker_cleanup() {
  [ -n "$dockerd_pid" ] || return 0
  DC down -t 1 >/dev/null 2>&1
  D ps -aq 2>/dev/null | xargs -r env DOCKER_HOST="unix://$docker_sock" /usr/bin/docker rm -f >/dev/null 2>&1
  D images -q 2>/dev/null | xargs -r env DOCKER_HOST="unix://$docker_sock" /usr/bin/docker rmi -f >/dev/null 2>&1
  kill "$dockerd_pid" 2>/dev/null
  local i
  for i in $(seq 100); do
    kill -0 "$dockerd_pid" 2>/dev/null || break
    sleep 0.1
  done
  dockerd_pid=
}

d_status() { D ps -a --filter "name=^$1\$" --format '{{.Status}}'; }
d_exit() { D inspect -f '{{.State.ExitCode}}' "$1"; }
d_running() { [ "$(D inspect -f '{{.State.Running}}' "$1" 2>/dev/null)" = true ]; }
d_gone() { [ -z "$(D ps -a -q --filter "name=^$1\$")" ]; }
d_logs_have() { D logs "$1" 2>&1 | grep -qF -- "$2"; }
d_logs_count() { D logs "$1" 2>&1 | grep -cF -- "$2"; }
stored() { find "$sysroot/lib/firmware" -mindepth 1 2>/dev/null | wc -l; }

t_docker_daemon() {
  wait_for 60 sh -c "DOCKER_HOST=unix://$docker_sock /usr/bin/docker version || ! kill -0 $dockerd_pid" || fail "dockerd did not start: $(tail -n 20 "$log_dir/dockerd.log")"
  D version >/dev/null || fail "dockerd did not start: $(tail -n 20 "$log_dir/dockerd.log")"
  D info --format '{{json .Runtimes}}' | grep -q '"remoteproc"' || fail "runtime not registered: $(D info 2>&1 | grep -i runtime)"
  podman save --format docker-archive -o "$tmp/fw-docker.tar" "$image" || fail "podman save"
  D load -i "$tmp/fw-docker.tar" >/dev/null || fail "docker load"
  rm -f "$tmp/fw-docker.tar"
}

t_docker_run_ps_logs() {
  D run -d --name d1 --runtime remoteproc -e REMOTEPROC_NAME=m4 "$image" >/dev/null ||
    fail "docker run -d"
  is_state 0 running || fail "m4 reads $(rp_state 0)"
  contains "$(d_status d1)" "Up" "docker ps"
  wait_for 10 d_logs_have d1 "deployed and running" || fail "logs: $(D logs d1 2>&1)"
  trace 0 "hello from the m4 under docker
"
  wait_for 10 d_logs_have d1 "hello from the m4 under docker" || fail "trace not in logs: $(D logs d1 2>&1)"
  # The environment selects the processor; it is not an annotation of the
  # container and never reaches the firmware.
  local id
  id=$(D inspect -f '{{.Id}}' d1)
  contains "$("$launcher" processors --format json)" '{"index":"remoteproc0","name":"m4","state":"running","plugin":"generic","container":"'"$id"'"}' "processors"
}

t_docker_stop() {
  D stop -t 10 d1 >/dev/null || fail "docker stop"
  is_state 0 offline || fail "m4 reads $(rp_state 0)"
  [ "$(d_exit d1)" = 143 ] || fail "exit code $(d_exit d1)"
  contains "$(d_status d1)" "Exited (143)" "docker ps -a"
  wait_for 10 d_logs_have d1 "stopped on request" || fail "logs: $(D logs d1 2>&1)"
  [ "$(stored)" = 0 ] || fail "stored firmware left: $(ls "$sysroot/lib/firmware")"
}

t_docker_start_again() {
  D start d1 >/dev/null || fail "docker start"
  is_state 0 running || fail "m4 reads $(rp_state 0)"
  contains "$(d_status d1)" "Up" "docker ps"
  trace 0 "second boot under docker
"
  wait_for 10 d_logs_have d1 "second boot under docker" || fail "logs: $(D logs d1 2>&1)"
}

t_docker_kill() {
  D kill -s TERM d1 >/dev/null || fail "docker kill -s TERM"
  wait_for 15 is_state 0 offline || fail "m4 reads $(rp_state 0)"
  wait_for 15 eval '! d_running d1' || fail "still running: $(d_status d1)"
  [ "$(d_exit d1)" = 143 ] || fail "exit code $(d_exit d1)"
  D start d1 >/dev/null || fail "docker start"
  is_state 0 running || fail "m4 reads $(rp_state 0)"
  # SIGKILL kills the proxy; Docker's task delete then stops the core.
  D kill d1 >/dev/null || fail "docker kill"
  wait_for 15 eval '! d_running d1' || fail "still running: $(d_status d1)"
  [ "$(d_exit d1)" = 137 ] || fail "exit code $(d_exit d1)"
  wait_for 15 is_state 0 offline || fail "after docker kill, m4 reads $(rp_state 0)"
}

t_docker_rm_f() {
  D start d1 >/dev/null || fail "docker start"
  is_state 0 running || fail "m4 reads $(rp_state 0)"
  D rm -f d1 >/dev/null || fail "docker rm -f"
  d_gone d1 || fail "container still listed"
  assert_clean
}

t_docker_crash() {
  D run -d --name d2 --runtime remoteproc -e REMOTEPROC_NAME=r5 "$image" >/dev/null || fail "docker run -d"
  is_state 2 running || fail "r5 reads $(rp_state 2)"
  trace 2 "r5: docker, last words
"
  wait_for 10 d_logs_have d2 "r5: docker, last words" || fail "logs: $(D logs d2 2>&1)"
  crash 2
  wait_for 20 eval '! d_running d2' || fail "still running after the crash: $(d_status d2)"
  [ "$(d_exit d2)" = 2 ] || fail "exit code $(d_exit d2)"
  contains "$(d_status d2)" "Exited (2)" "docker ps -a"
  wait_for 10 d_logs_have d2 "crashed (recovery disabled)" || fail "logs: $(D logs d2 2>&1)"
  # Docker deletes the task at once: that stops the crashed core.
  wait_for 10 is_state 2 offline || fail "r5 reads $(rp_state 2)"
  D rm d2 >/dev/null || fail "docker rm"
  assert_clean
}

t_docker_restart_on_failure() {
  D run -d --name d3 --runtime remoteproc --restart on-failure:3 -e REMOTEPROC_NAME=r5 "$image" >/dev/null ||
    fail "docker run -d --restart on-failure"
  is_state 2 running || fail "r5 reads $(rp_state 2)"
  wait_for 10 d_logs_have d3 "deployed and running" || fail "logs: $(D logs d3 2>&1)"
  crash 2
  wait_for 30 sh -c "[ \"\$(DOCKER_HOST=unix://$docker_sock /usr/bin/docker inspect -f '{{.RestartCount}}' d3)\" = 1 ]" ||
    fail "not restarted: $(d_status d3), logs: $(D logs d3 2>&1)"
  wait_for 20 d_running d3 || fail "not running again: $(d_status d3), logs: $(D logs d3 2>&1)"
  wait_for 20 is_state 2 running || fail "r5 reads $(rp_state 2), logs: $(D logs d3 2>&1)"
  wait_for 10 sh -c "[ \$(DOCKER_HOST=unix://$docker_sock /usr/bin/docker logs d3 2>&1 | grep -c 'deployed and running') = 2 ]" ||
    fail "logs: $(D logs d3 2>&1)"
  contains "$(D logs d3 2>&1)" "crashed (recovery disabled)" "docker logs"
  # Taken over cleanly: one stored firmware (the new one, loaded), one
  # claim, held by the container.
  [ "$(stored)" = 1 ] || fail "stored firmware: $(ls "$sysroot/lib/firmware")"
  [ "$(cat "$(rp_dir 2)/firmware")" = "$(ls "$sysroot/lib/firmware")" ] ||
    fail "r5 runs $(cat "$(rp_dir 2)/firmware"), stored: $(ls "$sysroot/lib/firmware")"
  contains "$("$launcher" processors --format json)" '{"index":"remoteproc2","name":"r5","state":"running","plugin":"generic","container":"'"$(D inspect -f '{{.Id}}' d3)"'"}' "processors"
  D stop -t 10 d3 >/dev/null || fail "docker stop"
  is_state 2 offline || fail "r5 reads $(rp_state 2)"
  [ "$(D inspect -f '{{.RestartCount}}' d3)" = 1 ] || fail "restarted after a stop"
  D rm d3 >/dev/null || fail "docker rm"
  assert_clean
}

# docker_error NAME EXPECTED-MESSAGE DOCKER-RUN-ARGS...
docker_error() {
  local name=$1 want=$2 code=0 out
  shift 2
  out=$(timeout 60 /usr/bin/docker -H "unix://$docker_sock" run -d --name "$name" --runtime remoteproc "$@" 2>&1) || code=$?
  [ "$code" != 0 ] || fail "docker run succeeded: $out"
  [ "$code" != 124 ] || fail "docker run hung"
  contains "$out" "docker: Error response from daemon: failed to create shim task: OCI runtime create failed: " "docker run output"
  contains "$out" "$want" "docker run output"
  D rm -f "$name" >/dev/null 2>&1
  d_gone "$name" || fail "$name still listed"
  say "exit $code: $out"
}

t_docker_errors() {
  docker_error e1 'no remote processor named "nope" (available: m4 (remoteproc0), dsp (remoteproc1), r5 (remoteproc2))' \
    -e REMOTEPROC_NAME=nope "$image"
  docker_error e2 "remoteproc.name" "$image"
  docker_error e3 'firmware file "missing.elf" does not exist in the rootfs' \
    -e REMOTEPROC_NAME=m4 --entrypoint missing.elf "$image"
  assert_clean
  D run -d --name holder --runtime remoteproc -e REMOTEPROC_NAME=m4 "$image" >/dev/null || fail "docker run holder"
  docker_error e4 "remoteproc0 (m4) is in use by container $(D inspect -f '{{.Id}}' holder)" \
    -e REMOTEPROC_NAME=m4 "$image"
  is_state 0 running || fail "the holder's m4 reads $(rp_state 0)"
  D rm -f holder >/dev/null || fail "docker rm -f holder"
  assert_clean
}

# Docker >= 23 takes a containerd runtime name (io.containerd.*.v1) for
# --runtime; 20.10 refuses it.
t_docker_runtime_by_name() {
  local major code=0 out
  major=$(D version -f '{{.Server.Version}}' | cut -d. -f1)
  out=$(timeout 60 /usr/bin/docker -H "unix://$docker_sock" run -d --name n3 \
    --runtime io.containerd.remoteproc.v1 -e REMOTEPROC_NAME=dsp "$image" 2>&1) || code=$?
  if [ "$major" -lt 23 ]; then
    [ "$code" != 0 ] || fail "Docker $major accepted a containerd runtime name: $out"
    contains "$out" "Unknown runtime specified io.containerd.remoteproc.v1" "docker run output"
  else
    [ "$code" = 0 ] || fail "docker run --runtime io.containerd.remoteproc.v1: $out"
    is_state 1 running || fail "dsp reads $(rp_state 1)"
    [ "$(D inspect -f '{{.HostConfig.Runtime}}' n3)" = io.containerd.remoteproc.v1 ] || fail "HostConfig.Runtime"
  fi
  D rm -f n3 >/dev/null 2>&1
  assert_clean
  say "Docker $major: $out"
}

# The file docs/engines/docker.md shows.
compose_file() {
  cat <<EOF
services:
  cortex-m4:
    image: $image
    runtime: remoteproc
    network_mode: none
    environment:
      REMOTEPROC_NAME: m4
  dsp:
    image: $image
    runtime: remoteproc
    network_mode: none
    environment:
      REMOTEPROC_NAME: dsp
EOF
}

t_compose_up_down() {
  mkdir -p "$docker_dir/compose"
  compose_file >"$docker_dir/compose/docker-compose.yml"
  DC up -d >"$tmp/compose.out" 2>&1 || fail "docker-compose up: $(cat "$tmp/compose.out")"
  is_state 0 running || fail "m4 reads $(rp_state 0)"
  is_state 1 running || fail "dsp reads $(rp_state 1)"
  local ps
  ps=$(DC ps)
  contains "$ps" "rprt_cortex-m4_1"
  contains "$ps" "rprt_dsp_1"
  [ "$(printf '%s\n' "$ps" | grep -c ' Up ')" = 2 ] || fail "docker-compose ps: $ps"
  wait_for 10 sh -c "[ \$(DOCKER_HOST=unix://$docker_sock docker-compose --ansi never -p rprt -f $docker_dir/compose/docker-compose.yml logs 2>&1 | grep -c 'deployed and running') = 2 ]" ||
    fail "docker-compose logs: $(DC logs 2>&1)"
  DC down -t 10 >"$tmp/compose.out" 2>&1 || fail "docker-compose down: $(cat "$tmp/compose.out")"
  [ -z "$(D ps -aq)" ] || fail "containers left: $(D ps -a)"
  D network ls --format '{{.Name}}' | grep -q rprt && fail "network left: $(D network ls)"
  assert_clean
}

PATH="$inst_bin:$PATH" dockerd --config-file "$docker_dir/daemon.json" >"$log_dir/dockerd.log" 2>&1 &
dockerd_pid=$!
say "=== docker $(dockerd --version | awk '{print $3}' | tr -d ,) (daemon.json runtimes), $(docker-compose version --short 2>/dev/null | sed 's/^/docker-compose /')"
run_test "dockerd with the runtime in daemon.json; image loaded" t_docker_daemon
run_test "docker run -d -e REMOTEPROC_NAME deploys; ps Up; logs show lifecycle and trace" t_docker_run_ps_logs
run_test "docker stop: processor offline, Exited (143)" t_docker_stop
run_test "docker start deploys again" t_docker_start_again
run_test "docker kill -s TERM (143) / SIGKILL (137)" t_docker_kill
run_test "docker rm -f stops and removes everything" t_docker_rm_f
run_test "a crash ends the container with exit code 2 and the last trace" t_docker_crash
run_test "--restart on-failure brings the firmware back after a crash; the processor is taken over cleanly" t_docker_restart_on_failure
run_test "docker run errors are the runtime's messages; nothing left" t_docker_errors
run_test "docker run --runtime io.containerd.remoteproc.v1 (Docker >= 23; 20.10 refuses the name)" t_docker_runtime_by_name
run_test "docker-compose up: two services on two processors; down leaves nothing" t_compose_up_down
docker_cleanup
