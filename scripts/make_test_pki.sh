#!/usr/bin/env bash
# scripts/make_test_pki.sh: generates certdeploy's test PKI with the openssl CLI (OpenSSL 3).
#
# Usage: bash scripts/make_test_pki.sh OUTDIR
#
# Used by the unit tests (ctest fixture `pki`), the CLI tests and the demo. Idempotent: when
# OUTDIR already holds a PKI made by this version of the script less than 5 days ago it returns
# at once (soon.pfx must keep "expiring soon" for the demo). Otherwise it regenerates everything
# in a temporary directory and moves the files into OUTDIR. Prints one line when it generated.
#
# The chain is shaped like Sectigo's S/MIME chain, with a cross-signed root:
#
#   root-a        CN=Test USERTrust RSA Certification Authority,O=Test Trust Network,C=US
#                 (self-signed)
#   root-b        CN=Test Public Email Protection Root R46,O=Test CA Ltd,C=GB (self-signed)
#   root-b-cross  the same subject and key as root-b, issued by root-a
#   ca            CN=Test Public Email Protection CA R36,O=Test CA Ltd,C=GB, signed by root-b's key
#                 (so it chains to either root-b variant)
#   users         end entities signed by ca: CA:FALSE, EKU emailProtection+clientAuth, keyUsage
#                 digitalSignature+keyEncipherment, rfc822Name SAN + subject emailAddress
#
# All keys are RSA 2048 with SHA-256 unless stated. Files written to OUTDIR:
#   password.txt                 the PFX password "Test-Pa55word!" (no trailing newline)
#   nonascii-password.txt        "Pässwörd-1" in UTF-8 (for nonascii.pfx only)
#   generated-at.txt             Unix time at which the PKI was made; tests judge validity at
#                                that time plus one hour, so results never depend on the date
#   NAME.pem NAME.der            every certificate (roots, ca, each user certificate below)
#   NAME.sha1 NAME.sha256        its thumbprints, lowercase hex (`openssl x509 -fingerprint -sha1`
#                                without colons; sha256sum of the DER)
#   NAME.key                     user and CA private keys (PKCS#8 PEM, unencrypted)
#   chain.pem                    ca + root-b-cross + root-a (what a user PFX carries)
#   trust-bundle.pem             root-b (self-signed) + root-a + ca (for --trust-bundle)
#   impostor-ca.pem              self-signed, named like ca but with another key (bad signature)
#   cycle-a.pem cycle-b.pem      two CAs that issued each other (a loop without a root)
#   sha1-root.pem                self-signed root signed with SHA-1
#   sha1-root-user.pem           alice@contoso.com under sha1-root (SHA-256)
#   connector.key                RSA 2048 PKCS#8 PEM: the Intune PFX connector's key pair
#   connector.pub                its public key, PEM SubjectPublicKeyInfo
#   connector-rsa.pub            its public key, PEM PKCS#1 ("BEGIN RSA PUBLIC KEY")
#   manifest.csv                 userPrincipalName,pfxFile,passwordFile for alice, bob, carol, o'neil
#   garbage.bin                  random bytes
#   truncated.pfx                the first half of alice.pfx
# PFX files (leaf + key + ca + root-b-cross + root-a, modern encryption, unless stated):
#   alice.pfx bob.pfx carol.pfx oneil.pfx (o'neil@contoso.com)
#   alice-legacy.pfx   `-legacy`: RC2-40 certificates, 3DES key
#   shuffled.pfx       alice, chain in scrambled order with duplicates (and the leaf twice)
#   leaf-only.pfx      alice without CA certificates
#   certs-only.pfx     alice and the chain, no private key
#   key-mismatch.pfx   alice's private key with bob's certificate and the chain
#   expired.pfx        alice@contoso.com, notAfter 30 days ago
#   not-yet-valid.pfx  alice@contoso.com, notBefore in 30 days
#   soon.pfx           alice@contoso.com, expires 10 days after generation
#   mismatch.pfx       dave@fabrikam.com (tests pass the UPN alice@contoso.com)
#   mixedcase.pfx      Erin.Smith@Contoso.COM (UPN erin.smith@contoso.com is valid)
#   weak-key.pfx       alice@contoso.com, RSA 1024
#   sha1.pfx           alice@contoso.com, leaf signed with SHA-1
#   no-eku.pfx         alice@contoso.com, EKU clientAuth only
#   no-keyenc.pfx      alice@contoso.com, keyUsage digitalSignature only
#   nonascii.pfx       alice@contoso.com, password from nonascii-password.txt
#   ec.pfx             alice@contoso.com, P-256 key, keyUsage digitalSignature+keyAgreement
set -euo pipefail

