#!/usr/bin/env bash
# Kernel test tier: boots Debian 12's arm64 kernel under QEMU (TCG) with a
# test-only fake remoteproc driver and runs the guest tests.
#
#   bash tests/kernel/run.sh
#
# Everything is built from Debian packages and the npm registry into
# tests/kernel/.build (override with KTEST_BUILD_DIR) and reused on the next
# run. The last line printed is "N passed, N failed, N skipped"; the exit
# status is non-zero on any failure, on a boot that never reaches
# "KTEST done" (timeout KTEST_TIMEOUT seconds, default 900) or on a build
# error.
#
# Environment:
#   KTEST_KERNEL_ABI=6.1.0-57  KTEST_KERNEL_VERSION=6.1.192-3  pin the kernel
#                              (default: newest 6.1 whose image, headers and
#                              linux-kbuild-6.1 are all available at one version)
#   KTEST_CPU=cortex-a72       QEMU -cpu (or "max,pauth-impdef=on")
#   KTEST_MEM=2048 KTEST_SMP=2
#   KTEST_TIMEOUT=900
#   KTEST_ONLY=smoke|cli       run only one of the guest scripts
#   KTEST_MOCK_RUNTIME=1       run the CLI tests against mock_runtime.sh
#   KTEST_SCRIPTS="a.sh b.sh"  run these scripts in the guest instead (debugging)
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
BUILD=${KTEST_BUILD_DIR:-$HERE/.build}
TIMEOUT=${KTEST_TIMEOUT:-900}
CPU=${KTEST_CPU:-cortex-a72}
MEM=${KTEST_MEM:-2048}
SMP=${KTEST_SMP:-2}
T_START=$(date +%s)

log() { printf '[ktest %4ss] %s\n' "$(($(date +%s) - T_START))" "$*" >&2; }
fatal() {
	log "ERROR: $*"
	echo "0 passed, 1 failed"
	exit 1
}

mkdir -p "$BUILD"
BUILD=$(cd "$BUILD" && pwd)

# ---------------------------------------------------------------- host tools
APT_UPDATED=
apt_update_once() {
	if [ -z "$APT_UPDATED" ]; then
		log "apt-get update"
		apt-get update -qq >"$BUILD/apt-update.log" 2>&1 || fatal "apt-get update failed (see $BUILD/apt-update.log)"
		APT_UPDATED=1
	fi
}

