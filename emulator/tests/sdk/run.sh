#!/usr/bin/env bash
# Runs the Azure SDK for Python tests against a freshly started emulator.
#   SDK_VENV      virtualenv to use/create (default: emulator/tests/sdk/.venv)
#   EMULATOR_BIN  emulator binary (default: built with cargo into $CARGO_TARGET_DIR or target/)
# Exits non-zero on any failure, including "no tests ran".
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../../.." && pwd)"
venv="${SDK_VENV:-$here/.venv}"

# shellcheck source=../emulator-process.sh
source "$here/../emulator-process.sh"
ensure_venv "$venv" "$here/requirements.txt" \
    "import azure.identity, azure.mgmt.containerregistry, azure.mgmt.msi, azure.mgmt.machinelearningservices, pytest, requests"
ensure_emulator_bin "$repo"
make_work_dir

client_id="$(python3 -c 'import uuid; print(uuid.uuid4())')"
client_secret="$(python3 -c 'import secrets; print(secrets.token_urlsafe(24))')"
subscription="00000000-0000-4000-8000-0000000000aa"
cat > "$work/seed.json" <<JSON
{"clients": [{"clientId": "$client_id", "clientSecret": "$client_secret"}],
 "subscriptions": [{"id": "$subscription"}]}
JSON

start_emulator "$work" "READY " \
    --ca-out "$work/ca.pem" --seed "$work/seed.json" --operation-ms 300

export EMULATOR_URL="$(awk '/^READY /{print $2; exit}' "$work/stdout")"
export EMULATOR_CA="$work/ca.pem"
export EMULATOR_IDENTITY_ENDPOINT="$(awk '/^READY /{sub("identity_endpoint=", "", $3); print $3; exit}' "$work/stdout")"
export EMULATOR_TENANT="72f988bf-0000-4000-8000-00000000e001"
export EMULATOR_SUBSCRIPTION="$subscription"
export EMULATOR_CLIENT_ID="$client_id"
export EMULATOR_CLIENT_SECRET="$client_secret"
export REQUESTS_CA_BUNDLE="$work/ca.pem"

set +e
"$venv/bin/python" -m pytest -p no:cacheprovider -q -rA "$here" "$@"
status=$?
set -e
if [[ $status -eq 5 ]]; then
    echo "no SDK tests ran" >&2
    exit 1
fi
exit $status
