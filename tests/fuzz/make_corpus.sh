#!/usr/bin/env bash
# tests/fuzz/make_corpus.sh: regenerates the fuzzers' fixed data (tests/fuzz/data/) and seed
# corpora (tests/fuzz/corpus/<fuzzer>/) from a fresh test PKI (scripts/make_test_pki.sh) with the
# openssl CLI. Run it by hand only when the seeds must change; the output is committed. The
# fuzzers judge validity at the PKI's generated-at time + 1 hour, which this script writes into
# data/now.txt (so seeds never expire).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
pki=$(mktemp -d)
trap 'rm -rf "$pki"' EXIT
bash "$root/scripts/make_test_pki.sh" "$pki" >/dev/null
cd "$pki"
pass=file:password.txt
data="$here/data" corpus="$here/corpus"
rm -rf "$data" "$corpus"  # regressions/ is kept: findings are never regenerated
mkdir -p "$data/inbox" "$corpus"/{pkcs12_fuzzer,connector_key_fuzzer,manifest_fuzzer,config_fuzzer,api_body_fuzzer}

# ---- fixed data ----
echo $(( $(<generated-at.txt) + 3600 )) >"$data/now.txt"
cp trust-bundle.pem connector.pub "$data/"
openssl pkcs12 -export -in alice.pem -inkey alice.key -passout "$pass" -out "$data/inbox/alice.pfx"
openssl pkcs12 -export -in ec.pem -inkey ec.key -passout "$pass" -out "$data/inbox/ec.pfx"
cp password.txt "$data/inbox/password.txt"
printf 'userPrincipalName,pfxFile,passwordFile\nalice@contoso.com,alice.pfx,password.txt\n' \
  >"$data/inbox/manifest.csv"
printf 'userPrincipalName,pfxFile,password,intendedPurpose\r\n"alice@contoso.com",ec.pfx,Test-Pa55word!,smimeEncryption\r\nbob@contoso.com,missing.pfx,x,\r\n' \
  >"$data/inbox/inline.csv"

# ---- pkcs12_fuzzer: small PFX files of every kind, and certificate chains ----
c=$corpus/pkcs12_fuzzer
openssl pkcs12 -export -in alice.pem -inkey alice.key -passout "$pass" -out "$c/aes-leaf.pfx"
openssl pkcs12 -export -in ec.pem -inkey ec.key -certfile ca.pem -passout "$pass" -out "$c/aes-ec-ca.pfx"
openssl pkcs12 -export -legacy -in ec.pem -inkey ec.key -passout "$pass" -out "$c/legacy-rc2-ec.pfx"
openssl pkcs12 -export -in ec.pem -inkey ec.key -keypbe PBE-SHA1-3DES -certpbe PBE-SHA1-3DES \
  -macalg sha1 -passout "$pass" -out "$c/3des-ec.pfx"
openssl pkcs12 -export -in ec.pem -inkey ec.key -certfile chain.pem -keypbe NONE -certpbe NONE \
  -nomac -passout "$pass" -out "$c/plain-nomac-chain.pfx"
openssl pkcs12 -export -in ec.pem -inkey ec.key -keypbe NONE -certpbe NONE -nomac \
  -passout "$pass" -out "$c/plain-nomac-ec.pfx"
openssl pkcs12 -export -nokeys -in ca.pem -keypbe NONE -certpbe NONE -nomac -passout "$pass" \
  -out "$c/plain-certs-only.pfx"
openssl pkcs12 -export -in ec.pem -inkey ec.key -passout pass:other -out "$c/other-password.pfx"
cp alice.der "$c/alice.der"
cat ec.pem chain.pem >"$c/ec-chain.pem"
cat cycle-a.pem cycle-b.pem >"$c/cycle.pem"
cat sha1-root-user.pem sha1-root.pem impostor-ca.pem >"$c/sha1-impostor.pem"
# notAfter in the year 9966 (GeneralizedTime): past what SystemTime can hold (finding 2).
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout /dev/null \
  -subj "/CN=Far Future Root" -days 2900000 -out "$c/far-future-root.pem" 2>/dev/null

