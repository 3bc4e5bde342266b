#!/bin/sh
# A deliberately small stand-in for the runtime CLI, in busybox sh, used only
# to self-test guest_test.sh (KTEST_MOCK_RUNTIME=1 bash tests/kernel/run.sh).
# It shows the behaviour the CLI tests expect; it is not the runtime.
ROOT=/run/remoteproc-runtime
if [ "$1" = --root ]; then ROOT=$2; shift 2; fi
cmd=$1
shift
err() { echo "$*" >&2; exit 1; }
find_rp() {
	for d in /sys/class/remoteproc/remoteproc*; do
		[ "$(cat "$d/name" 2>/dev/null)" = "$1" ] && echo "$d" && return 0
	done
	return 1
}
# write VALUE FILE: sysfs write, error text of the kernel on failure
write() {
	e=$( (echo -n "$1" >"$2") 2>&1) && return 0
	echo "${e#*write error: }"
	return 1
}
fwdir() {
	p=$(cat /sys/module/firmware_class/parameters/path)
	if [ -n "$p" ]; then echo "$p"; else echo /lib/firmware; fi
}
load() {
	d=$ROOT/containers/$1
	[ -d "$d" ] || err "container does not exist"
	rp=$(cat "$d/rp")
	pid=$(cat "$d/pid")
}
status_of() {
	st=$(cat "$d/status")
	if [ "$st" = running ] && ! kill -0 "$pid" 2>/dev/null; then st=stopped; fi
	echo "$st"
}
stop_core() {
	n=0
	while [ $n -lt 3 ]; do
		case "$(cat "$rp/state")" in running | crashed) write stop "$rp/state" >/dev/null ;; *) return 0 ;; esac
		n=$((n + 1))
	done
}
case $cmd in
create)
	while [ $# -gt 1 ]; do
		case $1 in
		--bundle) bundle=$2; shift 2 ;;
		--pid-file) pidf=$2; shift 2 ;;
		*) break ;;
		esac
	done
	id=$1
	d=$ROOT/containers/$id
	[ -e "$d" ] && err "container with given ID already exists"
	name=$(sed -n 's/.*"remoteproc.name":"\([^"]*\)".*/\1/p' "$bundle/config.json")
	rp=$(find_rp "$name") || err "no remote processor named $name"
	st=$(cat "$rp/state")
	[ "$st" = offline ] || err "remote processor $name is $st: refusing to take it over"
	fw=$bundle/rootfs/fw.elf
	[ -f "$fw" ] || err "firmware fw.elf not found in the bundle rootfs"
	[ "$(head -c 4 "$fw" | tail -c 3)" = ELF ] || err "fw.elf is not an ELF image"
	mkdir -p "$d"
	echo "$rp" >"$d/rp"
	echo created >"$d/status"
	echo "$bundle" >"$d/bundle"
	# the proxy: waits for start, then lives as long as the core runs
	setsid sh -c '
		d=$1; rp=$2
		trap "exit 0" TERM INT
		while [ ! -e "$d/started" ]; do sleep 0.2; done
		while :; do
			case "$(cat "$rp/state")" in
			offline) exit 0 ;;
			crashed) [ "$(cat "$rp/recovery")" = disabled ] && exit 0 ;;
			esac
			sleep 0.2
		done' proxy "$d" "$rp" </dev/null >/dev/null 2>&1 &
	echo $! >"$d/pid"
	[ -n "$pidf" ] && echo $! >"$pidf"
	;;
start)
	load "$1"
	[ "$(status_of)" = created ] && [ ! -e "$d/started" ] || err "cannot start a container that is $(status_of)"
	stored=ktest-mock-$1.elf
	dir=$(fwdir)
	cp "$(cat "$d/bundle")/rootfs/fw.elf" "$dir/$stored"
	echo "$dir/$stored" >"$d/stored"
	write "$stored" "$rp/firmware" >/dev/null || err "cannot set firmware"
	if ! e=$(write start "$rp/state"); then
		echo stopped >"$d/status"
		touch "$d/started"
		rm -f "$dir/$stored"
		err "cannot start remote processor: $e"
	fi
	echo running >"$d/status"
	touch "$d/started"
	;;
state)
	load "$1"
	printf '{"ociVersion":"1.0.2","id":"%s","status":"%s","pid":%s,"bundle":"%s"}\n' "$1" "$(status_of)" "$pid" "$(cat "$d/bundle")"
	;;
kill)
	load "$1"
	[ "$(status_of)" = running ] || err "container not running"
	stop_core
	kill -"${2:-TERM}" "$pid" 2>/dev/null
	echo stopped >"$d/status"
	;;
delete)
	force=
	[ "$1" = --force ] && force=1 && shift
	load "$1"
	st=$(status_of)
	[ "$st" = running ] && [ -z "$force" ] && err "cannot delete container that is not stopped"
	[ -e "$d/started" ] && stop_core
	kill -KILL "$pid" 2>/dev/null
	[ -e "$d/stored" ] && rm -f "$(cat "$d/stored")"
	rm -rf "$d"
	;;
*) err "unknown command $cmd" ;;
esac