ensure_host_packages() {
	local missing=() p
	for p in qemu-system-arm gcc-aarch64-linux-gnu cpio make; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
	done
	if [ ${#missing[@]} -gt 0 ]; then
		apt_update_once
		log "apt-get install ${missing[*]}"
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" \
			>"$BUILD/apt-install.log" 2>&1 || fatal "apt-get install failed (see $BUILD/apt-install.log)"
	fi
}

ensure_arm64_arch() {
	if ! dpkg --print-foreign-architectures | grep -qx arm64; then
		log "dpkg --add-architecture arm64"
		dpkg --add-architecture arm64
		APT_UPDATED=
		apt_update_once
	elif ! apt-cache show busybox-static:arm64 >/dev/null 2>&1; then
		apt_update_once
	fi
}

# download PKG=VER... into $BUILD/debs (apt-get download, cached)
download() {
	mkdir -p "$BUILD/debs"
	(cd "$BUILD/debs" && apt-get download -qq "$@" >/dev/null 2>"$BUILD/debs/download.err")
}
deb_of() { # NAME VERSION ARCH -> path of the downloaded .deb
	local v=${2//:/%3a}
	ls "$BUILD/debs/${1}_${v}_${3}.deb" 2>/dev/null | head -n 1
}

madison_versions() { apt-cache madison "$1" 2>/dev/null | awk -F'|' '{gsub(/ /,"",$2); print $2}' | sort -u; }

# prints "ABI VERSION IMAGE_PACKAGE" of the newest usable 6.1 kernel
pick_kernel() {
	local v abi img kb_versions abis
	kb_versions=$(madison_versions linux-kbuild-6.1:amd64 | sort -rV)
	abis=$(apt-cache pkgnames linux-headers-6.1.0- | sed -nE 's/^linux-headers-(6\.1\.0-[0-9]+)-arm64$/\1/p' | sort -rV)
	for v in $kb_versions; do
		for abi in $abis; do
			madison_versions "linux-headers-$abi-arm64:arm64" | grep -qx "$v" || continue
			madison_versions "linux-headers-$abi-common" | grep -qx "$v" || continue
			for img in "linux-image-$abi-arm64-unsigned" "linux-image-$abi-arm64"; do
				if madison_versions "$img:arm64" | grep -qx "$v"; then
					echo "$abi $v $img"
					return 0
				fi
			done
		done
	done
	return 1
}

# ------------------------------------------------------------------ kernel
prepare_kernel() {
	local env="$BUILD/kernel.env"
	if [ -n "${KTEST_KERNEL_ABI:-}" ] && [ -f "$env" ] && ! grep -q "^ABI=$KTEST_KERNEL_ABI$" "$env"; then
		rm -f "$env"
	fi
	if [ -f "$env" ]; then
		# shellcheck disable=SC1090
		. "$env"
		KDIR=$BUILD/kernel-$ABI
		if [ -f "$KDIR/Image" ] && [ -f "$KDIR/.extracted" ]; then
			log "kernel $ABI ($KVER) cached"
			return 0
		fi
	fi
	ensure_arm64_arch
	local img
	if [ -n "${KTEST_KERNEL_ABI:-}" ]; then
		ABI=$KTEST_KERNEL_ABI
		KVER=${KTEST_KERNEL_VERSION:?set KTEST_KERNEL_VERSION with KTEST_KERNEL_ABI}
		img=linux-image-$ABI-arm64-unsigned
		madison_versions "$img:arm64" | grep -qx "$KVER" || img=linux-image-$ABI-arm64
	else
		read -r ABI KVER img < <(pick_kernel) || fatal "no Debian 6.1 arm64 kernel with matching headers and linux-kbuild-6.1 found"
	fi
	log "kernel: $img $KVER (headers linux-headers-$ABI-arm64, linux-kbuild-6.1 $KVER)"
	if ! download "$img:arm64=$KVER" "linux-headers-$ABI-arm64:arm64=$KVER" \
		"linux-headers-$ABI-common=$KVER" "linux-kbuild-6.1:amd64=$KVER"; then
		# stale package lists: the security archive keeps only recent builds
		if [ -n "$APT_UPDATED" ] || [ -n "${KTEST_KERNEL_ABI:-}" ]; then
			fatal "apt-get download failed: $(tail -n 3 "$BUILD/debs/download.err")"
		fi
		apt_update_once
		read -r ABI KVER img < <(pick_kernel) || fatal "no usable Debian 6.1 arm64 kernel"
		log "kernel after apt-get update: $img $KVER"
		download "$img:arm64=$KVER" "linux-headers-$ABI-arm64:arm64=$KVER" \
			"linux-headers-$ABI-common=$KVER" "linux-kbuild-6.1:amd64=$KVER" ||
			fatal "apt-get download failed: $(tail -n 3 "$BUILD/debs/download.err")"
	fi
	KDIR=$BUILD/kernel-$ABI
	rm -rf "$KDIR"
	mkdir -p "$KDIR/x"
	local d
	for d in "$(deb_of "$img" "$KVER" arm64)" "$(deb_of "linux-headers-$ABI-arm64" "$KVER" arm64)" \
		"$(deb_of "linux-headers-$ABI-common" "$KVER" all)" "$(deb_of linux-kbuild-6.1 "$KVER" amd64)"; do
		[ -n "$d" ] || fatal "downloaded .deb not found for kernel $ABI"
		dpkg -x "$d" "$KDIR/x"
	done
	cp "$KDIR/x/boot/vmlinuz-$ABI-arm64" "$KDIR/Image"
	# the image's own modules and dtbs are not needed (saves ~400 MB)
	rm -rf "$KDIR/x/lib/modules" "$KDIR/x/usr/lib/linux-image-$ABI-arm64" "$BUILD"/debs/linux-image-*.deb
	touch "$KDIR/.extracted"
	printf 'ABI=%s\nKVER=%s\n' "$ABI" "$KVER" >"$env"
}

build_module() {
	local m="$BUILD/mod-$ABI"
	mkdir -p "$m"
	# The headers' Makefile includes an absolute /usr/src path; point it at
	# the extracted tree (its scripts/ symlinks are relative and resolve).
	# Done on every run, so a moved build dir still works.
	sed -i "s#^include .*/usr/src/#include $KDIR/x/usr/src/#" "$KDIR/x/usr/src/linux-headers-$ABI-arm64/Makefile"
	cmp -s "$HERE/fake_rproc.c" "$m/fake_rproc.c" || cp "$HERE/fake_rproc.c" "$m/fake_rproc.c"
	echo 'obj-m := fake_rproc.o' >"$m/Kbuild.new"
	cmp -s "$m/Kbuild.new" "$m/Kbuild" || mv "$m/Kbuild.new" "$m/Kbuild"
	rm -f "$m/Kbuild.new"
	make -s -C "$KDIR/x/usr/src/linux-headers-$ABI-arm64" M="$m" ARCH=arm64 \
		CROSS_COMPILE=aarch64-linux-gnu- modules >"$m/build.log" 2>&1 ||
		fatal "module build failed: $(tail -n 20 "$m/build.log")"
	grep -aq "vermagic=$ABI-arm64 " "$m/fake_rproc.ko" || fatal "fake_rproc.ko vermagic does not match $ABI-arm64"
	MODULE=$m/fake_rproc.ko
}

# ------------------------------------------------------------ guest base
host_deno() {
	if [ ! -x "$ROOT/node_modules/.bin/deno" ]; then
		log "npm install (host deno)"
		(cd "$ROOT" && npm install --no-audit --no-fund >"$BUILD/npm-install.log" 2>&1) || fatal "npm install failed"
	fi
	DENO=$ROOT/node_modules/.bin/deno
}

# base.cpio: busybox, glibc and Deno for arm64 (cached per Deno version)
build_base() {
	local dver stamp
	# the version pinned by the "deno" devDependency in package.json
	dver=$(sed -n 's/^[[:space:]]*"deno":[[:space:]]*"\([^"]*\)".*/\1/p' "$ROOT/package.json" | head -n 1)
	[ -n "$dver" ] || fatal "no deno version in package.json"
	stamp="deno=$dver v3"
	if [ -f "$BUILD/base.cpio" ] && [ "$(cat "$BUILD/base.stamp" 2>/dev/null)" = "$stamp" ]; then
		log "guest base (busybox, glibc, deno $dver) cached"
		return 0
	fi
	ensure_arm64_arch
	log "guest base: busybox-static, bash-static, libc6, libgcc-s1 (arm64), @deno/linux-arm64-glibc@$dver"
	rm -rf "$BUILD/base" "$BUILD/base-debs"
	mkdir -p "$BUILD/base-debs" "$BUILD/base/x"
	local pkgs="busybox-static:arm64 bash-static:arm64 libc6:arm64 libgcc-s1:arm64"
	# shellcheck disable=SC2086
	(cd "$BUILD/base-debs" && apt-get download -qq $pkgs >/dev/null 2>download.err) || {
		apt_update_once
		(cd "$BUILD/base-debs" && apt-get download -qq $pkgs >/dev/null 2>download.err) ||
			fatal "apt-get download $pkgs failed: $(tail -n 3 "$BUILD/base-debs/download.err")"
	}
	local d
	for d in "$BUILD"/base-debs/*.deb; do dpkg -x "$d" "$BUILD/base/x"; done
	(cd "$BUILD/base-debs" && npm pack --silent "@deno/linux-arm64-glibc@$dver" >/dev/null 2>npm.err) ||
		fatal "npm pack @deno/linux-arm64-glibc@$dver failed: $(tail -n 3 "$BUILD/base-debs/npm.err")"
	tar -C "$BUILD/base" -xzf "$BUILD"/base-debs/deno-linux-arm64-glibc-*.tgz

	local r="$BUILD/base/root"
	mkdir -p "$r"/{bin,sbin,usr/bin,usr/sbin,lib/aarch64-linux-gnu,lib/firmware,lib/modules,proc,sys,dev,run,tmp,root,etc}
	cp "$BUILD/base/x/bin/busybox" "$r/bin/busybox"
	ln -s busybox "$r/bin/sh"
	# bash too, in case the runtime's launcher is a bash script
	cp "$BUILD/base/x/bin/bash-static" "$r/bin/bash"
	local lib
	for lib in ld-linux-aarch64.so.1 libc.so.6 libm.so.6 libdl.so.2 libpthread.so.0 librt.so.1 libgcc_s.so.1; do
		cp -L "$BUILD/base/x/lib/aarch64-linux-gnu/$lib" "$r/lib/aarch64-linux-gnu/$lib"
	done
	ln -s aarch64-linux-gnu/ld-linux-aarch64.so.1 "$r/lib/ld-linux-aarch64.so.1"
	cp "$BUILD/base/package/deno" "$r/usr/bin/deno"
	chmod 755 "$r/usr/bin/deno" "$r/bin/busybox"
	echo 'root:x:0:0:root:/root:/bin/sh' >"$r/etc/passwd"
	echo 'root:x:0:' >"$r/etc/group"
	printf '127.0.0.1 localhost\n::1 localhost\n' >"$r/etc/hosts"
	(cd "$r" && find . | LC_ALL=C sort | cpio -o -H newc --quiet -R 0:0 >"$BUILD/base.cpio.tmp")
	mv "$BUILD/base.cpio.tmp" "$BUILD/base.cpio"
	echo "$stamp" >"$BUILD/base.stamp"
	rm -rf "$BUILD/base"
}

# overlay.cpio: /init, the tests, the module, fixtures and the project
# sources (rebuilt on every run, it is small)
build_overlay() {
	local o="$BUILD/overlay"
	rm -rf "$o"
	mkdir -p "$o/ktest" "$o/lib/firmware" "$o/lib/modules" "$o/project"
	cp "$HERE/init.sh" "$o/init"
	chmod 755 "$o/init"
	cp "$HERE/ktest_lib.sh" "$o/ktest/"
	# scripts run by /init, in order (KTEST_SCRIPTS: other files, for debugging)
	local scripts=${KTEST_SCRIPTS:-}
	if [ -z "$scripts" ]; then
		case "${KTEST_ONLY:-}" in
		smoke) scripts="$HERE/smoke_test.sh" ;;
		cli) scripts="$HERE/guest_test.sh" ;;
		*) scripts="$HERE/smoke_test.sh $HERE/guest_test.sh" ;;
		esac
	fi
	local s
	for s in $scripts; do
		cp "$s" "$o/ktest/"
		basename "$s" >>"$o/ktest/scripts"
	done
	if [ -n "${KTEST_MOCK_RUNTIME:-}" ]; then
		cp "$HERE/mock_runtime.sh" "$o/ktest/"
		echo "export KT_RUNTIME=/ktest/mock_runtime.sh" >>"$o/ktest/env"
	fi
	cp "$MODULE" "$o/lib/modules/fake_rproc.ko"
	"$DENO" run --quiet --allow-write="$o" "$HERE/make_fixtures.ts" "$o/lib/firmware" ||
		fatal "fixture generation failed"
	cp "$o/lib/firmware/"* "$o/ktest/"
	# project: the work tree minus .git, node_modules and build outputs;
	# node_modules gets the pure-JS deps and the arm64 deno
	tar -C "$ROOT" --exclude=./.git --exclude=./node_modules --exclude=./tests/kernel/.build \
		--exclude=./.cache --exclude=./.tmp --exclude=./dist -cf - . | tar -C "$o/project" -xf -
	# the bundle (deno task bundle), as the launcher on a board would run it;
	# cp -p keeps the mtimes its freshness check compares
	if [ -f "$ROOT/dist/js/cli.js" ]; then
		mkdir -p "$o/project/dist"
		cp -rp "$ROOT/dist/js" "$o/project/dist/js"
	fi
	mkdir -p "$o/project/node_modules/@logtape" "$o/project/node_modules/deno" "$o/project/node_modules/.bin"
	[ -d "$ROOT/node_modules/zod" ] && cp -r "$ROOT/node_modules/zod" "$o/project/node_modules/"
	[ -d "$ROOT/node_modules/@logtape/logtape" ] && cp -r "$ROOT/node_modules/@logtape/logtape" "$o/project/node_modules/@logtape/"
	ln -s /usr/bin/deno "$o/project/node_modules/deno/deno"
	ln -s ../deno/deno "$o/project/node_modules/.bin/deno"
	(cd "$o" && find . | LC_ALL=C sort | cpio -o -H newc --quiet -R 0:0 >"$BUILD/overlay.cpio")
	cat "$BUILD/base.cpio" "$BUILD/overlay.cpio" >"$BUILD/initrd.cpio"
}

# -------------------------------------------------------------------- boot
boot() {
	local console="$BUILD/console.log" rc=0
	log "booting $ABI under qemu-system-aarch64 -M virt -cpu $CPU (TCG), timeout ${TIMEOUT}s"
	local t0
	t0=$(date +%s)
	# -nic none: the default NIC (virtio-net-pci) needs efi-virtio.rom from
	# ipxe-qemu, a Recommends of qemu-system-arm that --no-install-recommends
	# leaves out; the guest needs no network.
	timeout --kill-after=10 "$TIMEOUT" qemu-system-aarch64 -M virt -cpu "$CPU" -accel tcg,thread=multi \
		-smp "$SMP" -m "$MEM" -nic none -display none -monitor none -serial stdio -no-reboot \
		-kernel "$KDIR/Image" -initrd "$BUILD/initrd.cpio" \
		-append "console=ttyAMA0 rdinit=/init panic=-1 loglevel=4 quiet" \
		</dev/null 2>"$BUILD/qemu.err" | tr -d '\r' | tee "$console" || rc=$?
	BOOT_SECS=$(($(date +%s) - t0))
	[ "$rc" -eq 0 ] || log "qemu exited with status $rc ($( [ "$rc" -eq 124 ] && echo timeout))"
	[ -s "$BUILD/qemu.err" ] && log "qemu stderr: $(tail -n 3 "$BUILD/qemu.err")"
	return 0
}

report() {
	local console="$BUILD/console.log" pass fail skip ndone
	pass=$(grep -c '^KTEST ok ' "$console" || true)
	fail=$(grep -c '^KTEST fail ' "$console" || true)
	skip=$(grep -c '^KTEST skip ' "$console" || true)
	ndone=$(grep -c '^KTEST done' "$console" || true)
	echo
	echo "== kernel tier: $ABI ($KVER), cpu $CPU, boot-to-done ${BOOT_SECS}s, total $(($(date +%s) - T_START))s"
	grep '^KTEST info ' "$console" | sed 's/^KTEST info /   info: /' || true
	grep '^KTEST skip ' "$console" | sed 's/^KTEST skip /   skipped: /' || true
	grep '^KTEST fail ' "$console" | sed 's/^KTEST fail /   FAILED: /' || true
	if [ "$ndone" -eq 0 ]; then
		echo "   FAILED: guest never printed 'KTEST done' (timeout, panic or crash; see $console)"
		fail=$((fail + 1))
	fi
	if [ "$pass" -eq 0 ] && [ "$fail" -eq 0 ]; then
		fail=1
	fi
	echo "$pass passed, $fail failed, $skip skipped"
	[ "$fail" -eq 0 ]
}

ensure_host_packages
host_deno
prepare_kernel
build_module
build_base
build_overlay
log "build done"
boot
report
