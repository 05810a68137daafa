#!/usr/bin/env bash
# Installs what the project needs on Debian 12, and only what is missing.
#   - Debian packages (checked with dpkg): PostgreSQL 15 server + contrib, libpq-dev, libfcgi-dev,
#     libssl-dev, libcurl4-openssl-dev, pkg-config, nginx, wrk, zstd, curl, python3.
#   - Python packages for the HTTP tests (pytest, requests, cryptography), for the `python3` on PATH.
#   - The unprivileged system user `appview` (PostgreSQL refuses to run as root).
# Runs `apt-get update` only when something must be installed. Needs no stdin.
# As non-root it uses sudo when available, else it prints what is missing and fails.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive

log() { printf 'install-deps: %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

SUDO=()
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    SUDO=(sudo -n)
  else
    SUDO=(none)
  fi
fi

run_root() {
  if [ "${SUDO[0]:-}" = none ]; then
    die "root needed for: $*  (run this script as root, or with passwordless sudo)"
  fi
  "${SUDO[@]}" "$@"
}

pkg_installed() {
  dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'
}

# ---------------------------------------------------------------- Debian packages
PKGS=(
  postgresql-15          # server (contrib modules are part of it on Debian 12)
  postgresql-contrib     # metapackage, keeps the intent explicit
  postgresql-client-15
  libpq-dev
  libfcgi-dev
  libssl-dev             # OpenSSL libcrypto: service-auth signatures (ES256K / ES256)
  libcurl4-openssl-dev   # libcurl: DID document fetches (PLC directory, did:web)
  pkg-config             # SwiftPM finds libpq / fcgi through pkg-config
  nginx
  wrk
  zstd
  curl
  python3
)

command -v dpkg-query >/dev/null 2>&1 || die "this script supports Debian/Ubuntu (dpkg) only"

missing=()
for p in "${PKGS[@]}"; do
  pkg_installed "$p" || missing+=("$p")
done

# Python test packages: for the python3 that the tests will use (first on PATH).
PY=$(command -v python3 || true)
py_missing=()
if [ -n "$PY" ]; then
  for mod in pytest requests cryptography websockets; do
    "$PY" -c "import $mod" >/dev/null 2>&1 || py_missing+=("$mod")
  done
fi

# When python3 is Debian's own, install its modules with apt (PEP 668 forbids pip there).
py_is_system=0
if [ -z "$PY" ] || [ "$(readlink -f "$PY")" = "$(readlink -f /usr/bin/python3 2>/dev/null || echo none)" ]; then
  py_is_system=1
fi
if [ "$py_is_system" = 1 ]; then
  for mod in "${py_missing[@]}"; do
    pkg_installed "python3-$mod" || missing+=("python3-$mod")
  done
  if [ -z "$PY" ]; then
    pkg_installed python3-pytest || missing+=(python3-pytest)
    pkg_installed python3-requests || missing+=(python3-requests)
    pkg_installed python3-cryptography || missing+=(python3-cryptography)
    pkg_installed python3-websockets || missing+=(python3-websockets)
  fi
fi

if [ "${#missing[@]}" -gt 0 ]; then
  log "missing Debian packages: ${missing[*]}"
  if [ "${SUDO[0]:-}" = none ]; then
    die "not root and no passwordless sudo. Install them with:
    sudo apt-get update && sudo apt-get install -y ${missing[*]}"
  fi
  # Keep package postinst scripts from starting the system-wide nginx/postgresql services:
  # the project runs its own instances on its own ports.
  policy_created=0
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    run_root sh -c 'printf "#!/bin/sh\nexit 101\n" > /usr/sbin/policy-rc.d && chmod 755 /usr/sbin/policy-rc.d'
    policy_created=1
  fi
  cleanup_policy() { [ "$policy_created" = 1 ] && run_root rm -f /usr/sbin/policy-rc.d; return 0; }
  trap cleanup_policy EXIT
  run_root env DEBIAN_FRONTEND=noninteractive apt-get update -q
  run_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
    -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "${missing[@]}" </dev/null
  cleanup_policy
  policy_created=0
  PY=$(command -v python3 || true)
else
  log "Debian packages: all present"
fi

# ---------------------------------------------------------------- pip (non-system python only)
if [ -n "$PY" ] && [ "$py_is_system" = 0 ]; then
  py_missing=()
  for mod in pytest requests cryptography websockets; do
    "$PY" -c "import $mod" >/dev/null 2>&1 || py_missing+=("$mod")
  done
  if [ "${#py_missing[@]}" -gt 0 ]; then
    log "installing Python packages with pip for $PY: ${py_missing[*]}"
    "$PY" -m pip install --quiet --disable-pip-version-check "${py_missing[@]}" </dev/null \
      || "$PY" -m pip install --quiet --disable-pip-version-check --break-system-packages "${py_missing[@]}" </dev/null \
      || die "pip install ${py_missing[*]} failed for $PY"
  fi
fi
# lexrpc (lexicon validation in the HTTP tests) is on PyPI only, whichever python this is.
if [ -n "$PY" ] && ! "$PY" -c 'import lexrpc' >/dev/null 2>&1; then
  log "installing lexrpc with pip for $PY"
  "$PY" -m pip install --quiet --disable-pip-version-check lexrpc </dev/null \
    || "$PY" -m pip install --quiet --disable-pip-version-check --break-system-packages lexrpc </dev/null \
    || die "pip install lexrpc failed for $PY"
fi
if [ -n "$PY" ]; then
  "$PY" -c 'import pytest, requests, cryptography, lexrpc, websockets' 2>/dev/null \
    || die "$PY still cannot import pytest/requests/cryptography/lexrpc/websockets"
  log "python: $PY has pytest, requests, cryptography, lexrpc and websockets"
fi

# ---------------------------------------------------------------- the appview system user
if ! id -u appview >/dev/null 2>&1; then
  log "creating system user appview"
  run_root useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin \
    --user-group appview
fi

# ---------------------------------------------------------------- toolchain sanity
if ! command -v swift >/dev/null 2>&1 && [ ! -x /opt/swift/usr/bin/swift ]; then
  log "WARNING: no Swift toolchain found (not installable from Debian packages here); 'swift build' will fail"
fi
bindir=$(pg_config --bindir 2>/dev/null || true)
if [ -z "$bindir" ] || [ ! -x "$bindir/initdb" ]; then
  bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
fi
[ -n "$bindir" ] && [ -x "$bindir/initdb" ] || die "PostgreSQL server binaries (initdb) not found"
log "ok (PostgreSQL binaries in $bindir)"
