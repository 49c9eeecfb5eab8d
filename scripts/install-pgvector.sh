#!/usr/bin/env bash
# Builds and installs the pgvector extension into the system PostgreSQL (Debian bookworm does not
# package it). The source comes through the Go module proxy, which serves any public repository as
# a module zip: that registry is reachable where plain GitHub downloads are not.
set -euo pipefail
PGVECTOR_VERSION="${PGVECTOR_VERSION:-v0.8.1}"
pg_config_bin="$(ls /usr/lib/postgresql/*/bin/pg_config 2>/dev/null | sort -V | tail -1 || true)"
[ -n "$pg_config_bin" ] || pg_config_bin="$(command -v pg_config || true)"
if [ -z "$pg_config_bin" ]; then echo "install-pgvector: pg_config not found (apt-get install postgresql-server-dev-15)" >&2; exit 1; fi
if [ -f "$("$pg_config_bin" --sharedir)/extension/vector.control" ]; then echo "install-pgvector: already installed"; exit 0; fi
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
export GOPATH="$work/gopath" GOFLAGS=-mod=mod
src="$(go mod download -json "github.com/pgvector/pgvector@${PGVECTOR_VERSION}" | sed -n 's/.*"Dir": "\(.*\)".*/\1/p')"
cp -r "$src" "$work/pgvector" && chmod -R u+w "$work/pgvector"
make -C "$work/pgvector" -s -j"$(nproc)" PG_CONFIG="$pg_config_bin" >/dev/null
make -C "$work/pgvector" -s install PG_CONFIG="$pg_config_bin" >/dev/null
chmod -R u+w "$work"
echo "install-pgvector: installed pgvector ${PGVECTOR_VERSION} into $("$pg_config_bin" --sharedir)/extension"
