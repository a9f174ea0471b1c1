#!/usr/bin/env bash
# Build the docker compose CLI plugin from its Go module and install it for this user.
#
# Debian's docker client ships without `docker compose`; pricestream's tests only need
# `docker compose config` to validate docker-compose.yml, which works without an engine.
# The build needs Go and takes a few minutes the first time (Go caches it afterwards).
set -euo pipefail

version=${PRICESTREAM_COMPOSE_VERSION:-v5.6.0}
plugin_dir=${DOCKER_CONFIG:-$HOME/.docker}/cli-plugins

command -v go >/dev/null 2>&1 ||
    { echo "install-compose-plugin.sh: go not found; install Go or the docker-compose-plugin package" >&2; exit 1; }

work=$(mktemp -d)
trap 'chmod -R u+w "$work"; rm -rf "$work"' EXIT

echo "building docker compose $version from its Go module (first build takes minutes)"
module_dir=$(go mod download -json "github.com/docker/compose/v5@$version" |
    sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
[[ -d "$module_dir" ]] || { echo "install-compose-plugin.sh: could not download github.com/docker/compose/v5@$version" >&2; exit 1; }

# Build inside the module's own tree so its go.mod replace and exclude directives apply.
cp -r "$module_dir" "$work/src"
chmod -R u+w "$work/src"
(cd "$work/src" && go build -trimpath \
    -ldflags "-w -X github.com/docker/compose/v5/internal.Version=$version" \
    -o "$work/docker-compose" ./cmd)

mkdir -p "$plugin_dir"
install -m 0755 "$work/docker-compose" "$plugin_dir/docker-compose"
echo "installed $plugin_dir/docker-compose ($(docker compose version 2>/dev/null || echo 'docker compose not answering'))"
