#!/bin/sh
# Shell-level smoke tests of the test infrastructure itself: the fake
# remoteproc driver, the kernel's sysfs ABI on this kernel, and Deno (arm64)
# inside the guest. Runs inside the guest, from /init.
. /ktest/ktest_lib.sh

t_module_load() {
	load_mod
	expect_eq "$(cat "$RP/name")" "$KT_NAME" "name"
	expect_eq "$(cat "$RP/state")" offline "state at probe"
	expect_eq "$(cat "$RP/firmware")" "rproc-$KT_NAME-fw" "default firmware name"
	expect_eq "$(basename "$(readlink "$RP/device/driver")")" "$KT_DRV" "device/driver"
	expect_eq "$(cat "$RP/recovery")" enabled "recovery default"
	expect_eq "$(cat "$RP/coredump")" disabled "coredump default"
	[ -d "$DBG" ] || die "no debugfs dir $DBG"
	info "kernel $(uname -r), rproc dir $RP"
}

# start_stop FWFILE: firmware name, start -> running, stop -> offline
start_stop() {
	sysfs_write "$RP/firmware" "$1" || die "write firmware $1 failed"
	expect_eq "$(cat "$RP/firmware")" "$1" "firmware readback"
	_s0=$(modparam starts)
	sysfs_write "$RP/state" start || die "start $1 failed"
	expect_eq "$(cat "$RP/state")" running "state after start"
	expect_eq "$(modparam starts)" $((_s0 + 1)) "driver start count"
	expect_eq "$(modparam last_boot_addr)" $((0x10000041)) "boot address (e_entry)"
	expect_eq "$(modparam last_word0)" $((0x10001000)) "first loaded word (segment copied into the window)"
	sysfs_write "$RP/firmware" other.elf && die "firmware write while running was accepted"
	sysfs_write "$RP/state" stop || die "stop failed"
	expect_eq "$(cat "$RP/state")" offline "state after stop"
}

t_start_stop_elf() {
	load_mod
	start_stop fw.elf
	# the resource table's trace entry shows up in debugfs only while running
	sysfs_write "$RP/state" start || die "restart failed"
	[ -e "$DBG/trace0" ] || die "no trace0 in debugfs (resource table not used?)"
	sysfs_write "$RP/state" stop || die "stop failed"
}

t_start_stop_norsc() {
	load_mod
	start_stop fw-norsc.elf
}

# What the kernel does with a second start on a running core (v5.19+: success
# and the power refcount goes to 2; a stop then only drops the count)
t_power_refcount() {
	load_mod
	sysfs_write "$RP/firmware" fw.elf || die "firmware"
	sysfs_write "$RP/state" start || die "start"
	if err=$(sysfs_write "$RP/state" start); then
		info "second start on a running core: accepted (refcount)"
		expect_eq "$(modparam starts)" 1 "driver starts after 2 writes"
		sysfs_write "$RP/state" stop || die "first stop"
		expect_eq "$(cat "$RP/state")" running "state after 1 of 2 stops"
		expect_eq "$(modparam stops)" 0 "driver stops after 1 of 2 stops"
		sysfs_write "$RP/state" stop || die "second stop"
	else
		info "second start on a running core: refused ($err)"
		sysfs_write "$RP/state" stop || die "stop"
	fi
	expect_eq "$(cat "$RP/state")" offline "state at end"
	expect_eq "$(modparam stops)" 1 "driver stops"
	if err=$(sysfs_write "$RP/state" stop); then die "stop on offline core accepted"; fi
	info "stop on an offline core: $err"
}

# refused IMAGE: start must fail and leave the core offline
refused() {
	load_mod
	sysfs_write "$RP/firmware" "$1" || die "firmware"
	if err=$(sysfs_write "$RP/state" start); then die "start of $1 was accepted"; fi
	info "start of $1: $err"
	expect_eq "$(cat "$RP/state")" offline "state after refused start"
	expect_eq "$(modparam starts)" 0 "driver starts"
}
t_refuse_notelf() { refused notelf.bin; }
t_refuse_truncated() { refused fw-trunc.elf; }
t_refuse_bad_da() { refused fw-baddr.elf; }

