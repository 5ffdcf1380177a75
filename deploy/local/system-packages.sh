#!/usr/bin/env bash
# Installs the Debian tools that `make test` uses when they are missing:
# docker-compose (validates the compose file), gettext (compiles translations),
# nginx and openssl (`nginx -t` on the proxy configuration), nodejs and npm (the
# dashboard's front-end packages, `npm ci`).
# Runs apt-get only when something is missing, and only as root.
set -euo pipefail

missing=()
command -v docker-compose >/dev/null || missing+=(docker-compose)
command -v msgfmt >/dev/null || missing+=(gettext)
command -v envsubst >/dev/null || missing+=(gettext-base)
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || missing+=(nginx)
command -v openssl >/dev/null || missing+=(openssl)
command -v npm >/dev/null || missing+=(nodejs npm)
for extra in "$@"; do
  case "$extra" in
    chromium) command -v chromium >/dev/null || missing+=(chromium) ;;
  esac
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null; then
  echo "ERROR: missing system tools: ${missing[*]}." >&2
  echo "Fix: install them with your package manager (Debian: apt-get install ${missing[*]})." >&2
  exit 1
fi
echo "installing system tools: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
