#!/usr/bin/env bash
# Grep the server log of the regression suite for the secrets and tokens it
# used: none may appear in any message.  Runs inside pg_virtualenv.
set -euo pipefail
# CR_SERVER_LOG names the log of a cluster that pg_lsclusters does not know
# (scripts/matrix.sh)
log=${CR_SERVER_LOG:-$(pg_lsclusters -h | awk -v port="${PGPORT:-5432}" '$3 == port {print $NF}' | head -n 1)}
if [ ! -s "$log" ]; then
    echo "server log not found or empty: '$log'" >&2
    exit 1
fi
lines=$(wc -l < "$log")
# client secrets; tokens and client assertions (JWTs begin eyJ); private
# keys, their passwords and PKCS#12 passwords (sql/certificates.sql); the
# managed identity header and federated tokens (sql/identities.sql)
if grep -nE 'test-secret|sup3r-s3cret|Bearer |eyJ|client_assertion=|PRIVATE KEY|key-pass-123|pfx-pass-123|id-header-s3cret|fed-token-' "$log"; then
    echo "secret, key or token found in the server log ($log)" >&2
    exit 1
fi
echo "server log ($lines lines) holds no client secret, key, password, assertion and no token"
