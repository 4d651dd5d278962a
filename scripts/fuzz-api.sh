#!/usr/bin/env bash
# Fuzzes the API's whole OpenAPI surface with schemathesis, with and without tokens, and fails on
# any 5xx (scripts/fuzz-api.ts says how). Brings up the test services like `npm test` does and
# installs the pinned schemathesis from PyPI into .cache/fuzz-venv the first time (Python 3.10+).
# Extra arguments go to `st run`, e.g. `bash scripts/fuzz-api.sh --max-examples 20 --seed 1`.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$PATH"

SCHEMATHESIS_VERSION=4.32.5
venv=.cache/fuzz-venv
if ! "$venv/bin/st" --version 2>/dev/null | grep -q "$SCHEMATHESIS_VERSION"; then
  echo "== installing schemathesis $SCHEMATHESIS_VERSION into $venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet "schemathesis==$SCHEMATHESIS_VERSION"
fi

services=$(bash scripts/services.sh up)
eval "$services"
export TEST_DATABASE_URL="$DATABASE_URL"
unset DATABASE_URL KAFKA_BROKERS # the API under test uses the in-process bus
SCHEMATHESIS="$venv/bin/st" bun scripts/fuzz-api.ts "$@"
