#!/usr/bin/env bash
# Builds the real-engine tools from the Go modules pinned in tools/go/*/go.mod (+ go.sum):
#   pulumi, pulumi-language-python      the Pulumi CLI and the Python language host
#   pulumi-resource-kubernetes          the pulumi-kubernetes provider
#   etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kwok
# plus the two launchers the CLI's release archive ships and no module carries (tools/launchers).
# A binary is rebuilt only when its module's go.mod/go.sum or this script change; Go's module and
# build caches make a rebuild after that cheap. Usage: tools/build.sh OUT_DIR
set -euo pipefail

out=${1:?usage: tools/build.sh OUT_DIR}
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$out"
out=$(cd "$out" && pwd)
export GOTOOLCHAIN=local GOFLAGS=-mod=mod CGO_ENABLED=0

if ! command -v go >/dev/null 2>&1 && [ -x /usr/local/go/bin/go ]; then
  export PATH="/usr/local/go/bin:$PATH"
fi
if ! command -v go >/dev/null 2>&1; then
  echo "tools/build.sh: the Go toolchain (1.26) is needed to build the real-engine tools" >&2
  exit 1
fi

# The stamp ties each binary to the exact module graph and build recipe it came from.
stamp_of() {
  cat "$here/go/$1/go.mod" "$here/go/$1/go.sum" "$0" | sha256sum | cut -c1-16
}

up_to_date() {  # module binary...
  local module=$1 stamp
  shift
  stamp=$(stamp_of "$module")
  for binary in "$@"; do
    [ -x "$out/$binary" ] && [ "$(cat "$out/.$binary.stamp" 2>/dev/null)" = "$stamp" ] || return 1
  done
}

mark_built() {  # module binary...
  local module=$1 stamp
  shift
  stamp=$(stamp_of "$module")
  for binary in "$@"; do echo "$stamp" >"$out/.$binary.stamp"; done
}

module_version() {  # module-dir module-path: the version built, after replace directives
  (cd "$here/go/$1" && go list -m -f '{{if .Replace}}{{.Replace.Version}}{{else}}{{.Version}}{{end}}' "$2")
}

timed() {  # name command...
  local name=$1 start=$SECONDS
  shift
  echo "building $name ..." >&2
  "$@"
  echo "built $name in $((SECONDS - start)) s" >&2
}

build_tool() {  # module-dir package binary [ldflags]
  (cd "$here/go/$1" && go build -trimpath -ldflags "-s -w ${4:-}" -o "$out/$3" "$2")
}

# --- Pulumi CLI and Python language host ---------------------------------------------------
if ! up_to_date pulumi pulumi; then
  version=$(module_version pulumi github.com/pulumi/pulumi/pkg/v3)
  timed pulumi build_tool pulumi github.com/pulumi/pulumi/pkg/v3/cmd/pulumi pulumi \
    "-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$version"
  mark_built pulumi pulumi
fi

if ! up_to_date pulumi-language-python pulumi-language-python; then
  version=$(module_version pulumi-language-python github.com/pulumi/pulumi/sdk/v3)
  timed pulumi-language-python build_tool pulumi-language-python \
    github.com/pulumi/pulumi/sdk/v3/python/cmd/pulumi-language-python pulumi-language-python \
    "-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$version"
  mark_built pulumi-language-python pulumi-language-python
fi

# --- pulumi-kubernetes provider ------------------------------------------------------------
# Its main package embeds schema-embed.json and terraform-mapping-embed.json, which upstream's
# Makefile generates from schema.json before building (they are not in the published module).
# So: verify and fetch the pinned module, copy it, run upstream's own generator, then build the
# copy with its own go.mod plus the SDK pin from tools/go/pulumi-kubernetes/go.mod.
build_kubernetes_provider() {
  local module=github.com/pulumi/pulumi-kubernetes/provider/v4
  local sdk=github.com/pulumi/pulumi-kubernetes/sdk/v4
  local dir version src
  dir=$(cd "$here/go/pulumi-kubernetes" && go mod download -json "$module" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')
  # The provider is released together with its SDK: the pinned SDK's version is the release.
  version=$(module_version pulumi-kubernetes "$sdk")
  src=$(mktemp -d)
  cp -r "$dir/." "$src"
  chmod -R u+w "$src"
  cp "$here/go/pulumi-kubernetes/go.sum" "$src/go.sum.pinned"
  (
    cd "$src"
    go mod edit -dropreplace "$sdk" -require "$sdk@$version"
    cat go.sum.pinned >>go.sum
    (cd cmd/pulumi-resource-kubernetes && VERSION=${version#v} go run generate.go)
    go build -trimpath \
      -ldflags "-s -w -X $module/pkg/version.Version=${version#v}" \
      -o "$out/pulumi-resource-kubernetes" ./cmd/pulumi-resource-kubernetes
  )
  rm -rf "$src"
}
if ! up_to_date pulumi-kubernetes pulumi-resource-kubernetes; then
  timed pulumi-resource-kubernetes build_kubernetes_provider
  mark_built pulumi-kubernetes pulumi-resource-kubernetes
fi

# --- control plane and KWOK ----------------------------------------------------------------
control_plane=(kube-apiserver kube-controller-manager kube-scheduler)
if ! up_to_date kubernetes "${control_plane[@]}" etcd kwok; then
  version=$(module_version kubernetes k8s.io/kubernetes)
  # kube-apiserver reports this as its version (discovery, `kubectl version`).
  kube_ldflags="-X k8s.io/component-base/version.gitVersion=$version"
  kube_ldflags+=" -X k8s.io/component-base/version.gitMajor=1"
  kube_ldflags+=" -X k8s.io/component-base/version.gitMinor=$(echo "$version" | cut -d. -f2)"
  for binary in "${control_plane[@]}"; do
    timed "$binary" build_tool kubernetes "k8s.io/kubernetes/cmd/$binary" "$binary" "$kube_ldflags"
  done
  timed etcd build_tool kubernetes go.etcd.io/etcd/server/v3 etcd
  timed kwok build_tool kubernetes sigs.k8s.io/kwok/cmd/kwok kwok
  mark_built kubernetes "${control_plane[@]}" etcd kwok
fi

install -m 0755 "$here/launchers/pulumi-language-python-exec" "$here/launchers/pulumi-resource-pulumi-python" "$out/"
echo "real-engine tools ready in $out" >&2
