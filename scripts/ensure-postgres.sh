#!/usr/bin/env bash
# Make sure PostgreSQL *server* binaries (initdb, pg_ctl, postgres) are available so the
# test suite can start throwaway clusters (see tests/support/pg_cluster.py).
#
# Idempotent: if the binaries are already present nothing is installed. Otherwise the Debian
# package "postgresql" is installed with apt-get (apt-get update is only run if the first
# install attempt fails, e.g. on a machine with empty package lists).
#
# Search order (kept in sync with tests/support/pg_cluster.py:find_pg_bindir):
#   1. $CAREBIRD_PG_BINDIR (if set it must be valid; nothing is installed)
#   2. /usr/lib/postgresql/*/bin (newest major version first)
#   3. `pg_config --bindir`
#   4. the directory of `pg_ctl` on $PATH
#
# Usage: scripts/ensure-postgres.sh [--check]
#   --check   only report; exit 1 if the binaries are missing, never install
set -euo pipefail

log() { printf 'ensure-postgres: %s\n' "$*"; }
die() {
    printf 'ensure-postgres: ERROR: %s\n' "$*" >&2
    exit 1
}

check_only=0
case "${1:-}" in
"") ;;
--check) check_only=1 ;;
-h | --help)
    awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"
    exit 0
    ;;
*) die "unknown argument: $1 (usage: $0 [--check])" ;;
esac

has_server_binaries() {
    local d=$1
    [ -n "$d" ] && [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ] && [ -x "$d/postgres" ]
}

# Prints the bindir and returns 0, or returns 1.
find_bindir() {
    local d
    if [ -n "${CAREBIRD_PG_BINDIR:-}" ]; then
        has_server_binaries "$CAREBIRD_PG_BINDIR" || return 1
        printf '%s\n' "$CAREBIRD_PG_BINDIR"
        return 0
    fi
    while IFS= read -r d; do
        if has_server_binaries "$d"; then
            printf '%s\n' "$d"
            return 0
        fi
    done < <(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V -r)
    if command -v pg_config >/dev/null 2>&1; then
        d=$(pg_config --bindir 2>/dev/null || true)
        if has_server_binaries "$d"; then
            printf '%s\n' "$d"
            return 0
        fi
    fi
    if command -v pg_ctl >/dev/null 2>&1; then
        d=$(dirname "$(readlink -f "$(command -v pg_ctl)")")
        if has_server_binaries "$d"; then
            printf '%s\n' "$d"
            return 0
        fi
    fi
    return 1
}

describe() { "$1/postgres" --version 2>/dev/null || echo "unknown version"; }

if bindir=$(find_bindir); then
    log "PostgreSQL server binaries already present in $bindir ($(describe "$bindir")); nothing to do."
    exit 0
fi

if [ -n "${CAREBIRD_PG_BINDIR:-}" ]; then
    die "CAREBIRD_PG_BINDIR=$CAREBIRD_PG_BINDIR does not contain executable initdb, pg_ctl and postgres; fix or unset it."
fi

if [ "$check_only" -eq 1 ]; then
    log "no PostgreSQL server binaries found (run $0 without --check to install them)."
    exit 1
fi

if ! command -v apt-get >/dev/null 2>&1; then
    die "no PostgreSQL server binaries (initdb, pg_ctl, postgres) found and apt-get is not available. Install a PostgreSQL server package manually, or point CAREBIRD_PG_BINDIR at its bin directory."
fi

if [ "$(id -u)" -eq 0 ]; then
    as_root=()
elif command -v sudo >/dev/null 2>&1; then
    # Never hang waiting for a password when nobody can type it (CI).
    if [ -t 0 ]; then as_root=(sudo); else as_root=(sudo -n); fi
else
    die "no PostgreSQL server binaries found; installing them needs root but we are $(id -un) and sudo is not available. Run as root: apt-get install -y --no-install-recommends postgresql"
fi

apt=("${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -y -q
    -o DPkg::Lock::Timeout=300
    -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold)

log "no PostgreSQL server binaries found; installing Debian package 'postgresql' (${as_root[*]:-as root}: apt-get install -y --no-install-recommends postgresql)"
if ! "${apt[@]}" install --no-install-recommends postgresql; then
    log "apt-get install failed; running apt-get update and retrying"
    "${apt[@]}" update || die "apt-get update failed (is a Debian package mirror reachable?)"
    "${apt[@]}" install --no-install-recommends postgresql ||
        die "apt-get install -y --no-install-recommends postgresql failed"
fi

bindir=$(find_bindir) ||
    die "package 'postgresql' was installed but initdb/pg_ctl/postgres were not found under /usr/lib/postgresql/*/bin"
log "installed PostgreSQL; server binaries in $bindir ($(describe "$bindir"))."
