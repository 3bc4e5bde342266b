#!/bin/sh
# Tests of the runtime CLI (/project/bin/remoteproc-runtime) against the
# real remoteproc core of the guest kernel, with the fake_rproc driver.
# Runs inside the guest, from /init. While the CLI does not exist every test
# reports "KTEST skip".
#
# CLI as used here (OCI runtime command line, runc style):
#   remoteproc-runtime [--root DIR] create --bundle B --pid-file F ID
#   remoteproc-runtime [--root DIR] start ID
#   remoteproc-runtime [--root DIR] state ID      (OCI state JSON, "status")
#   remoteproc-runtime [--root DIR] kill ID [SIGNAL]
#   remoteproc-runtime [--root DIR] delete [--force] ID
. /ktest/ktest_lib.sh

RT=${KT_RUNTIME:-/project/bin/remoteproc-runtime}
LC_WORD0=$((0x10001000)) # first word of every good fixture (initial SP)
RTROOT=/run/ktest-rt
RT_TIMEOUT=${KT_RT_TIMEOUT:-120}
FWPATH_PARAM=/sys/module/firmware_class/parameters/path

# clean_slate: a failed test must not leave a container that holds the core
clean_slate() {
	rt list -q || return 0
	for _c in $RT_OUT; do
		rt delete --force "$_c" || true
	done
}

need_cli() {
	[ -x "$RT" ] || {
		echo "runtime CLI $RT not present yet"
		exit 77
	}
	clean_slate
}

# rt ARGS...: run the CLI; sets RT_RC, RT_OUT and RT_ERR (files, not $(),
# so that a process the runtime leaves behind cannot block us); logs timing
rt() {
	_t0=$(now_ms)
	timeout "$RT_TIMEOUT" "$RT" --root "$RTROOT" "$@" >/tmp/rt.out 2>/tmp/rt.err </dev/null
	RT_RC=$?
	RT_OUT=$(cat /tmp/rt.out)
	RT_ERR=$(cat /tmp/rt.err)
	echo "+ remoteproc-runtime $* -> rc=$RT_RC ($(($(now_ms) - _t0)) ms)${RT_ERR:+ stderr: $RT_ERR}"
	return $RT_RC
}

# status ID: the "status" of the OCI state JSON (empty if state fails)
status() {
	rt state "$1" >/dev/null 2>&1 || return 1
	echo "$RT_OUT" | tr -d '\n' | sed -n 's/.*"status"[[:space:]]*:[[:space:]]*"\([a-z]*\)".*/\1/p'
}

expect_status() { # ID WANT
	_st=$(status "$1")
	[ "$_st" = "$2" ] || die "status of $1: expected '$2', got '$_st' (state output: $RT_OUT $RT_ERR)"
}

# wait_for TENTHS CMD...: poll until CMD succeeds
wait_for() {
	_n=$1
	shift
	until "$@"; do
		_n=$((_n - 1))
		[ $_n -gt 0 ] || return 1
		sleep 0.1
	done
}

pid_alive() { [ -n "$1" ] && kill -0 "$1" 2>/dev/null; }
pid_gone() { ! pid_alive "$1"; }
sysfs_state_is() { [ "$(cat "$RP/state")" = "$1" ]; }

# make_bundle DIR [FIRMWARE_SOURCE]: OCI bundle with rootfs/fw.elf (no file
# when FIRMWARE_SOURCE is empty) for the fake core
make_bundle() {
	rm -rf "$1"
	mkdir -p "$1/rootfs"
	[ -n "${2:-}" ] && cp "$2" "$1/rootfs/fw.elf"
	cat >"$1/config.json" <<EOF
{"ociVersion":"1.0.2","process":{"args":["fw.elf"],"cwd":"/"},"root":{"path":"rootfs"},"annotations":{"remoteproc.name":"$KT_NAME"}}
EOF
}

# snapshot of what must be unchanged after a container is gone
baseline() {
	FW_BASE=$(fw_listing)
	KFW_BASE=$(find /tmp/kfw-cli 2>/dev/null | sort)
}

