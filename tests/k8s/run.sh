#!/usr/bin/env bash
# CRI test tier: containerd's real CRI server drives bin/remoteproc-runtime
# as the runtime handler "remoteproc", and the test (tests/k8s/scenarios.ts)
# plays the kubelet over the CRI gRPC API, against the remoteproc simulator.
#
#   bash tests/k8s/run.sh          (as root; deno task test:k8s)
#
# Installs containerd (with its stock runc shim) from Debian when missing.
# Everything else is private to a temp directory: the simulator's sysroot,
# containerd's config, root, state, socket, CRI state and `opt` directory,
# the runtime's --root, empty CNI directories (pods use the host network,
# so CNI is never called), pod logs. The images are OCI archives built by
# tests/k8s/oci_image.ts (no builder needed) and imported into containerd's
# k8s.io namespace; the sandbox image is one of them. A trap stops every
# process this script started and removes what it made. Last line:
# "N passed, N failed".
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd -P)
project=$(cd "$here/../.." && pwd -P)
. "$project/tests/helpers/tier.sh"

tier_checks "the CRI tier (containerd)"

# ---------------------------------------------------------------- install
if ! command -v containerd >/dev/null || ! command -v containerd-shim-runc-v2 >/dev/null ||
  ! command -v ctr >/dev/null; then
  apt_install containerd || give_up "cannot install containerd"
fi

# ---------------------------------------------------------------- private dirs
tmp=$(mktemp -d /tmp/rprt-k8s.XXXXXX)
tmp=$(cd "$tmp" && pwd -P)
sysroot=$tmp/sysroot
logs=$tmp/logs
mkdir -p "$logs" "$tmp/containerd/opt" "$tmp/cni/bin" "$tmp/cni/conf" "$tmp/runc" "$tmp/pods" "$tmp/images"
csock=$tmp/containerd/containerd.sock
sim_pid=
containerd_pid=

# Host directories containerd creates whatever its configuration says (shim
# sockets, fifos): removed at the end if this run made them and they are
# empty again.
note_host_dirs /run/containerd/s /run/containerd/fifo /run/containerd

