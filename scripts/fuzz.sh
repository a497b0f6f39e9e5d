#!/usr/bin/env bash
# Fuzz a running Tether with schemathesis: every check (`--checks all`), every phase, and at
# least 5,000 requests. Aim it at a server you started, on loopback:
#
#   BASE_URL=http://127.0.0.1:8765 KEY=tth_... scripts/fuzz.sh [more schemathesis options]
#
# KEY is the API key to send (an admin key reaches every operation; run it once per role to see
# each role's answers). A fuzzer fails authentication on purpose and posts many messages, so
# start the server with those limits off (TETHER_AUTH_FAILURES_PER_ADDRESS=0,
# TETHER_AUTH_FAILURES_PER_PREFIX=0, TETHER_MESSAGES_PER_CONVERSATION=0), or its 429s will be
# most of what you see. An admin key's run accepts knowledge-base articles into
# TETHER_KB_PATH: never point it at a server whose knowledge base you keep. For a server on
# fakes that loads no model:
#
#   .venv/bin/python -m tests.assistant.api.fake_app --data /tmp/tether-fuzz --port 8765
#
# EXAMPLES (default 250) is schemathesis' --max-examples per operation and phase; the run
# prints how many requests it made. Exit status 0 means no failure.
set -euo pipefail
cd "$(dirname "$0")/.."

: "${BASE_URL:?set BASE_URL, the server to fuzz, e.g. http://127.0.0.1:8765}"
: "${KEY:?set KEY, the API key to send (tth_...)}"
EXAMPLES=${EXAMPLES:-250}
SEED=${SEED:-20261202}

config=$(mktemp --suffix=.toml)
trap 'rm -f "$config"' EXIT
# A text over its documented maxLength is refused with 413 (see README, "Security and
# limits"): a rejection, which schemathesis does not count as one by default.
# No cache or example database left in the work tree.
cat >"$config" <<'EOF'
[cache]
enabled = false

[checks.negative_data_rejection]
expected-statuses = [400, 401, 403, 404, 405, 406, 409, 413, 415, 422, 428, 429, "5xx"]
EOF

exec .venv/bin/schemathesis --config-file "$config" run "${BASE_URL%/}/openapi.json" \
  --url "${BASE_URL%/}" \
  --checks all \
  --header "Authorization: Bearer $KEY" \
  --max-examples "$EXAMPLES" \
  --seed "$SEED" \
  --workers 2 \
  --generation-database none \
  "$@"
