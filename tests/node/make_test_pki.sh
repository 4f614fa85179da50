#!/usr/bin/env bash
# make_test_pki.sh DIR: a throw-away CA and a server certificate it signed, for TLS tests.
# Writes DIR/ca.pem, DIR/server.pem, DIR/server.key (P-256; valid 2 days; the server
# certificate names localhost, evil.test and 127.0.0.1).
set -euo pipefail
dir=${1:?usage: make_test_pki.sh DIR}
mkdir -p "$dir"
cd "$dir"
cat > server.ext <<'EXT'
subjectAltName=DNS:localhost,DNS:evil.test,IP:127.0.0.1
basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=serverAuth
EXT
ec=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes)
openssl req -x509 "${ec[@]}" -keyout ca.key -out ca.pem -days 2 -subj '/CN=Causeloop Test CA' \
  -addext 'keyUsage=critical,keyCertSign,cRLSign' 2>/dev/null
openssl req -new "${ec[@]}" -keyout server.key -out server.csr -subj '/CN=localhost' 2>/dev/null
openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem \
  -days 2 -extfile server.ext 2>/dev/null