# nothing_left ID: no container, no state dir, no stored firmware, core offline
nothing_left() {
	if rt state "$1" >/dev/null 2>&1; then die "container $1 still exists after delete: $RT_OUT"; fi
	[ ! -e "$RTROOT/containers/$1" ] || die "state dir $RTROOT/containers/$1 left behind: $(ls -la "$RTROOT/containers/$1")"
	_now=$(fw_listing)
	[ "$_now" = "$FW_BASE" ] || die "files left under $KT_FW: $(echo "$_now" | grep -vxF "$FW_BASE" | tr '\n' ' ')"
	_now=$(find /tmp/kfw-cli 2>/dev/null | sort)
	[ "$_now" = "$KFW_BASE" ] || die "files left under /tmp/kfw-cli: $(echo "$_now" | grep -vxF "$KFW_BASE" | tr '\n' ' ')"
	expect_eq "$(cat "$RP/state")" offline "sysfs state after delete"
}

# lifecycle ID BUNDLE [KILL_SIGNAL...]: create/start/kill/delete with checks
lifecycle() {
	_id=$1
	_b=$2
	shift 2
	rt create --bundle "$_b" --pid-file "/tmp/$_id.pid" "$_id" || die "create failed: $RT_ERR"
	expect_status "$_id" created
	expect_eq "$(cat "$RP/state")" offline "sysfs state after create"
	[ -s "/tmp/$_id.pid" ] || die "no pid file after create"
	_pid=$(cat "/tmp/$_id.pid")
	pid_alive "$_pid" || die "pid $_pid from the pid file is not running after create"
	rt start "$_id" || die "start failed: $RT_ERR"
	expect_status "$_id" running
	expect_eq "$(cat "$RP/state")" running "sysfs state after start"
	expect_eq "$(modparam starts)" 1 "driver starts"
	[ "$(modparam last_word0)" = "$LC_WORD0" ] || die "the core runs other code than the bundle's fw.elf (word0 $(modparam last_word0))"
	LC_FW=$(cat "$RP/firmware")
	[ -e "$KT_FW/$LC_FW" ] || [ -e "$(cat "$FWPATH_PARAM")/$LC_FW" ] ||
		die "firmware '$LC_FW' named in sysfs is in no firmware search dir"
	rt kill "$_id" "$@" || die "kill failed: $RT_ERR"
	wait_for 150 pid_gone "$_pid" || die "process $_pid still alive 15 s after kill"
	if [ "${1:-TERM}" = KILL ] || [ "${1:-}" = 9 ]; then
		# SIGKILL only kills the proxy; delete stops the core.
		expect_eq "$(cat "$RP/state")" running "sysfs state after kill -9"
	else
		wait_for 50 sysfs_state_is offline || die "sysfs state $(cat "$RP/state") after kill"
	fi
	expect_status "$_id" stopped
	rt delete "$_id" || die "delete failed: $RT_ERR"
	expect_eq "$(modparam stops)" 1 "driver stops"
	nothing_left "$_id"
}

t_lifecycle() {
	need_cli
	load_mod
	baseline
	make_bundle /tmp/b-life "$KT_FW/fw.elf"
	lifecycle life /tmp/b-life
}

t_lifecycle_sigkill() {
	need_cli
	load_mod
	baseline
	make_bundle /tmp/b-kill "$KT_FW/fw-norsc.elf"
	lifecycle kill9 /tmp/b-kill KILL
}

# A second start must not reach the kernel: on 6.1 it would succeed and
# bump the power refcount, so the single stop done by kill would leave the
# core running.
t_no_second_start() {
	need_cli
	load_mod
	baseline
	make_bundle /tmp/b-twice "$KT_FW/fw.elf"
	rt create --bundle /tmp/b-twice --pid-file /tmp/twice.pid twice || die "create: $RT_ERR"
	rt start twice || die "start: $RT_ERR"
	if rt start twice; then die "second start of a running container succeeded"; fi
	[ -n "$RT_ERR" ] || die "second start failed without a message"
	expect_status twice running
	rt kill twice || die "kill: $RT_ERR"
	wait_for 50 sysfs_state_is offline || die "core still '$(cat "$RP/state")' after kill: the runtime wrote start twice (power refcount)"
	wait_for 150 pid_gone "$(cat /tmp/twice.pid)" || die "process alive after kill"
	rt delete twice || die "delete: $RT_ERR"
	nothing_left twice
}

