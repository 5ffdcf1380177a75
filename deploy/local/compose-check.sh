#!/usr/bin/env bash
# Validates docker-compose.yml with the documented example environment, once as is and
# once with every profile enabled.
set -euo pipefail
cd "$(dirname "$0")/../.."
export SPOTDESK_ENV_FILE=.env.example
docker-compose --env-file .env.example -f docker-compose.yml config -q
COMPOSE_PROFILES=paper,monitoring,ops \
  docker-compose --env-file .env.example -f docker-compose.yml config -q
echo "compose: docker-compose.yml is valid for every profile"
