# Docker part of the engine tier, sourced by run.sh (uses its helpers).
#
# dockerd runs here (Debian 12 docker.io 20.10.24) with a private data-root,
# exec-root, socket and daemon.json that registers the runtime, and its own
# managed containerd, which inherits REMOTEPROC_RUNTIME_SYSROOT. What it
# cannot do: pass OCI annotations. `docker run --annotation` needs API 1.43
# (Docker Engine 24); a 20.10 daemon offers 1.41, and a newer client refuses
# ("--annotation" requires API version 1.43, but the Docker daemon API
# version is 1.41). So this checks the registration, that `docker run
# --runtime remoteproc` reaches the runtime and shows its message, and that
# nothing is left; a deploy through Docker needs Docker Engine >= 24.
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

docker_cleanup() {
  [ -n "$dockerd_pid" ] || return 0
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

t_docker_daemon() {
  wait_for 60 sh -c "DOCKER_HOST=unix://$docker_sock /usr/bin/docker version || ! kill -0 $dockerd_pid" || fail "dockerd did not start: $(tail -n 20 "$log_dir/dockerd.log")"
  D version >/dev/null || fail "dockerd did not start: $(tail -n 20 "$log_dir/dockerd.log")"
  D info --format '{{json .Runtimes}}' | grep -q '"remoteproc"' || fail "runtime not registered: $(D info 2>&1 | grep -i runtime)"
  podman save --format docker-archive -o "$tmp/fw-docker.tar" "$image" || fail "podman save"
  D load -i "$tmp/fw-docker.tar" >/dev/null || fail "docker load"
  rm -f "$tmp/fw-docker.tar"
}

t_docker_run_reaches_runtime() {
  local code=0 out
  out=$(timeout 60 /usr/bin/docker -H "unix://$docker_sock" run -d --name d1 --runtime remoteproc "$image" 2>&1) || code=$?
  [ "$code" != 0 ] || fail "docker run succeeded without an annotation: $out"
  [ "$code" != 124 ] || fail "docker run hung"
  contains "$out" "OCI runtime create failed: annotation remoteproc.name is required" "docker run output"
  D rm -f d1 >/dev/null || fail "docker rm"
  assert_clean
  say "$out"
}

dockerd --config-file "$docker_dir/daemon.json" >"$log_dir/dockerd.log" 2>&1 &
dockerd_pid=$!
say "=== docker $(dockerd --version | awk '{print $3}' | tr -d ,) (daemon.json runtimes)"
run_test "dockerd with the runtime in daemon.json; image loaded" t_docker_daemon
run_test "docker run --runtime remoteproc reaches the runtime; its message is shown" t_docker_run_reaches_runtime
docker_cleanup
