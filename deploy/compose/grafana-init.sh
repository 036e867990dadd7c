#!/bin/sh
# grafana-init: the one-shot job that gives the hub a Grafana service-account token, so that each
# published revision becomes an annotation on the dashboards (hub::distribution::annotations).
# Grafana provisions data sources and dashboards from files, but not service accounts, so this job
# makes one through Grafana's HTTP API with the admin password:
#
#   1. wait for GET /api/health;
#   2. the service account `gatehouse-hub` with role Editor (enough to create organization
#      annotations), made or found;
#   3. a token for it, written to $TOKEN_FILE, which the hub services read at start
#      (GATEHOUSE_GRAFANA_TOKEN).
#
# A token already in $TOKEN_FILE that Grafana still accepts is kept, so `docker compose up` again
# changes nothing. deploy/check runs this script against a stand-in that answers the same endpoints.
set -eu

grafana=${GRAFANA_URL:-http://grafana:3000}
token_file=${TOKEN_FILE:-/run/grafana/token}
account=${GRAFANA_SERVICE_ACCOUNT:-gatehouse-hub}
: "${GRAFANA_ADMIN_PASSWORD:?Grafana's admin password, to make the service account with}"
admin="${GRAFANA_ADMIN_USER:-admin}:$GRAFANA_ADMIN_PASSWORD"
response=$(mktemp)
trap 'rm -f "$response"' EXIT

# Grafana takes a while on its first start (database migrations): up to two minutes.
tries=0
until curl -fs -o /dev/null "$grafana/api/health"; do
  tries=$((tries + 1))
  if [ "$tries" -ge 120 ]; then
    echo "grafana-init: $grafana/api/health does not answer" >&2
    exit 1
  fi
  sleep 1
done

if [ -s "$token_file" ] &&
  curl -fsS -o /dev/null -H "authorization: Bearer $(cat "$token_file")" "$grafana/api/org"; then
  echo "grafana-init: the token in $token_file still works; nothing to do"
  exit 0
fi

# post PATH BODY: prints the status; the body is in $response.
post() {
  curl -sS -o "$response" -w '%{http_code}' -u "$admin" -H 'content-type: application/json' \
    --data "$2" "$grafana$1"
}

status=$(post /api/serviceaccounts "{\"name\":\"$account\",\"role\":\"Editor\",\"isDisabled\":false}")
case "$status" in
  201 | 200) echo "grafana-init: made the service account $account" ;;
  *)
    # It exists already (Grafana answers 400 or 409 for a name in use): find it.
    curl -fsS -o "$response" -u "$admin" "$grafana/api/serviceaccounts/search?query=$account"
    ;;
esac
account_id=$(grep -o '"id": *[0-9]*' "$response" | head -n 1 | tr -dc 0-9)
if [ -z "$account_id" ]; then
  echo "grafana-init: no service account $account: $(cat "$response")" >&2
  exit 1
fi

# A token name is unique per account: the date makes each run's new.
status=$(post "/api/serviceaccounts/$account_id/tokens" "{\"name\":\"$account-$(date -u +%Y%m%dT%H%M%SZ)\"}")
key=$(grep -o '"key": *"[^"]*"' "$response" | head -n 1 | sed 's/.*"\([^"]*\)"$/\1/')
if [ "$status" != 200 ] || [ -z "$key" ]; then
  echo "grafana-init: POST /api/serviceaccounts/$account_id/tokens answered $status: $(cat "$response")" >&2
  exit 1
fi
(umask 077 && printf '%s' "$key" > "$token_file")
echo "grafana-init: a token for $account (id $account_id) in $token_file"
