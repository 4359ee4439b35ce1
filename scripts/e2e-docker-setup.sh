#!/usr/bin/env bash
# Idempotent setup for `make e2e-docker`: Debian's Docker Engine, debootstrap and nginx, and
# the root filesystems of the test images (built with debootstrap, cached under build/).
# Needs root and Debian's package mirror; nothing else is downloaded.
set -euo pipefail

out="${1:-build/e2e-docker}"
suite=bookworm
packages=(docker.io debootstrap nginx-light)

missing=()
for package in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "ok installed" || missing+=("$package")
done
if ((${#missing[@]})); then
    echo "installing ${missing[*]}"
    apt-get update -q
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}"
fi

# The mirror this machine's apt uses (deb822 .sources or one-line sources.list).
mirror="$(
    {
        grep -hs '^URIs:' /etc/apt/sources.list.d/*.sources || true
        grep -hs '^deb ' /etc/apt/sources.list /etc/apt/sources.list.d/*.list || true
    } | awk '$2 !~ /security/ {print $2; exit}'
)"
mirror="${mirror:-http://deb.debian.org/debian}"

mkdir -p "$out"

# rootfs NAME PACKAGES: $out/NAME-<hash of packages>.tar, built once.
rootfs() {
    local name="$1" include="$2"
    local key
    key="$(printf '%s %s' "$suite" "$include" | sha256sum | cut -c1-12)"
    local tarball="$out/$name-$key.tar"
    if [[ -s "$tarball" ]]; then
        echo "cached: $tarball"
        return
    fi
    local dir
    dir="$(mktemp -d "$out/.$name.XXXXXX")"
    echo "debootstrap $name ($include) from $mirror"
    debootstrap --variant=minbase --include="$include" "$suite" "$dir" "$mirror" >"$dir.log" 2>&1 || {
        tail -n 30 "$dir.log" >&2
        exit 1
    }
    # Package caches and logs are not part of an image.
    rm -rf "$dir"/var/cache/apt/archives/*.deb "$dir"/var/lib/apt/lists/* "$dir"/var/log/*
    tar --numeric-owner -C "$dir" -cf "$tarball.part" .
    mv "$tarball.part" "$tarball"
    rm -rf "$dir" "$dir.log"
    echo "built: $tarball"
}

# The gateway: Debian's nginx with njs (the production image ships the same nginx major.minor
# and njs, see components/docker/gateway.py; the shared endpoint loads it) and wget for the
# container's health check.
rootfs gateway "nginx-light,libnginx-mod-http-js,wget"
# Engine and loader stand-ins: python3, and curl for the engines' health check.
rootfs python "python3,curl"