# must_fail ID BUNDLE WHAT: create+start must fail (exit 1) with a message
# and leave nothing behind. Prints the error as KTEST info, keeps it in MF_ERR.
must_fail() {
	_id=$1
	if rt create --bundle "$2" --pid-file "/tmp/$_id.pid" "$_id"; then
		rt start "$_id" && die "$3: create and start both succeeded"
		_step=start
	else
		_step=create
	fi
	expect_eq "$RT_RC" 1 "exit code of the failing $_step"
	[ -n "$RT_ERR" ] || die "$3: $_step failed without a message"
	MF_ERR=$RT_ERR
	info "$3: $_step fails: $(echo "$RT_ERR" | tail -n 1)"
	expect_eq "$(cat "$RP/state")" offline "sysfs state after failed $_step"
	if [ $_step = start ]; then
		rt delete --force "$_id" || die "delete --force after failed start: $RT_ERR"
	fi
	nothing_left "$_id"
}

t_refuse_not_elf() {
	need_cli
	load_mod
	baseline
	make_bundle /tmp/b-notelf "$KT_FW/notelf.bin"
	must_fail notelf /tmp/b-notelf "not-ELF image"
	expect_eq "$(modparam starts)" 0 "driver starts"
}

t_refuse_truncated() {
	need_cli
	load_mod
	baseline
	make_bundle /tmp/b-trunc "$KT_FW/fw-trunc.elf"
	must_fail trunc /tmp/b-trunc "truncated ELF"
	expect_eq "$(modparam starts)" 0 "driver starts"
}

# The guest's own busybox (static, AArch64: the host's architecture) is a
# Linux program, not firmware: refused at create, before the kernel sees it.
t_refuse_linux_program() {
	need_cli
	load_mod
	baseline
	make_bundle /tmp/b-prog /bin/busybox
	must_fail prog /tmp/b-prog "Linux program (busybox)"
	expect_eq "$_step" create "the step refusing a Linux program"
	echo "$MF_ERR" | grep -qF "is a Linux program (built for AArch64, the host's own architecture" ||
		die "error does not say Linux program: $MF_ERR"
	expect_eq "$(modparam starts)" 0 "driver starts"
}

t_missing_firmware() {
	need_cli
	load_mod
	baseline
	make_bundle /tmp/b-missing ""
	must_fail missing /tmp/b-missing "missing firmware"
}

t_driver_start_error() {
	need_cli
	load_mod start_errno=5
	baseline
	make_bundle /tmp/b-eio "$KT_FW/fw.elf"
	must_fail eio /tmp/b-eio "driver start error (EIO)"
	echo "$MF_ERR" | grep -qiE 'input/output|I/O error|EIO' || die "error does not say EIO: $MF_ERR"
}

t_custom_fw_path() {
	need_cli
	load_mod
	mkdir -p /tmp/kfw-cli
	echo -n /tmp/kfw-cli >"$FWPATH_PARAM"
	baseline
	make_bundle /tmp/b-path "$KT_FW/fw.elf"
	lifecycle path /tmp/b-path
	info "custom firmware path: sysfs firmware was '$LC_FW'; path parameter after delete: '$(cat "$FWPATH_PARAM")'"
	reset_fw_path
}

# crash_start ID BUNDLE: create + start, then crash the core through debugfs
crash_start() {
	rt create --bundle "$2" --pid-file "/tmp/$1.pid" "$1" || die "create: $RT_ERR"
	rt start "$1" || die "start: $RT_ERR"
	CR_PID=$(cat "/tmp/$1.pid")
	echo 1 >"$DBG/crash" || die "crash write"
}

