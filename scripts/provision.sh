#!/usr/bin/env bash
# provision.sh makes sure the servers that `foyer dev` and the tests start are
# installed: redis-server, Postgres (initdb), nginx (the load balancer in front
# of several gateways, deploy/nginx), stripe-mock (Stripe's own API
# server for tests, at a pinned version, with `go install` from the Go module
# proxy into GOBIN or GOPATH/bin), and with --browser chromium for
# the browser tests and Node.js for the JavaScript example's test
# (examples/verify-js, on node:crypto alone: no npm install) and npm for the
# JavaScript client (clients/js: `make js` installs its pinned dev tools). As root it installs what is missing with apt-get; otherwise
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

# stripe-mock is pinned: its fixtures follow Stripe's API, and the tests of
# internal/stripepay read them. Bump it with stripe-go.
stripe_mock_version=v0.203.0

# provision_stripe_mock installs stripe-mock at the pinned version unless it
# is there already (as `go version -m` reads the binary's module version).
provision_stripe_mock() {
  local bin
  bin="$(go env GOBIN)"
  [[ -n "$bin" ]] || bin="$(go env GOPATH | cut -d: -f1)/bin"
  bin="$bin/stripe-mock"
  if [[ -x "$bin" ]] && go version -m "$bin" 2>/dev/null | grep -q "github.com/stripe/stripe-mock[[:space:]]*$stripe_mock_version"; then
    return 0
  fi
  echo "provision: installing stripe-mock $stripe_mock_version"
  GOFLAGS=-mod=mod go install "github.com/stripe/stripe-mock@$stripe_mock_version"
}
provision_stripe_mock

# Debian installs initdb in /usr/lib/postgresql/<major>/bin, off PATH.
have_postgres() {
  command -v initdb >/dev/null 2>&1 || compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null
}

missing=()
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
have_postgres || missing+=(postgresql)
# Debian installs nginx in /usr/sbin, off a user's PATH.
command -v nginx >/dev/null 2>&1 || [[ -x /usr/sbin/nginx ]] || missing+=(nginx)
if $browser && ! command -v chromium >/dev/null 2>&1 && [[ ! -x /usr/bin/chromium ]]; then
  missing+=(chromium)
fi
if $browser && ! command -v node >/dev/null 2>&1; then
  missing+=(nodejs)
fi
# Debian packages npm apart from Node.
if $browser && ! command -v npm >/dev/null 2>&1; then
  missing+=(npm)
fi

wanted="redis-server, postgres, nginx, stripe-mock $stripe_mock_version$($browser && echo ', chromium, node, npm' || true)"
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
