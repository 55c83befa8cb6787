#!/usr/bin/env bash
# certdeploy demo: the whole flow on the embedded default (SQLite + the sandbox tenant), with
# nothing to configure.
#
#   scripts/demo.sh
#
# It installs missing Debian packages, builds certdeploy (Release), makes a demo PKI under demo/
# (a Sectigo-shaped cross-signed chain, users' PFX files, a connector key pair), starts
# `certdeploy sandbox`, then shows: validate (a good and a bad PFX), plan (dry run), apply, a
# second plan with nothing to do, `serve` on SQLite with an HR enrollment (curl), a scheduled
# two-wave rollout, and a summary read back from the sandbox. Every process it starts is stopped
# on exit, Ctrl-C or failure. Idempotent: run it as often as you like.
# CERTDEPLOY_BIN=path skips the build and uses that binary.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

bold() { printf '\n\033[1m== %s ==\033[0m\n' "$1"; }
note() { printf '   %s\n' "$*"; }
die() { echo "demo: $*" >&2; exit 1; }

source scripts/lib/background.sh

if [ -z "${CERTDEPLOY_BIN:-}" ]; then
  source scripts/deps.sh
  certdeploy_install_deps
  bold "Build (Release)"
  cmake -S . -B build/release -G Ninja -DCMAKE_BUILD_TYPE=Release -DCERTDEPLOY_BUILD_TESTS=OFF >/dev/null
  cmake --build build/release --target certdeploy
  bin=$root/build/release/certdeploy
else
  bin=$(readlink -f "$CERTDEPLOY_BIN")
fi

bold "Demo PKI (demo/pki)"
bash scripts/make_test_pki.sh demo/pki
pki=$root/demo/pki
run=$root/demo/run
rm -rf "$run"
mkdir -p "$run/inbox"
note "root CA, cross-signed R46, issuing CA R36; PFX files for alice, bob, carol, o'neil, erin"
note "connector key pair: demo/pki/connector.key (the sandbox plays the connector), connector.pub"

bold "validate: a good PFX (legacy encryption, cross-signed chain)"
"$bin" validate --pfx "$pki/alice-legacy.pfx" --upn alice@contoso.com \
  --password-file "$pki/password.txt" --connector-key "$pki/connector.pub"

bold "validate: a PFX issued to another address (not deployable, exit 1)"
status=0
"$bin" validate --pfx "$pki/mismatch.pfx" --upn alice@contoso.com \
  --password-file "$pki/password.txt" || status=$?
[ "$status" -eq 1 ] || die "expected exit status 1, got $status"

bold "Sandbox tenant"
export DEMO_CLIENT_SECRET="demo-client-secret-$(date +%s)"
client_id=3f2a9c1e-7b4d-4e5f-9a8b-1c2d3e4f5a6b
start_bg "$run/sandbox.out" "$run/sandbox.log" "$bin" sandbox --listen 127.0.0.1:0 \
  --connector-key "$pki/connector.key" --client-id "$client_id" \
  --client-secret-env DEMO_CLIENT_SECRET --latency-ms 20
url=$bg_url
note "sandbox at $url (logs: demo/run/sandbox.log)"

group=6f0c9a1e-5b1d-4c8e-9f3a-2b7d8e1c4a50
api_key="demo-api-key-$(date +%s)"
api_key_sha=$(printf %s "$api_key" | sha256sum | cut -d' ' -f1)
cat >"$run/certdeploy.yaml" <<YAML
tenant:    { id: contoso.onmicrosoft.com, cloud: global, graphUrl: "$url", authorityUrl: "$url" }
auth:      { clientId: $client_id, clientSecretEnv: DEMO_CLIENT_SECRET }
connector: { providerName: "Microsoft Software Key Storage Provider", keyName: PFXEncryptionKey,
             publicKeyFile: $pki/connector.pub, paddingScheme: oaepSha512 }
profiles:  { platforms: [ios], namePrefix: "S/MIME", assignTo: { groups: [$group] },
             importedPfxProfile: true }
pfx:       { intendedPurpose: smimeEncryption, expiresSoonDays: 3 }
limits:    { writesPer20s: 100, requestsPer20s: 1000, concurrency: 8 }
service:
  listen: 127.0.0.1:0
  store: "sqlite:$run/state.db"
  inbox: $run/inbox
  apiKeys: [ { name: demo, sha256: $api_key_sha, scopes: [enroll, rollouts, read] } ]
YAML
cat >"$run/users.csv" <<CSV
userPrincipalName,pfxFile,passwordFile
alice@contoso.com,$pki/alice.pfx,$pki/password.txt
bob@contoso.com,$pki/bob.pfx,$pki/password.txt
"o'neil@contoso.com",$pki/oneil.pfx,$pki/password.txt
CSV
note "config: demo/run/certdeploy.yaml, manifest: demo/run/users.csv (3 users)"

