#!/usr/bin/env bash
# Installs the system programs the test suite runs for real and a fresh Debian 12
# machine lacks: PostgreSQL's server programs (the suite starts its own throwaway
# cluster with them), OpenSSH's sshd (SFTP tests), GnuPG (PGP stages), promtool
# (alert rules check) and headless Chromium with its driver (the web console's browser
# tests; never a downloaded browser).
# Idempotent and quiet: does nothing when every program is already present.
set -euo pipefail

# program path or name -> Debian package that provides it
declare -A NEEDS=(
  [/usr/sbin/sshd]=openssh-server
  [ssh-keygen]=openssh-client
  [gpg]=gpg
  [gpg-agent]=gpg-agent
  [gpgconf]=gpgconf
  [systemd-analyze]=systemd
  [promtool]=prometheus
  [/usr/bin/chromium]=chromium
  [/usr/bin/chromedriver]=chromium-driver
)

have() {
  case "$1" in
    /*) [ -x "$1" ] ;;
    *) command -v "$1" >/dev/null 2>&1 ;;
  esac
}

missing=()
# Debian keeps initdb/pg_ctl/postgres under /usr/lib/postgresql/VERSION/bin, off PATH.
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  missing+=(postgresql)
  # only the programs: no cluster of the distribution's own started behind the suite's back
  if [ "$(id -u)" -eq 0 ] && [ ! -e /etc/postgresql-common/createcluster.conf ]; then
    mkdir -p /etc/postgresql-common
    echo "create_main_cluster = false" > /etc/postgresql-common/createcluster.conf
  fi
fi
for prog in "${!NEEDS[@]}"; do
  have "$prog" && continue
  pkg=${NEEDS[$prog]}
  [[ " ${missing[*]-} " == *" $pkg "* ]] || missing+=("$pkg")
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "install-system-deps: missing system packages: ${missing[*]}" >&2
  echo "install-system-deps: run as root: sudo $0   (or: sudo apt-get install ${missing[*]})" >&2
  exit 1
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "install-system-deps: missing system packages: ${missing[*]}; no apt-get on this machine, install them by hand" >&2
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive
echo "install-system-deps: installing ${missing[*]}"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
if ! { apt-get update -qq && apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${missing[@]}"; } >"$log" 2>&1; then
  cat "$log" >&2
  echo "install-system-deps: apt-get failed for: ${missing[*]}" >&2
  exit 1
fi

if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  echo "install-system-deps: PostgreSQL's initdb still missing after installing postgresql" >&2
  exit 1
fi
for prog in "${!NEEDS[@]}"; do
  if ! have "$prog"; then
    echo "install-system-deps: ${prog} still missing after installing ${NEEDS[$prog]}" >&2
    exit 1
  fi
done
