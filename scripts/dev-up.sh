#!/usr/bin/env bash
# The main job: the dev stack (stacks/Pulumi.dev.yaml) on this machine's Docker, with
# Pulumi state kept inside the project (.pulumi-state/): no account, no cloud.
set -euo pipefail
cd "$(dirname "$0")/.."

fail() { printf 'dev-up: %s\n' "$*" >&2; exit 1; }

# Every missing prerequisite at once: fixing one only to meet the next wastes a round.
missing=()
command -v pulumi >/dev/null 2>&1 \
  || missing+=("the Pulumi CLI is not installed: see https://www.pulumi.com/docs/install/")
if ! command -v docker >/dev/null 2>&1; then
  missing+=("Docker is not installed: install Docker Engine or Docker Desktop")
elif ! docker info >/dev/null 2>&1; then
  missing+=("Docker is installed but its daemon is not running (or this user may not use it): start it")
fi
if [ "${#missing[@]}" -gt 0 ]; then
  printf 'dev-up: missing prerequisites:\n' >&2
  printf '  - %s\n' "${missing[@]}" >&2
  printf 'dev-up: without them, review the dev stack offline: make setup, then\n' >&2
  printf '  .venv/bin/modelstack render --stack dev   (and validate, diff, graph)\n' >&2
  exit 1
fi

make setup >/dev/null
# Pulumi runs the program with uv from .venv (Pulumi.yaml: toolchain uv).
export PATH="$PWD/.venv/bin:$PATH"
export PULUMI_BACKEND_URL="file://$PWD/.pulumi-state"
# Local dev state: an empty passphrase unless you set one.
export PULUMI_CONFIG_PASSPHRASE="${PULUMI_CONFIG_PASSPHRASE-}"
mkdir -p .pulumi-state

pulumi stack select dev --create --non-interactive
pulumi up --stack dev --yes --non-interactive

endpoint=$(pulumi stack output deployments --stack dev --json | python3 -c \
  'import json, sys; d = json.load(sys.stdin); print(next(iter(d.values()))["endpoint"])')
model=$(pulumi stack output deployments --stack dev --json | python3 -c \
  'import json, sys; print(next(iter(json.load(sys.stdin))))')
cat <<DONE

The dev stack is up. Endpoint: $endpoint
  curl $endpoint/models
  curl $endpoint/chat/completions -H 'Content-Type: application/json' \\
    -d '{"model": "$model", "messages": [{"role": "user", "content": "Hello"}], "max_tokens": 32}'
Tear down with: PULUMI_BACKEND_URL=$PULUMI_BACKEND_URL pulumi destroy --stack dev
DONE