bold "plan (dry run: token + GET requests only)"
"$bin" plan --config "$run/certdeploy.yaml" --manifest "$run/users.csv" --out "$run/plan.json"
note "plan file: demo/run/plan.json (no passwords, no PFX bytes)"

bold "apply the reviewed plan"
"$bin" apply --config "$run/certdeploy.yaml" --plan "$run/plan.json"

bold "plan again: nothing to do"
"$bin" plan --config "$run/certdeploy.yaml" --manifest "$run/users.csv"

bold "serve (SQLite) and an HR onboarding call"
start_bg "$run/serve.out" "$run/serve.log" "$bin" serve --config "$run/certdeploy.yaml"
api=$bg_url
note "daemon at $api (logs: demo/run/serve.log)"
curl -fsS "$api/healthz" >/dev/null && note "GET /healthz: ok"
body=$(jq -n --arg upn erin.smith@contoso.com --arg pfx "$(base64 -w0 "$pki/mixedcase.pfx")" \
  --rawfile pw "$pki/password.txt" '{userPrincipalName: $upn, pfx: $pfx, password: $pw}')
enrolled=$(printf %s "$body" | curl -fsS -X POST "$api/v1/enrollments" \
  -H "Authorization: Bearer $api_key" -H "Content-Type: application/json" \
  -H "Idempotency-Key: hr-onboarding-erin" --data-binary @-)
unset body
echo "POST /v1/enrollments -> $enrolled"
id=$(printf %s "$enrolled" | jq -r .id)
state=""
for _ in $(seq 1 300); do
  state=$(curl -fsS "$api/v1/enrollments/$id" -H "Authorization: Bearer $api_key")
  case $(printf %s "$state" | jq -r .status) in
    succeeded) break ;;
    failed) echo "$state"; die "enrollment failed" ;;
  esac
  sleep 0.2
done
echo "GET /v1/enrollments/$id -> $(printf %s "$state" | jq -c '{userPrincipalName, thumbprint, status}')"
[ "$(printf %s "$state" | jq -r .status)" = succeeded ] || die "enrollment did not finish"

bold "a scheduled two-wave rollout"
cp "$pki/carol.pfx" "$pki/bob.pfx" "$pki/password.txt" "$run/inbox/"
cat >"$run/inbox/wave.csv" <<CSV
userPrincipalName,pfxFile,passwordFile
carol@contoso.com,carol.pfx,password.txt
bob@contoso.com,bob.pfx,password.txt
CSV
note "manifest demo/run/inbox/wave.csv: carol (new) and bob (already imported: skipped)"
start_at=$(date -u -d '+2 seconds' +%Y-%m-%dT%H:%M:%SZ)
rollout=$(curl -fsS -X POST "$api/v1/rollouts" -H "Authorization: Bearer $api_key" \
  -H "Content-Type: application/json" \
  -d "{\"name\":\"demo rollout\",\"manifest\":\"wave.csv\",\"startAt\":\"$start_at\",
       \"waves\":[{\"percent\":50},{\"percent\":100,\"after\":\"PT2S\"}]}")
echo "POST /v1/rollouts -> $rollout"
rid=$(printf %s "$rollout" | jq -r .id)
curl -fsS "$api/v1/rollouts/$rid/plan" -H "Authorization: Bearer $api_key" -H "Accept: text/plain"
status=""
for _ in $(seq 1 300); do
  status=$(curl -fsS "$api/v1/rollouts/$rid" -H "Authorization: Bearer $api_key")
  case $(printf %s "$status" | jq -r .status) in
    succeeded) break ;;
    failed|cancelled|paused) echo "$status"; die "rollout ended $(printf %s "$status" | jq -r .status)" ;;
  esac
  sleep 0.2
done
echo "GET /v1/rollouts/$rid -> $(printf %s "$status" | jq -c '{status, currentWave, counts}')"
[ "$(printf %s "$status" | jq -r .status)" = succeeded ] || die "rollout did not finish"

bold "What the tenant holds now (read back from the sandbox)"
curl -fsS "$url/_sandbox/state" | jq -r '
  "Trusted and imported-PFX profiles:",
  (.deviceConfigurations | sort_by(."@odata.type", .displayName) | .[] | "  \(."@odata.type" | sub("#microsoft.graph."; ""))  \(.displayName)  assignments: \(.assignments | length)"),
  "userPfxCertificates:",
  (.userPfxCertificates | sort_by(.userPrincipalName) | .[] | "  \(.userPrincipalName)  \(.thumbprint)  \(.intendedPurpose)")'
curl -fsS "$url/_sandbox/stats" | jq -c '{requests, writes, throttled, duplicates, rejections}'
bold "Done"
note "everything ran against the local sandbox; demo/ holds the PKI and this run's files"
