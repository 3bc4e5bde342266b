#!/bin/sh
# Installs a remoteproc-runtime binary and, on request, registers it with
# engines. Idempotent; every file it changes is backed up as FILE.bak.
#
#   install.sh [--prefix DIR] [--podman] [--docker] [--containerd] [--k3s] BINARY
#
# --prefix DIR   install to DIR/bin (default /usr/local)
# --root DIR     resolve /etc and the prefix under DIR (for tests and images)
# --podman       /etc/containers/containers.conf.d/50-remoteproc-runtime.conf
# --docker       /etc/docker/daemon.json: runtimes.remoteproc
# --containerd   /etc/containerd/config.toml: CRI runtime handler "remoteproc" (runc
#                shim + BinaryName, pod and container annotations remoteproc.*)
# --k3s          /var/lib/rancher/k3s/agent/etc/containerd/config.toml.tmpl, likewise
#                (a new template starts from k3s's own: {{ template "base" . }})
#
# --containerd, --k3s and --docker also install PREFIX/bin/containerd-shim-remoteproc-v1:
# containerd's runtime name io.containerd.remoteproc.v1 (the Go
# remoteproc-runtime's) then reaches this runtime. It is a launcher for
# containerd's stock runc shim with PREFIX/libexec/remoteproc-runtime/runc, a
# link to the runtime, first in its PATH.
set -eu
prefix=/usr/local
root=
podman= docker= containerd= k3s=
binary=
while [ $# -gt 0 ]; do
  case $1 in
    --prefix) prefix=$2; shift 2 ;;
    --prefix=*) prefix=${1#*=}; shift ;;
    --root) root=$2; shift 2 ;;
    --root=*) root=${1#*=}; shift ;;
    --podman) podman=1; shift ;;
    --docker) docker=1; shift ;;
    --containerd) containerd=1; shift ;;
    --k3s) k3s=1; shift ;;
    -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
    -*) echo "install.sh: unknown option $1" >&2; exit 1 ;;
    *) binary=$1; shift ;;
  esac
done
if [ -z "$binary" ] || [ ! -f "$binary" ]; then
  echo "install.sh: give the remoteproc-runtime binary to install (see --help)" >&2
  exit 1
fi
target="$prefix/bin/remoteproc-runtime"
mkdir -p "$root$prefix/bin"
if ! cmp -s "$binary" "$root$target" 2>/dev/null; then
  [ -f "$root$target" ] && cp -p "$root$target" "$root$target.bak"
  cp "$binary" "$root$target.new"
  chmod 0755 "$root$target.new"
  mv "$root$target.new" "$root$target"
  echo "installed $root$target"
else
  echo "$root$target: already installed"
fi
# The shim for io.containerd.remoteproc.v1: a launcher for containerd's runc
# shim, not a shim of its own.
install_shim() {
  shim="$prefix/bin/containerd-shim-remoteproc-v1"
  mkdir -p "$root$prefix/libexec/remoteproc-runtime"
  ln -sfn ../../bin/remoteproc-runtime "$root$prefix/libexec/remoteproc-runtime/runc"
  cat >"$root$shim.new" <<'EOF'
#!/bin/sh
# containerd runtime io.containerd.remoteproc.v1: containerd's stock runc
# shim, with remoteproc-runtime as its runc (../libexec/remoteproc-runtime/runc
# first in its PATH). Written by remoteproc-runtime's install.sh.
self=$0
while [ -L "$self" ]; do
  link=$(readlink "$self")
  case $link in /*) self=$link ;; *) self=${self%/*}/$link ;; esac
done
case $self in */*) bin=${self%/*} ;; *) bin=. ;; esac
# containerd starts the shim in the bundle directory, and the shim starts
# itself again: the PATH entry must be absolute.
dir=$(cd "$bin/../libexec/remoteproc-runtime" && pwd -P) || exit 1
if ! shim=$(command -v containerd-shim-runc-v2); then
  echo "containerd-shim-remoteproc-v1: containerd-shim-runc-v2 (containerd's runc shim) is not in PATH ($PATH)" >&2
  exit 1
fi
PATH=$dir:$PATH
export PATH
exec "$shim" "$@"
EOF
  chmod 0755 "$root$shim.new"
  if cmp -s "$root$shim.new" "$root$shim"; then
    rm -f "$root$shim.new"
    echo "$root$shim: already installed"
  else
    mv "$root$shim.new" "$root$shim"
    echo "installed $root$shim"
  fi
}
configure() { # engine file
  mkdir -p "$(dirname "$2")"
  # Engine files are the host's: no sysroot (whose permission set would
  # allow writes under it only).
  REMOTEPROC_RUNTIME_SYSROOT= "$root$target" __configure "$1" "$2" "$target"
}
if [ -n "$containerd$k3s$docker" ]; then install_shim; fi
[ -n "$podman" ] && configure podman "$root/etc/containers/containers.conf.d/50-remoteproc-runtime.conf"
[ -n "$docker" ] && configure docker "$root/etc/docker/daemon.json"
[ -n "$containerd" ] && configure containerd "$root/etc/containerd/config.toml"
[ -n "$k3s" ] && configure k3s "$root/var/lib/rancher/k3s/agent/etc/containerd/config.toml.tmpl"
exit 0