t_missing_firmware() {
	load_mod
	sysfs_write "$RP/firmware" does-not-exist.elf || die "firmware"
	t0=$(now_ms)
	if err=$(sysfs_write "$RP/state" start); then die "start accepted"; fi
	info "start with a missing file: $err (after $(($(now_ms) - t0)) ms)"
	case "$err" in *"No such file"*) ;; *) die "expected ENOENT, got: $err" ;; esac
	expect_eq "$(cat "$RP/state")" offline "state"
}

t_start_errno() {
	load_mod start_errno=5
	sysfs_write "$RP/firmware" fw.elf || die "firmware"
	if err=$(sysfs_write "$RP/state" start); then die "start accepted"; fi
	case "$err" in *"Input/output error"*) ;; *) die "expected EIO, got: $err" ;; esac
	expect_eq "$(cat "$RP/state")" offline "state"
	# the parameter is writable at run time too
	echo 0 >/sys/module/fake_rproc/parameters/start_errno
	sysfs_write "$RP/state" start || die "start after clearing start_errno"
	sysfs_write "$RP/state" stop || die "stop"
}

t_attached() {
	load_mod attached=1
	wait_state attached 30 || die "state is $(cat "$RP/state"), expected attached"
	expect_eq "$(cat "$RP/firmware")" unknown "firmware while attached"
	expect_eq "$(modparam attaches)" 1 "driver attach count"
	if err=$(sysfs_write "$RP/firmware" fw.elf); then die "firmware write accepted while attached"; fi
	info "firmware write while attached: $err"
	if err=$(sysfs_write "$RP/state" start); then
		info "start on an attached core: accepted without calling the driver (starts=$(modparam starts)); needs 2 stops now"
		sysfs_write "$RP/state" stop || die "stop 1"
		info "after 1 stop: $(cat "$RP/state")"
	else
		info "start on an attached core: $err"
	fi
	sysfs_write "$RP/state" stop || die "stop of attached core"
	expect_eq "$(cat "$RP/state")" offline "state after stop"
	expect_eq "$(modparam stops)" 1 "driver stop count"
	# once offline it is an ordinary core
	start_stop fw.elf
}

# attached -> detach -> detached; start re-attaches (no firmware involved)
t_detach() {
	load_mod attached=1
	wait_state attached 30 || die "not attached"
	sysfs_write "$RP/state" detach || die "detach"
	expect_eq "$(cat "$RP/state")" detached "state after detach"
	expect_eq "$(modparam detaches)" 1 "driver detaches"
	if err=$(sysfs_write "$RP/state" stop); then die "stop on a detached core accepted"; fi
	info "stop on a detached core: $err"
	sysfs_write "$RP/state" start || die "start on a detached core"
	expect_eq "$(cat "$RP/state")" attached "state after start on a detached core"
	expect_eq "$(modparam attaches)" 2 "driver attaches"
	expect_eq "$(modparam starts)" 0 "driver starts"
	sysfs_write "$RP/state" stop || die "stop"
	expect_eq "$(cat "$RP/state")" offline "state at end"
}

t_crash_no_recovery() {
	load_mod
	sysfs_write "$RP/firmware" fw.elf || die "firmware"
	sysfs_write "$RP/recovery" disabled || die "recovery disabled"
	sysfs_write "$RP/state" start || die "start"
	echo 1 >"$DBG/crash" || die "crash write"
	wait_state crashed 50 || die "state is $(cat "$RP/state") after crash"
	if err=$(sysfs_write "$RP/state" stop); then
		info "stop on a crashed core: accepted, state $(cat "$RP/state")"
	else
		info "stop on a crashed core: $err"
	fi
	if [ "$(cat "$RP/state")" = crashed ]; then
		# documented way out: 'recover' restarts it, then stop
		sysfs_write "$RP/recovery" recover || die "recover"
		wait_state running 50 || die "state $(cat "$RP/state") after recover"
		sysfs_write "$RP/state" stop || die "stop after recover"
	fi
	expect_eq "$(cat "$RP/state")" offline "state at end"
	sysfs_write "$RP/recovery" enabled
}

t_crash_recovery() {
	load_mod
	sysfs_write "$RP/firmware" fw.elf || die "firmware"
	expect_eq "$(cat "$RP/recovery")" enabled "recovery"
	sysfs_write "$RP/state" start || die "start"
	echo 1 >"$DBG/crash" || die "crash write"
	i=0
	while [ "$(modparam starts)" -lt 2 ]; do
		i=$((i + 1))
		[ $i -lt 50 ] || die "firmware not restarted after crash (starts=$(modparam starts), state $(cat "$RP/state"))"
		sleep 0.1
	done
	wait_state running 50 || die "state $(cat "$RP/state") after recovery"
	expect_eq "$(modparam stops)" 1 "stops during recovery"
	sysfs_write "$RP/state" stop || die "stop"
	expect_eq "$(cat "$RP/state")" offline "state at end"
}

