#!/bin/sh
# compose-setup: the one-shot job that turns an empty hub into the demo docker-compose.yml promises.
# It runs in the gatehouse image (sh and curl, no jq) once the hub is ready, and deploy/check runs it
# unchanged against hubs on loopback.
#
#   1. an admin token, from the first admin's password (HTTP Basic);
#   2. the gateways (SETUP_GATEWAYS) registered, each with a token written to $SETUP_DIR/<name>.token,
#      which the gateway services read at start;
#   3. the demo's manifests applied (`gatehouse apply`): two APIs, two groups, two plans, two policies;
#   4. alice (staff) and bob (partners), portal password $GATEHOUSE_DEMO_PASSWORD, an application and an
#      API key each, the keys written to $SETUP_DIR/demo-keys.env, for calling the demo by hand;
#   5. the story's manifests (SETUP_DEMO_MANIFESTS: deploy/demo/manifests, the employees and payroll
#      APIs, groups support and hr) applied too, and `gatehouse demo seed`'s users (sam, priya, hana)
#      with a key each in $SETUP_DIR/demo-keys.txt, which the demo-traffic services play;
#   6. one published revision, which the gateways then enforce.
#
# Done once: $SETUP_DIR/setup-done marks it, so `docker compose up` again changes nothing (and the
# tokens and keys stay valid). `docker compose down -v` forgets everything, the hub's database too.
set -eu

hub=${GATEHOUSE_HUB_URL:-http://hub-1:8080}
out=${SETUP_DIR:-/run/gatehouse}
manifests=${SETUP_MANIFESTS:-/etc/gatehouse/manifests}
gateways=${SETUP_GATEWAYS:-gateway-1 gateway-2}
demo_password=${GATEHOUSE_DEMO_PASSWORD:-demo-password}
: "${GATEHOUSE_ADMIN_PASSWORD:?the first admin's password, to issue an admin token with}"

if [ -f "$out/setup-done" ]; then
  echo "compose-setup: already done ($out/setup-done); nothing to do"
  exit 0
fi
mkdir -p "$out"
response=$(mktemp)
trap 'rm -f "$response"' EXIT

# The first string value of field NAME in the last response. The hub writes compact JSON, and the
# values read here (secrets, ids) are plain ASCII without quotes, so grep is enough.
field() {
  grep -o "\"$1\": *\"[^\"]*\"" "$response" | head -n 1 | sed 's/.*"\([^"]*\)"$/\1/'
}

# call METHOD PATH [BODY] [ALLOWED_STATUS]: the admin API with the admin token; fails on any status
# other than 2xx or ALLOWED_STATUS (409 where "it is there already" is fine).
call() {
  status=$(curl -sS -o "$response" -w '%{http_code}' -X "$1" \
    -H "authorization: Bearer $admin_token" -H 'content-type: application/json' \
    ${3:+--data "$3"} "$hub/api/v1$2")
  case "$status" in
    2??) ;;
    "${4:-}") echo "compose-setup: $1 $2: $status, already there" ;;
    *) echo "compose-setup: $1 $2 answered $status: $(cat "$response")" >&2; exit 1 ;;
  esac
}

echo "compose-setup: issuing an admin token at $hub"
status=$(curl -sS -o "$response" -w '%{http_code}' -u "admin:$GATEHOUSE_ADMIN_PASSWORD" \
  -H 'content-type: application/json' --data '{"name":"compose-setup","role":"admin"}' \
  "$hub/api/v1/admin-tokens")
if [ "$status" != 201 ]; then
  echo "compose-setup: POST /api/v1/admin-tokens answered $status: $(cat "$response")" >&2
  exit 1
fi
admin_token=$(field secret)

for gateway in $gateways; do
  call POST /gateways "{\"name\":\"$gateway\",\"description\":\"docker-compose service $gateway\"}" 409
  call POST "/gateways/$gateway/tokens" '{"name":"compose"}'
  # Written before the gateway starts and read by it only: owner-readable is enough.
  (umask 077 && field secret > "$out/$gateway.token")
  echo "compose-setup: $gateway registered, its token in $out/$gateway.token"
done

GATEHOUSE_TOKEN=$admin_token gatehouse apply "$manifests" --hub "$hub"
if [ -n "${SETUP_DEMO_MANIFESTS:-}" ]; then
  # Without --prune: each set only adds to what the other made.
  GATEHOUSE_TOKEN=$admin_token gatehouse apply "$SETUP_DEMO_MANIFESTS" --hub "$hub"
fi

keys=""
for user in alice:staff bob:partners; do
  name=${user%%:*}
  group=${user#*:}
  call POST /users "{\"name\":\"$name\",\"email\":\"$name@example.com\",\"display_name\":\"$name\",\"groups\":[\"$group\"],\"password\":\"$demo_password\"}" 409
  call POST /applications "{\"name\":\"$name-app\",\"owner\":\"$name\",\"description\":\"Made by compose-setup\"}"
  application=$(field id)
  call POST "/applications/$application/keys" '{"name":"demo"}'
  keys="$keys$(echo "$name" | tr a-z A-Z)_KEY=$(field secret)
"
done
(umask 077 && printf '%s' "$keys" > "$out/demo-keys.env")
echo "compose-setup: alice's and bob's API keys in $out/demo-keys.env"

if [ -n "${SETUP_DEMO_MANIFESTS:-}" ]; then
  # Unpublished: the one publish below carries everything.
  GATEHOUSE_TOKEN=$admin_token gatehouse demo seed --hub "$hub" --keys "$out/demo-keys.txt" --no-publish
fi

call POST /revisions '{"message":"compose-setup: the demo"}'
echo "compose-setup: published revision $(grep -o '"number": *[0-9]*' "$response" | head -n 1 | tr -dc 0-9)"
touch "$out/setup-done"