t_crash_no_recovery() {
	need_cli
	load_mod
	baseline
	echo -n disabled >"$RP/recovery"
	make_bundle /tmp/b-crash "$KT_FW/fw.elf"
	crash_start crash /tmp/b-crash
	wait_for 50 sysfs_state_is crashed || info "sysfs state after crash: $(cat "$RP/state")"
	wait_for 300 pid_gone "$CR_PID" || die "process $CR_PID still alive 30 s after the crash"
	expect_status crash stopped
	rt delete crash || die "delete: $RT_ERR"
	nothing_left crash
	echo -n enabled >"$RP/recovery"
}

t_crash_recovery() {
	need_cli
	load_mod
	baseline
	expect_eq "$(cat "$RP/recovery")" enabled "recovery"
	make_bundle /tmp/b-recover "$KT_FW/fw.elf"
	crash_start recover /tmp/b-recover
	restarted() { [ "$(modparam starts)" -ge 2 ]; }
	wait_for 100 restarted || die "kernel did not restart the firmware (starts=$(modparam starts))"
	wait_for 50 sysfs_state_is running || die "sysfs state $(cat "$RP/state") after recovery"
	sleep 2
	pid_alive "$CR_PID" || die "process exited although the kernel recovered the core"
	expect_status recover running
	rt kill recover || die "kill: $RT_ERR"
	wait_for 50 sysfs_state_is offline || die "sysfs state $(cat "$RP/state") after kill"
	wait_for 150 pid_gone "$CR_PID" || die "process alive after kill"
	rt delete recover || die "delete: $RT_ERR"
	nothing_left recover
}

# The kubelet's restart after a crash: the exited container is kept (for
# logs --previous) while the next attempt takes the core over; deleting the
# old one afterwards touches neither the core nor the new firmware. On 6.1
# the crashed core cannot be stopped directly: the runtime recovers it from
# the old firmware (still stored) and then stops it.
t_restart_kept() {
	need_cli
	load_mod
	baseline
	echo -n disabled >"$RP/recovery"
	make_bundle /tmp/b-att0 "$KT_FW/fw.elf"
	crash_start att0 /tmp/b-att0
	wait_for 50 sysfs_state_is crashed || die "sysfs state $(cat "$RP/state") after the crash"
	wait_for 300 pid_gone "$CR_PID" || die "process $CR_PID still alive 30 s after the crash"
	expect_status att0 stopped
	_old=$(cat "$RP/firmware")
	make_bundle /tmp/b-att1 "$KT_FW/fw.elf"
	rt create --bundle /tmp/b-att1 --pid-file /tmp/att1.pid att1 || die "create of the next attempt: $RT_ERR"
	rt start att1 || die "start of the next attempt: $RT_ERR"
	expect_eq "$(cat "$RP/state")" running "sysfs state of the next attempt"
	_new=$(cat "$RP/firmware")
	[ "$_new" != "$_old" ] || die "the core still names the old firmware $_old"
	expect_status att0 stopped
	rt delete att0 || die "delete of the old attempt: $RT_ERR"
	expect_eq "$(cat "$RP/state")" running "sysfs state after the old attempt's delete"
	expect_eq "$(cat "$RP/firmware")" "$_new" "firmware after the old attempt's delete"
	expect_status att1 running
	[ -e "$KT_FW/$_new" ] || die "the next attempt's firmware $_new is gone"
	[ ! -e "$KT_FW/$_old" ] || die "the old attempt's firmware $_old is left"
	rt kill att1 || die "kill: $RT_ERR"
	wait_for 50 sysfs_state_is offline || die "sysfs state $(cat "$RP/state") after kill"
	wait_for 150 pid_gone "$(cat /tmp/att1.pid)" || die "process alive after kill"
	rt delete att1 || die "delete: $RT_ERR"
	nothing_left att1
	echo -n enabled >"$RP/recovery"
}

