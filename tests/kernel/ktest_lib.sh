# Shared helpers for the guest test scripts (busybox sh). Sourced, not run.
#
# Result protocol on the serial console, one line each, parsed by run.sh:
#   KTEST ok <name>
#   KTEST fail <name>: <why>
#   KTEST skip <name>: <why>
#   KTEST info <text>          (measurements, observed kernel behaviour)
#   KTEST done                 (printed by /init after all scripts)

KT_DIR=${KT_DIR:-/ktest}
KT_MOD=${KT_MOD:-/lib/modules/fake_rproc.ko}
KT_FW=/lib/firmware
KT_NAME=${KT_NAME:-ktest-m4}
KT_DRV=${KT_DRV:-ktest-rproc-drv}

# RP is the sysfs dir of the current fake core, DBG its debugfs dir.
RP=
DBG=

info() { echo "KTEST info $*"; }

# die MESSAGE: fail the current test (tests run in a subshell).
die() {
	echo "$*" >&2
	exit 1
}

# uptime in milliseconds (busybox date has no %N everywhere)
now_ms() {
	awk '{ printf "%d\n", $1 * 1000 }' /proc/uptime
}

# run_test NAME FUNCTION [ARGS...]: runs FUNCTION in a subshell, prints the
# KTEST line. The last lines of the test's output become the failure reason.
run_test() {
	_name=$1
	shift
	_log=/tmp/ktest-$_name.log
	_t0=$(now_ms)
	("$@") >"$_log" 2>&1
	_rc=$?
	_t1=$(now_ms)
	if [ $_rc -eq 0 ]; then
		echo "KTEST ok $_name ($((_t1 - _t0)) ms)"
	elif [ $_rc -eq 77 ]; then
		echo "KTEST skip $_name: $(tail -n 1 "$_log")"
	else
		echo "--- output of $_name"
		tail -n 25 "$_log"
		echo "--- dmesg tail"
		dmesg | tail -n 12
		echo "---"
		echo "KTEST fail $_name: $(tail -n 1 "$_log" | tr -d '\r')"
	fi
	# info lines a test printed on stdout are forwarded
	grep '^KTEST info ' "$_log"
	return 0
}

# find_rproc NAME: prints the /sys/class/remoteproc/remoteprocN dir whose
# name is NAME
find_rproc() {
	for d in /sys/class/remoteproc/remoteproc*; do
		[ -e "$d/name" ] || continue
		if [ "$(cat "$d/name")" = "$1" ]; then
			echo "$d"
			return 0
		fi
	done
	return 1
}

# unload the fake driver. Note: on 6.1 a powered core holds no reference on
# its driver module, so rmmod succeeds even while the core runs; stop it
# first (a leaked power refcount needs several stops).
unload_mod() {
	if grep -q '^fake_rproc ' /proc/modules; then
		if [ -n "$RP" ] && [ -e "$RP/state" ]; then
			_n=0
			while [ $_n -lt 4 ]; do
				case "$(cat "$RP/state")" in running | attached | crashed) echo -n stop >"$RP/state" 2>/dev/null ;; *) break ;; esac
				_n=$((_n + 1))
			done
		fi
		rmmod fake_rproc || die "rmmod fake_rproc failed"
	fi
}

# load_mod [PARAM=VALUE...]: (re)load the fake driver, set RP and DBG
load_mod() {
	unload_mod
	reset_fw_path
	insmod "$KT_MOD" name="$KT_NAME" drv_name="$KT_DRV" "$@" || die "insmod $* failed"
	i=0
	while ! RP=$(find_rproc "$KT_NAME"); do
		i=$((i + 1))
		[ $i -lt 50 ] || die "no remoteproc named $KT_NAME after insmod"
		sleep 0.1
	done
	DBG=/sys/kernel/debug/remoteproc/$(basename "$RP")
	export RP DBG
}

# wait_state WANT [TENTHS]: wait until $RP/state reads WANT
wait_state() {
	_n=${2:-50}
	while [ "$(cat "$RP/state")" != "$1" ]; do
		_n=$((_n - 1))
		[ $_n -gt 0 ] || return 1
		sleep 0.1
	done
	return 0
}

expect_eq() { # ACTUAL EXPECTED WHAT
	[ "$1" = "$2" ] || die "$3: expected '$2', got '$1'"
}

# sysfs_write FILE VALUE: write VALUE (no newline) and print the error text
# of the shell on failure; returns the write status
sysfs_write() {
	_err=$( (echo -n "$2" >"$1") 2>&1)
	_rc=$?
	[ -n "$_err" ] && echo "$_err"
	return $_rc
}

# list of files under /lib/firmware (to check that nothing is left behind)
fw_listing() {
	find "$KT_FW" 2>/dev/null | sort
}

# clear firmware_class.path. A zero-length write never reaches the kernel,
# so write "\n": 6.1 keeps it, the path is then "\n", which matches no
# directory, and the loader goes on with the default dirs.
reset_fw_path() {
	echo >/sys/module/firmware_class/parameters/path
}

modparam() { cat "/sys/module/fake_rproc/parameters/$1"; }

# kernel_clean NAME: a test that fails if the kernel logged a warning, BUG or
# oops (e.g. from the remoteproc core or fake_rproc) since boot
t_kernel_clean() {
	_bad=$(dmesg | grep -E 'WARNING:|BUG:|Oops|Unable to handle|Call trace:|refcount_t' | head -n 5)
	[ -z "$_bad" ] || die "kernel log: $(echo "$_bad" | tr '\n' ' ')"
}
