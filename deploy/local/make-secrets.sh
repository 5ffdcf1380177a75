#!/usr/bin/env bash
# Creates the Docker secrets docker-compose.yml expects, in the folder given (default
# ./secrets): Fernet keys, a self-signed TLS pair (replace it with a real one), the
# metrics token and Grafana's admin password. Existing files are kept.
set -euo pipefail
dir=${1:-secrets}
mkdir -p "$dir" && chmod 700 "$dir"
make_file() { [ -s "$dir/$1" ] || { (umask 077; "${@:2}" > "$dir/$1"); echo "created $dir/$1"; }; }
random() { python3 -c "import secrets; print(secrets.token_urlsafe($1))"; }
make_file field_encryption_keys python3 -c "import base64, os; print(base64.urlsafe_b64encode(os.urandom(32)).decode())"
make_file metrics_token random 32
make_file grafana_admin_password random 18
if [ ! -s "$dir/tls.crt" ]; then
  (umask 077; openssl req -x509 -newkey rsa:2048 -nodes -days 365 -subj "/CN=localhost" \
    -keyout "$dir/tls.key" -out "$dir/tls.crt" 2>/dev/null)
  echo "created $dir/tls.crt and $dir/tls.key (self-signed)"
fi
