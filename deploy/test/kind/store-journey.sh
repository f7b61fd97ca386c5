#!/usr/bin/env bash
# A WordPress store's life on a real cluster, through the public API, checked on the
# cluster's objects with kubectl:
#   1. create the store, wait until it is ready: its namespace labelled with the
#      installation id, its pods ready, its Ingress served by ingress-nginx;
#   2. canary a new version: the canary Ingress with nginx's canary annotations appears,
#      then the new revision takes all traffic;
#   3. a version whose pods cannot start (an image tag that does not exist): the rollout
#      is rolled back, the store is degraded, only the good revision runs;
#   4. delete the store: the API forgets it and its namespace is gone.
#
# Needs: curl, jq, kubectl (current context: the cluster), the platform installed with the
# kubernetes driver and its gateway reachable at $API. Used by .github/workflows/ci.yml (kind).
set -euo pipefail

API=${API:-http://127.0.0.1:18080/api/v1}
ADMIN_EMAIL=${ADMIN_EMAIL:-admin@flotilla.local}
ADMIN_PASSWORD=${ADMIN_PASSWORD:-flotilla-admin-dev}
INSTALLATION_ID=${INSTALLATION_ID:?the installation id of the provisioner (its release namespace)}
INGRESS_URL=${INGRESS_URL:-http://127.0.0.1}
STORE_NAME=${STORE_NAME:-journey-shop}
VERSION_1=${VERSION_1:-6.6}
VERSION_2=${VERSION_2:-6.7}
FAILING_VERSION=${FAILING_VERSION:-0.0.0-does-not-exist}
# Long enough for a rollout that fails: Helm's wait, then the provisioner's deadline, then the rollback.
WAIT_SECONDS=${WAIT_SECONDS:-900}

step() { printf '\n=== %s\n' "$*"; }
fail() {
  printf 'FAILED: %s\n' "$*" >&2
  # What the API and the cluster say, read directly (fail must not call api, which fails through it).
  if [ -n "${STORE_ID:-}" ] && [ -n "${TOKEN:-}" ]; then
    printf -- '--- the store and its events\n' >&2
    curl -sS "$API/stores/$STORE_ID" -H "authorization: Bearer $TOKEN" >&2 || true
    curl -sS "$API/stores/$STORE_ID/events" -H "authorization: Bearer $TOKEN" >&2 || true
    printf '\n' >&2
  fi
  if [ -n "${NAMESPACE:-}" ]; then kubectl -n "$NAMESPACE" get all,ingress,events >&2 || true; fi
  exit 1
}

# api METHOD PATH [JSON]: sets STATUS and BODY; STATUS 000 when the API did not answer
# (a wait retries it, expect_status names it).
api() {
  STATUS=$(curl -sS -o /tmp/store-journey-body -w '%{http_code}' -X "$1" "$API$2" \
    -H "authorization: Bearer $TOKEN" -H 'content-type: application/json' ${3:+-d "$3"}) || STATUS=000
  BODY=$(cat /tmp/store-journey-body 2>/dev/null || true)
}

# expect_status CODE... : the last call answered one of these.
expect_status() {
  local code
  for code in "$@"; do [ "$STATUS" = "$code" ] && return 0; done
  fail "expected HTTP $* but got $STATUS: $BODY"
}

# wait_until DESCRIPTION COMMAND...: runs COMMAND every 5 s until it succeeds, for WAIT_SECONDS at most.
wait_until() {
  local what=$1 deadline=$((SECONDS + WAIT_SECONDS))
  shift
  until "$@"; do
    [ "$SECONDS" -lt "$deadline" ] || fail "$what: not within ${WAIT_SECONDS} s"
    sleep 5
  done
  echo "ok: $what"
}

store_field() { api GET "/stores/$STORE_ID" && [ "$STATUS" = 200 ] && jq -r "$1" <<<"$BODY"; }
store_is() { [ "$(store_field .status)" = "$1" ]; }
store_settled_at() { # STATUS REVISION: the store has that status and runs that revision
  api GET "/stores/$STORE_ID"
  [ "$STATUS" = 200 ] && [ "$(jq -r .status <<<"$BODY")" = "$1" ] && [ "$(jq -r .observed.revision <<<"$BODY")" = "$2" ]
}
label() { kubectl get namespace "$NAMESPACE" -o jsonpath="{.metadata.labels['$1']}"; }
annotation() { kubectl -n "$NAMESPACE" get ingress "$1" -o jsonpath="{.metadata.annotations['$2']}" 2>/dev/null; }
ready_pods() { # REVISION: how many app pods of that revision are ready
  kubectl -n "$NAMESPACE" get pods -l "app.kubernetes.io/component=app,flotilla.io/revision=$1" -o json |
    jq '[.items[] | select(any(.status.conditions[]?; .type == "Ready" and .status == "True"))] | length'
}
app_deployments() { kubectl -n "$NAMESPACE" get deployments -l app.kubernetes.io/component=app -o jsonpath='{.items[*].metadata.name}'; }
canary_ingress_exists() { kubectl -n "$NAMESPACE" get ingress "$STORE_NAME-canary" >/dev/null 2>&1; }
no_canary_ingress() { ! canary_ingress_exists; }
served_by_ingress() { # the store answers through ingress-nginx (WordPress: 200 or a redirect)
  local code
  code=$(curl -s -o /dev/null -w '%{http_code}' -H "Host: $HOST" "$INGRESS_URL/wp-login.php") || return 1
  [ "$code" -ge 200 ] && [ "$code" -lt 400 ]
}

step "sign in; a team and a member for the store"
TOKEN=$(curl -fsS -X POST "$API/auth/login" -H 'content-type: application/json' \
  -d "$(jq -n --arg e "$ADMIN_EMAIL" --arg p "$ADMIN_PASSWORD" '{email: $e, password: $p}')" | jq -r .accessToken)
if [ -z "$TOKEN" ] || [ "$TOKEN" = null ]; then fail "the administrator could not sign in"; fi
api POST /admin/teams '{"name":"kind-journey"}'
expect_status 201 200
TEAM_ID=$(jq -r .id <<<"$BODY")
api POST /admin/users "$(jq -n --arg t "$TEAM_ID" '{email: "journey@example.com", password: "journey-password-123", teamId: $t, role: "member"}')"
expect_status 201 200
TOKEN=$(curl -fsS -X POST "$API/auth/login" -H 'content-type: application/json' \
  -d '{"email":"journey@example.com","password":"journey-password-123"}' | jq -r .accessToken)
if [ -z "$TOKEN" ] || [ "$TOKEN" = null ]; then fail "the member could not sign in"; fi

step "1. create the WordPress store $STORE_NAME ($VERSION_1, 2 replicas)"
api POST /stores "$(jq -n --arg n "$STORE_NAME" --arg v "$VERSION_1" '{name: $n, template: "wordpress", version: $v, replicas: 2}')"
expect_status 202 201
STORE_ID=$(jq -r .id <<<"$BODY")
NAMESPACE=$(jq -r .namespace <<<"$BODY")
URL=$(jq -r .url <<<"$BODY")
HOST=${URL#*://}
echo "store $STORE_ID in namespace $NAMESPACE at $URL"
wait_until "the store is ready" store_is ready
[ "$(label flotilla.io/installation)" = "$INSTALLATION_ID" ] || fail "namespace $NAMESPACE is not labelled flotilla.io/installation=$INSTALLATION_ID: $(kubectl get namespace "$NAMESPACE" --show-labels)"
[ "$(label flotilla.io/store-id)" = "$STORE_ID" ] || fail "namespace $NAMESPACE is not labelled with the store id"
[ "$(label app.kubernetes.io/managed-by)" = flotilla ] || fail "namespace $NAMESPACE is not labelled managed-by=flotilla"
[ "$(label pod-security.kubernetes.io/enforce)" = restricted ] || fail "namespace $NAMESPACE does not enforce the restricted Pod Security level"
[ "$(ready_pods 1)" -ge 2 ] || fail "revision 1 does not have 2 ready pods"
[ "$(kubectl -n "$NAMESPACE" get pods -l app.kubernetes.io/component=app -o jsonpath='{.items[0].metadata.labels.flotilla\.io/installation}')" = "$INSTALLATION_ID" ] ||
  fail "the store's pods do not carry the installation label"
[ "$(kubectl -n "$NAMESPACE" get ingress "$STORE_NAME" -o jsonpath='{.spec.rules[0].host}')" = "$HOST" ] || fail "the Ingress $STORE_NAME does not serve $HOST"
no_canary_ingress || fail "a canary Ingress exists before any canary"
wait_until "the store answers through ingress-nginx at $HOST" served_by_ingress

step "2. canary $VERSION_2 (50%, then 100%)"
api PATCH "/stores/$STORE_ID" "$(jq -n --arg v "$VERSION_2" '{version: $v, rollout: {strategy: "Canary", steps: [50, 100]}}')"
expect_status 202 200
wait_until "the canary Ingress exists" canary_ingress_exists
[ "$(annotation "$STORE_NAME-canary" nginx.ingress.kubernetes.io/canary)" = true ] || fail "the canary Ingress lacks nginx.ingress.kubernetes.io/canary: \"true\""
[ "$(annotation "$STORE_NAME-canary" nginx.ingress.kubernetes.io/canary-weight)" = 50 ] || fail "the canary Ingress does not send 50% to the new revision"
[ "$(kubectl -n "$NAMESPACE" get ingress "$STORE_NAME-canary" -o jsonpath='{.spec.rules[0].http.paths[0].backend.service.name}')" = "$STORE_NAME-r2" ] ||
  fail "the canary Ingress does not route to revision 2"
wait_until "the store is ready on revision 2" store_settled_at ready 2
[ "$(store_field .desired.version)" = "$VERSION_2" ] || fail "the store does not want $VERSION_2"
wait_until "the canary Ingress is gone" no_canary_ingress
[ "$(app_deployments)" = "$STORE_NAME-r2" ] || fail "expected only deployment $STORE_NAME-r2, found: $(app_deployments)"
[ "$(ready_pods 2)" -ge 2 ] || fail "revision 2 does not have 2 ready pods"
[ "$(kubectl -n "$NAMESPACE" get ingress "$STORE_NAME" -o jsonpath='{.spec.rules[0].http.paths[0].backend.service.name}')" = "$STORE_NAME-r2" ] ||
  fail "the Ingress does not route to revision 2"
wait_until "the store still answers through ingress-nginx" served_by_ingress

step "3. canary $FAILING_VERSION, whose pods cannot pull their image: rolled back"
api PATCH "/stores/$STORE_ID" "$(jq -n --arg v "$FAILING_VERSION" '{version: $v, rollout: {strategy: "Canary", steps: [50, 100]}}')"
expect_status 202 200
wait_until "the failing revision 3 is deployed behind the canary Ingress" canary_ingress_exists
failing_reason() { kubectl -n "$NAMESPACE" get pods -l flotilla.io/revision=3 -o jsonpath='{.items[*].status.containerStatuses[*].state.waiting.reason}' | grep -Eq 'ErrImagePull|ImagePullBackOff'; }
wait_until "revision 3's pods wait on their image" failing_reason
wait_until "the store is degraded, back on revision 2" store_settled_at degraded 2
store_field .error | grep -q "revision 3" || fail "the store's error does not name revision 3: $(store_field .error)"
api GET "/stores/$STORE_ID/events"
expect_status 200
jq -e '.items | any(.type == "rollback")' <<<"$BODY" >/dev/null || fail "no rollback event: $BODY"
wait_until "the canary Ingress is gone" no_canary_ingress
no_failing_deployment() { [ "$(app_deployments)" = "$STORE_NAME-r2" ]; }
wait_until "only revision 2 runs" no_failing_deployment
[ "$(ready_pods 2)" -ge 2 ] || fail "revision 2 lost its ready pods"
wait_until "the store still answers through ingress-nginx" served_by_ingress

step "4. delete the store"
api DELETE "/stores/$STORE_ID"
expect_status 202 200 204
store_forgotten() { api GET "/stores/$STORE_ID"; [ "$STATUS" = 404 ]; }
wait_until "the API no longer knows the store" store_forgotten
namespace_gone() { ! kubectl get namespace "$NAMESPACE" >/dev/null 2>&1; }
wait_until "namespace $NAMESPACE is gone" namespace_gone

step "the store journey passed"
