#!/usr/bin/env bash
# Make sure Debian's Chromium (/usr/bin/chromium) is installed so the browser tests
# (tests/browser/) can drive it through Playwright. Playwright's own browser download
# (`playwright install`) is never used: only Debian's package.
#
# Idempotent: if /usr/bin/chromium is already executable nothing is installed. Otherwise the
# Debian package "chromium" is installed with apt-get (apt-get update is only run if the first
# install attempt fails, e.g. on a machine with empty package lists).
#
# Usage: scripts/ensure-chromium.sh [--check]
#   --check   only report; exit 1 if Chromium is missing, never install
set -euo pipefail

CHROMIUM=/usr/bin/chromium

log() { printf 'ensure-chromium: %s\n' "$*"; }
die() {
    printf 'ensure-chromium: ERROR: %s\n' "$*" >&2
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

describe() { "$CHROMIUM" --version 2>/dev/null || echo "unknown version"; }

if [ -x "$CHROMIUM" ]; then
    log "Chromium already present at $CHROMIUM ($(describe)); nothing to do."
    exit 0
fi

if [ "$check_only" -eq 1 ]; then
    log "no Chromium at $CHROMIUM (run $0 without --check to install it)."
    exit 1
fi

if ! command -v apt-get >/dev/null 2>&1; then
    die "no Chromium at $CHROMIUM and apt-get is not available. Install Debian's 'chromium' package (or an equivalent at $CHROMIUM) manually."
fi

if [ "$(id -u)" -eq 0 ]; then
    as_root=()
elif command -v sudo >/dev/null 2>&1; then
    # Never hang waiting for a password when nobody can type it (CI).
    as_root=(sudo -n)
else
    die "no Chromium at $CHROMIUM; installing it needs root but we are $(id -un) and sudo is not available. Run as root: apt-get install -y --no-install-recommends chromium"
fi

apt=("${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -y -q
    -o DPkg::Lock::Timeout=300
    -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold)

log "no Chromium at $CHROMIUM; installing Debian package 'chromium' (${as_root[*]:-as root}: apt-get install -y --no-install-recommends chromium)"
if ! "${apt[@]}" install --no-install-recommends chromium; then
    log "apt-get install failed; running apt-get update and retrying"
    "${apt[@]}" update || die "apt-get update failed (is a Debian package mirror reachable?)"
    "${apt[@]}" install --no-install-recommends chromium ||
        die "apt-get install -y --no-install-recommends chromium failed"
fi

[ -x "$CHROMIUM" ] || die "package 'chromium' was installed but $CHROMIUM is not there"
log "installed Chromium at $CHROMIUM ($(describe))."
