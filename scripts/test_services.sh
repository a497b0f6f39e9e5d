#!/usr/bin/env bash
# Make sure the services the integration tests start themselves are installed: PostgreSQL server
# binaries (tests/support/postgres.py runs a throwaway server on a free loopback port) and Debian's
# chromium (tests/support/browser.py drives it with Playwright, which must never download its own
# browser). Idempotent and fast: when both are present it only checks and prints one line.
set -euo pipefail

have_postgres() { compgen -G '/usr/lib/postgresql/*/bin/postgres' >/dev/null; }
have_chromium() { [[ -x /usr/bin/chromium ]]; }

missing=()
have_postgres || missing+=(postgresql)
have_chromium || missing+=(chromium)

if ((${#missing[@]} == 0)); then
  pg=$(compgen -G '/usr/lib/postgresql/*/bin/postgres' | sort -V | tail -n1)
  echo "test services: found $pg and /usr/bin/chromium, nothing to install"
  exit 0
fi

if ((EUID == 0)); then
  as_root=()
elif command -v sudo >/dev/null 2>&1; then
  as_root=(sudo)
else
  echo "test services: missing ${missing[*]}; installing needs root or sudo, neither is available." >&2
  echo "Install them yourself: apt-get install -y --no-install-recommends ${missing[*]}" >&2
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive
apt_install() {
  "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -q --no-install-recommends "$@"
}

# Only refresh the package lists when apt does not know the candidates (fresh images ship none).
need_update=0
for pkg in "${missing[@]}"; do
  candidate=$(apt-cache policy "$pkg" 2>/dev/null | awk '/Candidate:/ {print $2}')
  if [[ -z $candidate || $candidate == "(none)" ]]; then need_update=1; fi
done
if ((need_update)); then
  "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
fi

# A failed install is retried once after refreshing the lists (stale lists give 404s).
if ! apt_install "${missing[@]}"; then
  "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
  apt_install "${missing[@]}"
fi

if ! have_postgres || ! have_chromium; then
  echo "test services: install of ${missing[*]} finished, but binaries are still missing" >&2
  exit 1
fi
pg=$(compgen -G '/usr/lib/postgresql/*/bin/postgres' | sort -V | tail -n1)
echo "test services: installed ${missing[*]}; using $pg and /usr/bin/chromium"