readonly SCRIPT_VERSION=1
readonly PASSWORD='Test-Pa55word!'
readonly NONASCII_PASSWORD='Pässwörd-1'
readonly MAX_AGE_MINUTES=$((5 * 24 * 60))

if [[ $# -ne 1 || -z $1 ]]; then
  echo "usage: $0 OUTDIR" >&2
  exit 2
fi
out=$1
stamp="$out/.make_test_pki.stamp"
fresh() {
  [[ -f $stamp && $(<"$stamp") == "$SCRIPT_VERSION" &&
     -n $(find "$stamp" -mmin -"$MAX_AGE_MINUTES") ]]
}
fresh && exit 0

# One generation at a time per OUTDIR (ctest runs and the demo may start together); whoever
# waited finds a fresh PKI.
mkdir -p "$out"
out=$(cd "$out" && pwd)  # Absolute: the work happens in another directory.
stamp="$out/.make_test_pki.stamp"
exec 9>"$out/.make_test_pki.lock"
flock 9
fresh && exit 0
tmp=$(mktemp -d "$out/.gen.XXXXXX")
work="$tmp/work"
mkdir -p "$work"
trap 'rc=$?; wait; rm -rf "$tmp"; ((rc == 0)) || echo "make_test_pki.sh: failed" >&2' EXIT
cd "$tmp"

# Runs openssl quietly: its output is shown only if it fails.
ossl() {
  local output
  if ! output=$(openssl "$@" 2>&1); then
    printf 'make_test_pki.sh: openssl %s failed:\n%s\n' "$*" "$output" >&2
    return 1
  fi
}

# spawn CMD...: runs CMD in the background, at most 4 at a time; join waits for all of them and
# fails if any failed. Each openssl start costs ~40 ms, so parallel runs save seconds.
jobs_pids=()
join() {
  local pid
  for pid in "${jobs_pids[@]}"; do wait "$pid"; done
  jobs_pids=()
}
spawn() {
  "$@" &
  jobs_pids+=($!)
  if ((${#jobs_pids[@]} >= 4)); then join; fi
}

utc() { date -u -d "@$1" +%Y%m%d%H%M%SZ; }
T0=$(date -u +%s)
readonly T0
readonly DAY=86400
printf '%s' "$T0" >generated-at.txt
printf '%s' "$PASSWORD" >password.txt
printf '%s' "$NONASCII_PASSWORD" >nonascii-password.txt

# ---- keys (generated in parallel: RSA key generation dominates the run time) ----
for k in root-a root-b ca alice bob carol oneil misc connector; do
  spawn ossl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$k.key"
done
spawn ossl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:1024 -out weak.key
spawn ossl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out ec.key
join

# ---- CA certificates ----
cat >"$work/ca.cnf" <<EOF
[ req ]
distinguished_name = dn
[ dn ]
[ root ]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[ cross ]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
[ plain_ca ]
basicConstraints = critical, CA:TRUE
[ impostor ]
basicConstraints = critical, CA:TRUE
subjectKeyIdentifier = none
authorityKeyIdentifier = none
[ issuing ]
basicConstraints = critical, CA:TRUE, pathlen:0
keyUsage = critical, keyCertSign, cRLSign
extendedKeyUsage = emailProtection, clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
EOF
readonly ROOT_A_DN="/C=US/O=Test Trust Network/CN=Test USERTrust RSA Certification Authority"
readonly ROOT_B_DN="/C=GB/O=Test CA Ltd/CN=Test Public Email Protection Root R46"
readonly CA_DN="/C=GB/O=Test CA Ltd/CN=Test Public Email Protection CA R36"

ossl req -new -x509 -config "$work/ca.cnf" -extensions root -key root-a.key -subj "$ROOT_A_DN" \
  -days 7300 -sha256 -set_serial 0x0a01 -out root-a.pem
ossl req -new -x509 -config "$work/ca.cnf" -extensions root -key root-b.key -subj "$ROOT_B_DN" \
  -days 7300 -sha256 -set_serial 0x0b01 -out root-b.pem
ossl req -new -config "$work/ca.cnf" -key root-b.key -subj "$ROOT_B_DN" -out "$work/root-b.csr"
ossl x509 -req -in "$work/root-b.csr" -CA root-a.pem -CAkey root-a.key -set_serial 0x0b02 \
  -days 5000 -sha256 -extfile "$work/ca.cnf" -extensions cross -out root-b-cross.pem
ossl req -new -config "$work/ca.cnf" -key ca.key -subj "$CA_DN" -out "$work/ca.csr"
ossl x509 -req -in "$work/ca.csr" -CA root-b.pem -CAkey root-b.key -set_serial 0x0c01 \
  -days 3650 -sha256 -extfile "$work/ca.cnf" -extensions issuing -out ca.pem

# Odd CA certificates for chain-building tests (keys reused: only names and signatures matter).
# impostor-ca: self-signed, with the issuing CA's name but another key and no key identifiers.
ossl req -new -x509 -config "$work/ca.cnf" -extensions impostor -key misc.key -subj "$CA_DN" \
  -days 3650 -sha256 -set_serial 0x0d01 -out impostor-ca.pem
# cycle-a and cycle-b: each issued by the other (a cross-signing loop, no self-signed root).
ossl req -new -x509 -config "$work/ca.cnf" -extensions plain_ca -key carol.key \
  -subj "/O=Test CA Ltd/CN=Test Cycle B" -days 3650 -out "$work/cycle-b-self.pem"
ossl req -new -config "$work/ca.cnf" -key bob.key -subj "/O=Test CA Ltd/CN=Test Cycle A" \
  -out "$work/cycle-a.csr"
ossl x509 -req -in "$work/cycle-a.csr" -CA "$work/cycle-b-self.pem" -CAkey carol.key \
  -set_serial 0x0e01 -days 3650 -sha256 -extfile "$work/ca.cnf" -extensions plain_ca \
  -out cycle-a.pem
ossl req -new -config "$work/ca.cnf" -key carol.key -subj "/O=Test CA Ltd/CN=Test Cycle B" \
  -out "$work/cycle-b.csr"
ossl x509 -req -in "$work/cycle-b.csr" -CA cycle-a.pem -CAkey bob.key -set_serial 0x0e02 \
  -days 3650 -sha256 -extfile "$work/ca.cnf" -extensions plain_ca -out cycle-b.pem
# sha1-root: a self-signed root whose self-signature uses SHA-1 (harmless: nobody checks it),
# and sha1-root-user, a SHA-256 user certificate under it.
ossl req -new -x509 -config "$work/ca.cnf" -extensions root -key root-b.key \
  -subj "/O=Test CA Ltd/CN=Test SHA1 Root" -days 3650 -sha1 -set_serial 0x0f01 -out sha1-root.pem
ossl req -new -config "$work/ca.cnf" -key alice.key \
  -subj "/C=US/O=Contoso/CN=Alice Example/emailAddress=alice@contoso.com" \
  -out "$work/sha1-root-user.csr"
ossl x509 -req -in "$work/sha1-root-user.csr" -CA sha1-root.pem -CAkey root-b.key \
  -set_serial 0x0f02 -days 365 -sha256 -out sha1-root-user.pem

# ---- end-entity certificates, issued with `openssl ca` (it alone sets arbitrary dates) ----
# Each certificate gets its own `openssl ca` database so that they can be issued in parallel;
# serials are still distinct.

# user NAME "Common Name" EMAIL KEY [option=value ...]   (in the background)
#   options: start=EPOCH end=EPOCH md=sha1 ku="..." eku="..."
serial=4096
user() {
  serial=$((serial + 1))
  spawn issue_user "$serial" "$@"
}
issue_user() {
  local serial=$1 name=$2 cn=$3 email=$4 key=$5
  shift 5
  local start=$((T0 - DAY)) end=$((T0 + 365 * DAY)) md=sha256
  local ku="digitalSignature, keyEncipherment" eku="emailProtection, clientAuth"
  local opt
  for opt in "$@"; do
    case $opt in
      start=*) start=${opt#start=} ;;
      end=*) end=${opt#end=} ;;
      md=*) md=${opt#md=} ;;
      ku=*) ku=${opt#ku=} ;;
      eku=*) eku=${opt#eku=} ;;
      *) echo "make_test_pki.sh: bad option $opt" >&2; return 1 ;;
    esac
  done
  # The config syntax treats ' as a quote: escape it (for o'neil@contoso.com).
  local conf_email=${email//\'/\\\'}
  cat >"$work/$name.ext" <<EOF
[ ext ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, $ku
extendedKeyUsage = $eku
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = email:$conf_email
EOF
  local db="$work/ca-$name"
  mkdir -p "$db"
  touch "$db/index.txt"
  printf '%x\n' "$serial" >"$db/serial"
  cat >"$db/ca.cnf" <<EOF
[ ca ]
default_ca = test_ca
[ test_ca ]
database = $db/index.txt
new_certs_dir = $db
serial = $db/serial
default_md = sha256
policy = policy_any
unique_subject = no
[ policy_any ]
countryName = optional
organizationName = optional
commonName = supplied
emailAddress = optional
EOF
  ossl req -new -config "$work/ca.cnf" -key "$key.key" \
    -subj "/C=US/O=Contoso/CN=$cn/emailAddress=$email" -out "$work/$name.csr"
  ossl ca -batch -notext -preserveDN -config "$db/ca.cnf" -cert ca.pem -keyfile ca.key \
    -in "$work/$name.csr" -out "$name.pem" -md "$md" -startdate "$(utc "$start")" \
    -enddate "$(utc "$end")" -extfile "$work/$name.ext" -extensions ext
}

user alice "Alice Example" alice@contoso.com alice
user bob "Bob Example" bob@contoso.com bob
user carol "Carol Example" carol@contoso.com carol
user oneil "Sean O'Neil" "o'neil@contoso.com" oneil
user expired "Alice Example" alice@contoso.com misc start=$((T0 - 400 * DAY)) end=$((T0 - 30 * DAY))
user not-yet-valid "Alice Example" alice@contoso.com misc \
  start=$((T0 + 30 * DAY)) end=$((T0 + 400 * DAY))
user soon "Alice Example" alice@contoso.com misc end=$((T0 + 10 * DAY))
user mismatch "Dave Example" dave@fabrikam.com misc
user mixedcase "Erin Smith" Erin.Smith@Contoso.COM misc
user weak-key "Alice Example" alice@contoso.com weak
user sha1 "Alice Example" alice@contoso.com misc md=sha1
user no-eku "Alice Example" alice@contoso.com misc eku=clientAuth
user no-keyenc "Alice Example" alice@contoso.com misc ku=digitalSignature
user nonascii "Alice Example" alice@contoso.com misc
user ec "Alice Example" alice@contoso.com ec ku="digitalSignature, keyAgreement"
join

# ---- bundles ----
cat ca.pem root-b-cross.pem root-a.pem >chain.pem
cat root-b.pem root-a.pem ca.pem >trust-bundle.pem

# ---- PFX files ----
# pfx OUT LEAF KEY CERTFILE [extra pkcs12 options...]; CERTFILE "-" means none.
pfx() {
  local outfile=$1 leaf=$2 key=$3 certfile=$4
  shift 4
  local args=(pkcs12 -export -in "$leaf.pem" -inkey "$key.key" -passout file:password.txt
              -out "$outfile")
  [[ $certfile != - ]] && args+=(-certfile "$certfile")
  spawn ossl "${args[@]}" "$@"
}
pfx alice.pfx alice alice chain.pem -name alice@contoso.com
pfx alice-legacy.pfx alice alice chain.pem -legacy -name alice@contoso.com
pfx bob.pfx bob bob chain.pem
pfx carol.pfx carol carol chain.pem
pfx oneil.pfx oneil oneil chain.pem
cat root-a.pem ca.pem root-b-cross.pem alice.pem ca.pem root-a.pem >"$work/shuffled.pem"
pfx shuffled.pfx alice alice "$work/shuffled.pem"
pfx leaf-only.pfx alice alice -
spawn ossl pkcs12 -export -nokeys -in alice.pem -certfile chain.pem -passout file:password.txt \
  -out certs-only.pfx
# The CLI refuses a key that matches no certificate, except with -nocerts: then -certfile
# certificates are still added, none of them matching the key.
cat bob.pem chain.pem >"$work/bob-chain.pem"
spawn ossl pkcs12 -export -nocerts -inkey alice.key -certfile "$work/bob-chain.pem" \
  -passout file:password.txt -out key-mismatch.pfx
for n in expired not-yet-valid soon mismatch mixedcase sha1 no-eku no-keyenc; do
  pfx "$n.pfx" "$n" misc chain.pem
done
pfx weak-key.pfx weak-key weak chain.pem
pfx ec.pfx ec ec chain.pem
spawn ossl pkcs12 -export -in nonascii.pem -inkey misc.key -certfile chain.pem \
  -passout file:nonascii-password.txt -out nonascii.pfx
join

head -c 1500 /dev/urandom >garbage.bin
size=$(stat -c %s alice.pfx)
head -c $((size / 2)) alice.pfx >truncated.pfx

# ---- DER copies and thumbprints of every certificate ----
thumbprints() {
  # Each file holds one PEM block: its base64 body is the DER (faster than one more openssl).
  sed -e '/^-----/d' "$1.pem" | base64 -d >"$1.der"
  openssl x509 -in "$1.pem" -noout -fingerprint -sha1 |
    sed -e 's/^.*=//' -e 's/://g' | tr 'A-F' 'a-f' | tr -d '\n' >"$1.sha1"
  sha256sum "$1.der" | cut -d' ' -f1 | tr -d '\n' >"$1.sha256"
}
for pem in root-a root-b root-b-cross ca impostor-ca cycle-a cycle-b sha1-root sha1-root-user alice bob carol oneil expired not-yet-valid soon \
    mismatch mixedcase weak-key sha1 no-eku no-keyenc nonascii ec; do
  spawn thumbprints "$pem"
done
join

# ---- connector key pair ----
ossl pkey -in connector.key -pubout -out connector.pub
ossl rsa -in connector.key -RSAPublicKey_out -out connector-rsa.pub

# ---- manifest ----
{
  echo 'userPrincipalName,pfxFile,passwordFile'
  echo 'alice@contoso.com,alice.pfx,password.txt'
  echo 'bob@contoso.com,bob.pfx,password.txt'
  echo 'carol@contoso.com,carol.pfx,password.txt'
  echo "o'neil@contoso.com,oneil.pfx,password.txt"
} >manifest.csv

# ---- publish ----
rm -rf "$work"
chmod 600 ./*.key
mv -f ./* "$out"/
printf '%s' "$SCRIPT_VERSION" >"$stamp"
echo "test PKI written to $out"
