#!/usr/bin/env bash
# provision.sh makes sure the servers that `foyer dev` and the tests start are
# installed: redis-server and Postgres (initdb), and with --browser chromium for
# the browser tests and Node.js for the JavaScript example's test
# (examples/verify-js, on node:crypto alone: no npm install). As root it installs what is missing with apt-get; otherwise
# it prints the command to run. Quiet (one line) when all is there.
#
# Usage: scripts/provision.sh [--browser]
set -euo pipefail

browser=false
for arg in "$@"; do
  case "$arg" in
    --browser) browser=true ;;
    *) echo "usage: $0 [--browser]" >&2; exit 2 ;;
  esac
done

# Debian installs initdb in /usr/lib/postgresql/<major>/bin, off PATH.
have_postgres() {
  command -v initdb >/dev/null 2>&1 || compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null
}

missing=()
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
have_postgres || missing+=(postgresql)
if $browser && ! command -v chromium >/dev/null 2>&1 && [[ ! -x /usr/bin/chromium ]]; then
  missing+=(chromium)
fi
if $browser && ! command -v node >/dev/null 2>&1; then
  missing+=(nodejs)
fi

wanted="redis-server, postgres$($browser && echo ', chromium, node' || true)"
if ((${#missing[@]} == 0)); then
  echo "provision: $wanted present"
  exit 0
fi

install=(apt-get install -y --no-install-recommends "${missing[@]}")
if ((EUID != 0)); then
  echo "provision: missing ${missing[*]}; install them with:" >&2
  echo "  sudo apt-get update && sudo DEBIAN_FRONTEND=noninteractive ${install[*]}" >&2
  exit 1
fi
echo "provision: installing ${missing[*]}"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive "${install[@]}"
echo "provision: $wanted present"
