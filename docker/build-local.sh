#!/usr/bin/env bash
# Build the auralens image on a Debian machine that reaches Debian's and PyPI's mirrors but no
# container registry. The image docker/Dockerfile starts from (python:3.11-slim) is replaced by a
# stand-in made from Debian packages alone (debootstrap: Debian's Python 3.11, pip, CA
# certificates), built once and kept as a local image; then docker/Dockerfile, unchanged, is built
# on it.
#
#   bash docker/build-local.sh [TAG]            # default tag: auralens:latest
#
# Needs: a running Docker engine, and as root the Debian packages debootstrap and docker.io
# (`apt-get install docker.io debootstrap`; start the engine with `dockerd &` where no service
# manager runs). Settings, from the environment:
#   AURALENS_BASE   the stand-in's tag (default auralens-base:bookworm); delete it to rebuild it
#   DEBIAN_MIRROR   the Debian mirror (default: the one apt is configured with here)
#
# The stand-in trusts this machine's certificate authorities (/etc/ssl/certs/ca-certificates.crt)
# and its pip index, so that downloads in the build go where this machine's go. PyTorch comes
# from PyTorch's CPU wheel index, or, when pip here has a CPU build of torch on disk (find-links),
# from that file served on loopback for the length of the build.
set -euo pipefail
cd "$(dirname "$0")/.."

TAG=${1:-auralens:latest}
BASE=${AURALENS_BASE:-auralens-base:bookworm}
SUITE=bookworm

say() { echo "build-local: $*" >&2; }
# one clean-up for whatever the script made, however it ends
scratch=() server=
cleanup() { [ -n "$server" ] && kill "$server" 2>/dev/null; [ ${#scratch[@]} -gt 0 ] && rm -rf "${scratch[@]}"; true; }
trap cleanup EXIT
fail() { say "$*"; exit 2; }

docker info >/dev/null 2>&1 || fail "no Docker engine answers (start one: dockerd &, or systemctl start docker)."

mirror() {
  if [ -n "${DEBIAN_MIRROR:-}" ]; then echo "$DEBIAN_MIRROR"; return; fi
  local found
  found=$(grep -hoE '^URIs: *http[^ ]*/debian/?$|^deb +\[?[^]]*\]? *http[^ ]*/debian/? ' \
            /etc/apt/sources.list.d/*.sources /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null \
          | grep -oE 'http[^ ]*/debian/?' | head -n 1 || true)
  echo "${found:-http://deb.debian.org/debian}"
}

build_base() {
  command -v debootstrap >/dev/null || fail "debootstrap is missing (apt-get install debootstrap)."
  [ "$(id -u)" = 0 ] || fail "making the base image needs root (debootstrap)."
  local root started pip_index
  root=$(mktemp -d)
  scratch+=("$root")
  started=$(date +%s)
  say "making the stand-in base image $BASE from Debian $SUITE ($(mirror))"
  debootstrap --variant=minbase --include=python3,python3-pip,python3-venv,python-is-python3,ca-certificates \
    "$SUITE" "$root" "$(mirror)" >/dev/null
  # what pip and apt trust here, they trust in the build
  [ -f /etc/ssl/certs/ca-certificates.crt ] && cp /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/ca-certificates.crt"
  {
    echo "[global]"
    echo "cert = /etc/ssl/certs/ca-certificates.crt"
    echo "break-system-packages = true"  # the image's Python is pip's alone, as in python:3.11-slim
    pip_index=${PIP_INDEX_URL:-$(python3 -m pip config get global.index-url 2>/dev/null || true)}
    case "$pip_index" in http*) echo "index-url = $pip_index" ;; esac
  } > "$root/etc/pip.conf"
  rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/* "$root"/tmp/*
  tar -C "$root" -c . | docker import \
    -c 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' -c 'ENV LANG=C.UTF-8' \
    -c 'CMD ["python3"]' - "$BASE" >/dev/null
  say "base image ready in $(( $(date +%s) - started )) s"
}

# A CPU build of torch that pip here finds on disk, for the base's Python (3.11), if any.
local_torch() {
  local dirs
  dirs="${PIP_FIND_LINKS:-} $(python3 -m pip config get global.find-links 2>/dev/null || true)"
  for d in $dirs; do
    d=${d#file://}
    if [ -d "$d" ]; then find "$d" -maxdepth 1 -name 'torch-*+cpu-cp311-cp311-*linux*_x86_64.whl'; fi
  done | sort -V | tail -n 1
}

docker image inspect "$BASE" >/dev/null 2>&1 || build_base

args=(--network host -f docker/Dockerfile --build-arg "BASE_IMAGE=$BASE" -t "$TAG")
wheel=$(local_torch)
if [ -n "$wheel" ] && [ "$(uname -m)" = x86_64 ]; then
  index=$(mktemp -d)
  scratch+=("$index")
  mkdir -p "$index/simple/torch"
  ln -s "$wheel" "$index/simple/torch/$(basename "$wheel")"
  printf '<html><body><a href="%s">%s</a></body></html>\n' "$(basename "$wheel" | sed 's/+/%2B/')" \
    "$(basename "$wheel")" > "$index/simple/torch/index.html"
  port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  python3 -m http.server --bind 127.0.0.1 --directory "$index" "$port" >/dev/null 2>&1 &
  server=$!
  answers() { python3 -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$port/simple/torch/')" 2>/dev/null; }
  for _ in $(seq 1 50); do answers && break; sleep 0.1; done
  answers || fail "the loopback index of $(basename "$wheel") did not start."
  say "torch from $(basename "$wheel") (on this machine)"
  args+=(--build-arg "TORCH_INDEX=http://127.0.0.1:$port/simple")
fi

started=$(date +%s)
docker build "${args[@]}" .
size=$(docker image inspect -f '{{.Size}}' "$TAG")
say "image $TAG built in $(( $(date +%s) - started )) s: $(( size / 1000000 )) MB"
