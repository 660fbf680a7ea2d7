#!/usr/bin/env bash
# Make sure the HTTP load generator `hey` (Debian package "hey") is installed: the inbox
# benchmark's load part runs it against `carebird serve` on loopback (benchmarks/inbox_serve.py).
# A small Go binary: 20 concurrent clients cost it little CPU, on a machine the server shares.
#
# Idempotent: nothing happens if `hey` is on $PATH. Otherwise apt-get installs it (apt-get
# update only if the first attempt fails, e.g. on a machine with empty package lists).
#
# Usage: scripts/ensure-hey.sh [--check]
#   --check   only report; exit 1 if hey is missing, never install
set -euo pipefail

if command -v hey >/dev/null 2>&1; then
    echo "ensure-hey: $(command -v hey)"
    exit 0
fi
if [[ "${1:-}" == "--check" ]]; then
    echo "ensure-hey: hey is not installed" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get install -y -q hey >/dev/null || { apt-get update -q >/dev/null && apt-get install -y -q hey >/dev/null; }
command -v hey