# A core started by a bootloader: the runtime must not write "start" to it
# blindly (6.1 would accept it silently, bump the refcount, run nothing).
t_attached() {
	need_cli
	load_mod attached=1
	wait_for 30 sysfs_state_is attached || die "fake core not attached"
	baseline
	make_bundle /tmp/b-att "$KT_FW/fw.elf"
	failed=
	if rt create --bundle /tmp/b-att --pid-file /tmp/att.pid att; then
		rt start att || failed=start
	else
		failed=create
	fi
	[ -n "$failed" ] || die "create and start succeeded on an attached core"
	[ -n "$RT_ERR" ] || die "$failed failed without a message"
	info "attached core: $failed fails: $(echo "$RT_ERR" | tail -n 1)"
	expect_eq "$(cat "$RP/state")" attached "sysfs state after refused $failed"
	rt delete --force att >/dev/null 2>&1
	[ ! -e "$RTROOT/containers/att" ] || die "state dir left behind"
	# exactly one stop takes it offline: no power reference was added
	echo -n stop >"$RP/state" || die "stop"
	expect_eq "$(cat "$RP/state")" offline "after one stop (an extra start would have needed two)"
}

# Landlock self-confinement on a real sysfs (the CLI runs with -A here):
# after each verb confined itself, a test-only probe tries to write files.
# Outside the verb's rules the kernel answers EACCES; create may write in
# its state root, state may write nowhere.
probe_says() { # PATH OUTCOME
	case $RT_ERR in
	*"remoteproc-runtime: test: write $1: $2"*) ;;
	*) die "probe of $1: expected $2, stderr: $RT_ERR" ;;
	esac
}

t_landlock() {
	need_cli
	load_mod
	baseline
	make_bundle /tmp/b-ll "$KT_FW/fw.elf"
	mkdir -p "$RTROOT"
	export REMOTEPROC_RUNTIME_TEST_WRITE_PROBE="/tmp/ll-probe:$RTROOT/ll-probe:/lib/firmware/ll-probe"
	rt create --bundle /tmp/b-ll ll
	_rc=$RT_RC
	case $RT_ERR in
	*"landlock unavailable"*)
		unset REMOTEPROC_RUNTIME_TEST_WRITE_PROBE
		rt delete --force ll
		info "landlock unavailable in the guest: $(echo "$RT_ERR" | head -n 1)"
		echo "landlock unavailable on this kernel"
		exit 77
		;;
	esac
	[ "$_rc" = 0 ] || die "create failed: $RT_ERR"
	probe_says /tmp/ll-probe EACCES
	probe_says "$RTROOT/ll-probe" ok
	probe_says /lib/firmware/ll-probe EACCES
	rt state ll || die "state failed: $RT_ERR"
	probe_says /tmp/ll-probe EACCES
	probe_says "$RTROOT/ll-probe" EACCES
	rt start ll || die "start failed: $RT_ERR"
	probe_says /tmp/ll-probe EACCES
	probe_says /lib/firmware/ll-probe ok
	expect_eq "$(cat "$RP/state")" running "sysfs state after a confined start"
	unset REMOTEPROC_RUNTIME_TEST_WRITE_PROBE
	rt delete --force ll || die "delete failed: $RT_ERR"
	nothing_left ll
}

run_test cli_landlock t_landlock
run_test cli_lifecycle t_lifecycle
run_test cli_lifecycle_sigkill t_lifecycle_sigkill
run_test cli_no_second_start t_no_second_start
run_test cli_refuse_not_elf t_refuse_not_elf
run_test cli_refuse_truncated_elf t_refuse_truncated
run_test cli_refuse_linux_program t_refuse_linux_program
run_test cli_missing_firmware t_missing_firmware
run_test cli_driver_start_error t_driver_start_error
run_test cli_custom_firmware_path t_custom_fw_path
run_test cli_crash_no_recovery t_crash_no_recovery
run_test cli_crash_recovery t_crash_recovery
run_test cli_restart_while_kept t_restart_kept
run_test cli_attached_core t_attached
(unload_mod) || echo "KTEST fail cli_unload: fake_rproc could not be unloaded at the end"
run_test cli_kernel_log_clean t_kernel_clean