cleanup() {
  set +e
  if [ -n "$containerd_pid" ]; then
    kill "$containerd_pid" 2>/dev/null
    wait "$containerd_pid" 2>/dev/null
  fi
  remove_private "$sim_pid"
  remove_made_dirs
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---------------------------------------------------------------- simulator
# m4 and dsp keep the kernel's default recovery (enabled); the test sets it
# per processor where it needs a crash to stop a container.
say "=== simulator under $sysroot"
"$deno" run -q -P=demo "$project/sim/main.ts" --root "$sysroot" \
  --processors m4,dsp,r5 --trace >"$logs/sim.log" 2>&1 &
sim_pid=$!
wait_for 30 grep -q "simulator running" "$logs/sim.log" || {
  cat "$logs/sim.log"
  give_up "the simulator did not start"
}

# The runtime containerd's shim calls (BinaryName): the launcher with the
# simulator's sysroot. On a board BinaryName names the runtime itself.
# REMOTEPROC_K8S_CALLS=1 logs every call and its exit status (shown at the
# end) instead.
wrapper=$tmp/remoteproc-runtime
if [ "${REMOTEPROC_K8S_CALLS:-0}" = 0 ]; then
  cat >"$wrapper" <<EOF
#!/bin/sh
exec $launcher --sysroot=$sysroot "\$@"
EOF
else
  cat >"$wrapper" <<EOF
#!/bin/sh
echo "\$\$ \$*" >>$logs/calls.log
$launcher --sysroot=$sysroot "\$@"
rc=\$?
echo "\$\$ exit \$rc" >>$logs/calls.log
exit \$rc
EOF
fi
chmod 755 "$wrapper"

# ---------------------------------------------------------------- images
fw_image=localhost/rprt-k8s-fw:test
pause_image=localhost/rprt-k8s-pause:test
"$deno" run -q -P=demo "$project/tests/engines/make_fw.ts" "$tmp/images/fw.elf" ||
  give_up "cannot make the firmware"
printf 'a placeholder: the runtime never runs it\n' >"$tmp/images/pause"
"$deno" run -q -P=demo "$here/oci_image.ts" "$tmp/images/fw.tar" "$fw_image" fw.elf \
  "fw.elf=$tmp/images/fw.elf" || give_up "cannot build the firmware image"
"$deno" run -q -P=demo "$here/oci_image.ts" "$tmp/images/pause.tar" "$pause_image" /pause \
  "pause=$tmp/images/pause" || give_up "cannot build the sandbox image"

# ---------------------------------------------------------------- containerd
cri='plugins."io.containerd.grpc.v1.cri"'
cat >"$tmp/containerd/config.toml" <<EOF
version = 2
root = "$tmp/containerd/root"
state = "$tmp/containerd/state"

[grpc]
  address = "$csock"

[ttrpc]
  address = "$csock.ttrpc"

[plugins."io.containerd.internal.v1.opt"]
  path = "$tmp/containerd/opt"

[$cri]
  sandbox_image = "$pause_image"
  restrict_oom_score_adj = true
  disable_apparmor = true
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"

[$cri.cni]
  bin_dir = "$tmp/cni/bin"
  conf_dir = "$tmp/cni/conf"

[$cri.containerd]
  snapshotter = "overlayfs"
  default_runtime_name = "runc"

[$cri.containerd.runtimes.runc]
  runtime_type = "io.containerd.runc.v2"

[$cri.containerd.runtimes.remoteproc]
  runtime_type = "io.containerd.runc.v2"
  pod_annotations = ["remoteproc.*"]
  container_annotations = ["remoteproc.*"]

[$cri.containerd.runtimes.remoteproc.options]
  BinaryName = "$wrapper"
  Root = "$tmp/runc"
EOF
say "=== containerd $(containerd --version | awk '{print $3}') with the CRI plugin, handler remoteproc"
containerd --config "$tmp/containerd/config.toml" >"$logs/containerd.log" 2>&1 &
containerd_pid=$!
wait_for 30 ctr -a "$csock" version || {
  tail -n 30 "$logs/containerd.log"
  give_up "containerd did not start"
}
for archive in fw pause; do
  ctr -a "$csock" -n k8s.io images import "$tmp/images/$archive.tar" >"$logs/import.log" 2>&1 || {
    cat "$logs/import.log"
    give_up "ctr images import $archive.tar failed"
  }
done

# ---------------------------------------------------------------- tests
export RPRT_K8S_TMP=$tmp RPRT_K8S_SOCKET=$csock RPRT_K8S_SYSROOT=$sysroot \
  RPRT_K8S_STATE_ROOT=$tmp/runc/k8s.io RPRT_K8S_WRAPPER=$wrapper \
  RPRT_K8S_FW_IMAGE=$fw_image RPRT_K8S_PAUSE_IMAGE=$pause_image \
  RPRT_K8S_PODS=$tmp/pods
# Indented, so that the tier's own last line is the only summary .ci/run
# reads.
"$deno" test -A "$here/scenarios.ts" 2>&1 | tee "$logs/test.log" | sed "s/^/  /"
summary=$(grep -aE '^(ok|FAILED) \| [0-9]+ passed' "$logs/test.log" | tail -n 1)
passed=$(sed -E 's/^[A-Z a-z]+\| ([0-9]+) passed.*/\1/' <<<"$summary")
failed=$(sed -E 's/.*\| ([0-9]+) failed.*/\1/' <<<"$summary")
if [ -z "$summary" ]; then
  passed=0
  failed=1
fi
if [ "$failed" != 0 ] || [ "${REMOTEPROC_K8S_VERBOSE:-0}" != 0 ]; then
  say "=== containerd log (last 60 lines)"
  tail -n 60 "$logs/containerd.log"
fi
if [ -f "$logs/calls.log" ]; then
  say "=== runtime calls"
  cat "$logs/calls.log"
fi

# ---------------------------------------------------------------- leftovers
left=
for pid in $(ours); do
  [ "$pid" = "$sim_pid" ] || [ "$pid" = "$containerd_pid" ] ||
    left="$left $pid:$(tr '\0' ' ' 2>/dev/null </proc/"$pid"/cmdline | cut -c1-100)"
done
if [ -n "$left" ]; then
  say "FAIL processes left behind:$left"
  failed=$((failed + 1))
else
  say "ok   no proxy, shim or other process of the tier is left"
  passed=$((passed + 1))
fi

say "$passed passed, $failed failed"
[ "$failed" = 0 ]
