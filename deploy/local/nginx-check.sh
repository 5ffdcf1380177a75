#!/usr/bin/env bash
# `nginx -t` on the proxy configuration, rendered from its template exactly as the
# nginx container renders it, with a throw-away self-signed certificate.
set -euo pipefail
cd "$(dirname "$0")/../.."
nginx_bin=$(command -v nginx || echo /usr/sbin/nginx)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj "/CN=spotdesk.test" \
  -keyout "$work/tls.key" -out "$work/tls.crt" 2>/dev/null
mkdir -p "$work/static"
export NGINX_PID_PATH="$work/nginx.pid" NGINX_MIME_TYPES=/etc/nginx/mime.types \
  NGINX_RATE_LIMIT=20r/s NGINX_RATE_BURST=40 NGINX_CONNECTIONS_PER_ADDRESS=50 \
  SPOTDESK_WEB_UPSTREAM=127.0.0.1:8000 SPOTDESK_SERVER_NAME=spotdesk.test \
  TLS_CERTIFICATE="$work/tls.crt" TLS_CERTIFICATE_KEY="$work/tls.key" \
  STATIC_ROOT="$work/static" NGINX_PROXY_INCLUDE="$PWD/deploy/nginx/proxy.conf"
vars='$NGINX_PID_PATH $NGINX_MIME_TYPES $NGINX_RATE_LIMIT $NGINX_RATE_BURST $NGINX_CONNECTIONS_PER_ADDRESS $SPOTDESK_WEB_UPSTREAM $SPOTDESK_SERVER_NAME $TLS_CERTIFICATE $TLS_CERTIFICATE_KEY $STATIC_ROOT $NGINX_PROXY_INCLUDE'
envsubst "$vars" < deploy/nginx/nginx.conf.template > "$work/nginx.conf"
"$nginx_bin" -t -q -p "$work" -c "$work/nginx.conf"
echo "nginx: deploy/nginx/nginx.conf.template is valid"