t_custom_fw_path() {
	load_mod
	P=/sys/module/firmware_class/parameters/path
	mkdir -p /tmp/kfw
	cp "$KT_FW/fw.elf" /tmp/kfw/custom.elf
	printf '%s' /tmp/kfw >"$P" || die "write path"
	sysfs_write "$RP/firmware" custom.elf || die "firmware"
	sysfs_write "$RP/state" start || die "start from custom path: $(cat $P)"
	sysfs_write "$RP/state" stop || die "stop"
	# with a trailing newline (kernels before 6.4 keep it)
	echo /tmp/kfw >"$P"
	if sysfs_write "$RP/state" start >/dev/null; then
		info "custom path written with a newline: still works (newline stripped)"
		sysfs_write "$RP/state" stop
	else
		info "custom path written with a newline: firmware not found (newline kept in the path)"
	fi
	reset_fw_path
	expect_eq "$(cat "$P")" "" "path after reset"
	sysfs_write "$RP/firmware" fw.elf || die "firmware"
	sysfs_write "$RP/state" start || die "start from /lib/firmware after resetting the path"
	sysfs_write "$RP/state" stop || die "stop"
	expect_eq "$(cat "$RP/state")" offline "state at end"
}

t_deno() {
	t0=$(now_ms)
	v=$(deno --version) || die "deno --version failed"
	t1=$(now_ms)
	info "deno --version: $(echo "$v" | head -n 1) in $((t1 - t0)) ms"
	echo 'console.log("hello " + Deno.build.arch)' >/tmp/hello.ts
	out=$(deno run /tmp/hello.ts) || die "deno run failed"
	t2=$(now_ms)
	expect_eq "$out" "hello aarch64" "deno output"
	info "deno run hello.ts: $((t2 - t1)) ms"
	out=$(deno run /tmp/hello.ts) || die "deno run failed"
	t3=$(now_ms)
	info "deno run hello.ts (2nd, warm cache): $((t3 - t2)) ms"
	# sysfs through Deno, the way the runtime reads it
	cat >/tmp/sysfs.ts <<'EOF'
const d = Deno.args[0];
console.log(Deno.readTextFileSync(`${d}/name`).trim());
EOF
	load_mod
	out=$(cd /project && deno run -A /tmp/sysfs.ts "$RP") || die "deno sysfs read failed"
	expect_eq "$out" "$KT_NAME" "name read by deno"
	# the project's npm deps resolve from /project/node_modules
	cat >/project/.ktest-deps.ts <<'EOF'
import { z } from "zod";
import { getLogger } from "@logtape/logtape";
console.log(z.string().parse("deps-ok"), typeof getLogger);
EOF
	t4=$(now_ms)
	out=$(cd /project && deno run -A .ktest-deps.ts) || die "importing zod/logtape failed"
	rm -f /project/.ktest-deps.ts
	expect_eq "$out" "deps-ok function" "deps"
	info "deno run importing zod+logtape from /project/node_modules: $(($(now_ms) - t4)) ms"
}

run_test smoke_module_load t_module_load
run_test smoke_start_stop_elf t_start_stop_elf
run_test smoke_start_stop_no_rsc_table t_start_stop_norsc
run_test smoke_power_refcount t_power_refcount
run_test smoke_refuse_not_elf t_refuse_notelf
run_test smoke_refuse_truncated_elf t_refuse_truncated
run_test smoke_refuse_bad_da t_refuse_bad_da
run_test smoke_missing_firmware t_missing_firmware
run_test smoke_start_errno t_start_errno
run_test smoke_attached t_attached
run_test smoke_detach_reattach t_detach
run_test smoke_crash_no_recovery t_crash_no_recovery
run_test smoke_crash_recovery t_crash_recovery
run_test smoke_custom_fw_path t_custom_fw_path
run_test smoke_deno t_deno
(unload_mod) || echo "KTEST fail smoke_unload: fake_rproc could not be unloaded at the end"
run_test smoke_kernel_log_clean t_kernel_clean