# Iteration bombs (docs/security.md): every iteration count of an openssl export (2048, for the
# MAC, the encrypted certificates and the encrypted key) rewritten in the DER, descending into
# OCTET STRINGs that hold DER. Writing a real 2^31-1 export would take minutes; these are refused
# before any key derivation runs.
python3 - "$c/aes-leaf.pfx" <<'PY'
import sys
def tlv(b, i):  # Strict: raises unless a whole TLV starts at i.
    if i + 2 > len(b): raise ValueError("short")
    tag = b[i]; i += 1; n = b[i]; i += 1
    if n & 0x80:
        k = n & 0x7f
        if k == 0 or k > 4 or i + k > len(b): raise ValueError("length")
        n = int.from_bytes(b[i:i + k], "big"); i += k
    if i + n > len(b): raise ValueError("overrun")
    return tag, i, n
def length(n):
    if n < 0x80: return bytes([n])
    body = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(body)]) + body
def rewrite(b, old, new):
    out, i = b"", 0
    while i < len(b):
        tag, start, n = tlv(b, i)
        value = b[start:start + n]
        if tag == 0x02 and int.from_bytes(value, "big", signed=True) == old:
            value = new.to_bytes((new.bit_length() + 8) // 8, "big", signed=True)
        elif tag & 0x20:
            value = rewrite(value, old, new)
        elif tag == 0x04:
            try: value = rewrite(value, old, new)
            except Exception: pass
        out += bytes([tag]) + length(len(value)) + value
        i = start + n
    return out
pfx = open(sys.argv[1], "rb").read()
for name, count in (("iter-bomb-2147483647.pfx", 2147483647), ("iter-over-cap.pfx", 1000001)):
    open(name, "wb").write(rewrite(pfx, 2048, count))
PY
mv iter-bomb-2147483647.pfx iter-over-cap.pfx "$c/"

# ---- connector_key_fuzzer ----
c=$corpus/connector_key_fuzzer
cp connector.pub "$c/spki.pem"
cp connector-rsa.pub "$c/pkcs1-public.pem"
cp connector.key "$c/pkcs8-private.pem"
openssl rsa -in connector.key -traditional -out "$c/pkcs1-private.pem" 2>/dev/null
openssl pkey -in ec.key -pubout -out "$c/ec-public.pem"
openssl pkey -in weak.key -pubout -out "$c/rsa1024-public.pem" 2>/dev/null || true
# The CNG RSAPUBLICBLOB Export-IntunePublicKey writes: "RSA1", BitLength, cbPublicExp, cbModulus,
# cbPrime1 = cbPrime2 = 0 (little-endian 32-bit), then the exponent and the modulus big-endian.
python3 - "$c/cng.blob" <<'PY'
import struct, subprocess, sys
text = subprocess.run(["openssl", "rsa", "-pubin", "-in", "connector.pub", "-noout", "-modulus"],
                      capture_output=True, text=True, check=True).stdout
n = bytes.fromhex(text.strip().split("=", 1)[1])
e = (65537).to_bytes(3, "big")
with open(sys.argv[1], "wb") as f:
    f.write(b"RSA1" + struct.pack("<IIIII", len(n) * 8, len(e), len(n), 0, 0) + e + n)
PY

# ---- manifest_fuzzer ----
c=$corpus/manifest_fuzzer
cp manifest.csv "$c/password-files.csv"
cp "$data/inbox/inline.csv" "$c/inline-crlf.csv"
printf '\xef\xbb\xbfpfxFile,userPrincipalName,passwordFile\n"a, ""b"".pfx",alice@contoso.com,/abs/pw.txt\n\nbad-upn,x.pfx,p\n"open quote,x\n' \
  >"$c/bom-quoted.csv"
cp "$root/packaging/manifest.csv.example" "$c/example.csv"

# ---- config_fuzzer ----
c=$corpus/config_fuzzer
cp "$root/packaging/certdeploy.yaml.example" "$c/example.yaml"
cat >"$c/minimal.yaml" <<'YAML'
tenant: {id: contoso.onmicrosoft.com}
auth: {clientId: 11111111-2222-3333-4444-555555555555, clientSecretEnv: CERTDEPLOY_CLIENT_SECRET}
connector: {publicKeyFile: connector.pub}
YAML
cat >"$c/service.yaml" <<YAML
tenant: {id: contoso.onmicrosoft.com, cloud: usgov, graphUrl: 'http://127.0.0.1:1', authorityUrl: 'http://127.0.0.1:1'}
auth: {clientId: 11111111-2222-3333-4444-555555555555, certificateFile: app.crt, keyFile: app.key}
connector: {publicKeyFile: /etc/certdeploy/connector.pub, paddingScheme: oaepSha256}
profiles:
  platforms: [ios, macos, androidWorkProfile]
  namePrefix: "S/MIME"
  assignTo: {groups: [6f0c9a1e-5b1d-4c8e-9f3a-2b7d8e1c4a50], excludeGroups: []}
  trustBundle: extra.pem
pfx: {intendedPurpose: smimeSigning, expiresSoonDays: 14, pruneExpired: true}
limits: {writesPer20s: 50, requestsPer20s: 500, concurrency: 4}
service:
  listen: 0.0.0.0:8443
  tls: {certFile: tls.crt, keyFile: tls.key, clientCaFile: clients.pem}
  store: "sqlite:state.db"
  inbox: inbox
  maxBodyBytes: 65536
  apiKeys:
    - {name: hr, sha256: $(printf hr-key | sha256sum | cut -c1-64), scopes: [enroll, read]}
    - {name: ops, sha256: $(printf ops-key | sha256sum | cut -c1-64), scopes: [rollouts]}
YAML
printf 'tenant: {id: x}\nauth: {clientId: y, clientSecret: inline}\nconnector: {paddingScheme: pkcs1}\n' \
  >"$c/refused.yaml"

# ---- api_body_fuzzer: first byte = route (see api_body_fuzzer.cc), then the body ----
c=$corpus/api_body_fuzzer
b64() { base64 -w0 "$1"; }
printf '\x00{"userPrincipalName":"alice@contoso.com","pfx":"%s","password":"Test-Pa55word!"}' \
  "$(b64 "$data/inbox/ec.pfx")" >"$c/enroll-ec.json"
printf '\x08{"userPrincipalName":"alice@contoso.com","pfx":"%s","password":"Test-Pa55word!","intendedPurpose":"smimeSigning"}' \
  "$(b64 "$data/inbox/alice.pfx")" >"$c/enroll-idempotent.json"
printf '\x00{"userPrincipalName":"bob@contoso.com","pfx":"%s","password":"wrong","dryRun":true}' \
  "$(b64 "$data/inbox/ec.pfx")" >"$c/enroll-bad.json"
printf '\x01{"name":"wave rollout","manifest":"manifest.csv","startAt":"2026-12-01T08:00:00.250+01:00","waves":[{"percent":10},{"percent":100,"after":"P1DT2H30.5S"}],"haltOnFailurePercent":5}' \
  >"$c/rollout-waves.json"
printf '\x01{"name":"inline","manifest":"inline.csv","dryRun":false}' >"$c/rollout-inline.json"
printf '\x01{"name":"outside","manifest":"../../etc/passwd","dryRun":true}' >"$c/rollout-outside.json"
printf '\x02' >"$c/pause.bin"
printf '\x03' >"$c/resume.bin"
printf '\x04' >"$c/cancel.bin"
printf '\x05does-not-exist' >"$c/get-enrollment.bin"
printf '\x06' >"$c/get-rollout.bin"
echo "corpus written under $here"
