#!/usr/bin/env bash
# The article's workflows with the unmodified Azure CLI and Azure ML SDK v2 against a freshly
# started emulator (issue 10.4). Installs the pinned clients into virtualenvs under .tools/
# (kept between runs: a venv whose requirements are unchanged and whose client imports is
# reused), starts the emulator, runs ml_sdk_workflow.py, then cli_workflow.sh.
#   TOOLS_DIR     where the venvs live (default: <repo>/.tools)
#   EMULATOR_BIN  emulator binary (default: built with cargo into $CARGO_TARGET_DIR or target/)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../../.." && pwd)"
tools="${TOOLS_DIR:-$repo/.tools}"
mkdir -p "$tools"

# shellcheck source=../emulator-process.sh
source "$here/../emulator-process.sh"

start=$(date +%s)
ensure_venv "$tools/venv-azure-cli" "$here/requirements-cli.txt" "import azure.cli.core"
ensure_venv "$tools/venv-azure-ai-ml" "$here/requirements-ml.txt" "import azure.ai.ml, azure.identity"
echo "client virtualenvs ready in $(( $(date +%s) - start )) s"

ensure_emulator_bin "$repo"
make_work_dir

# --print-env writes ca-bundle.pem (system roots + the emulator CA) and points SSL_CERT_FILE
# and REQUESTS_CA_BUNDLE at it: that is all the clients need to trust the emulator.
start_emulator "$work" "export REQUESTS_CA_BUNDLE=" \
    --seed "$here/seed.json" --ca-out "$work/ca.pem" --print-env --operation-ms 300
eval "$(grep '^export ' "$work/stdout")"

export BASE="$ARM_RESOURCE_MANAGER_ENDPOINT"
export SUBSCRIPTION="$ARM_SUBSCRIPTION_ID"
export CLIENT_ID="11111111-0000-4000-8000-00000000c11e" CLIENT_SECRET="client-workflows-secret"
export AZURE_CONFIG_DIR="$work/azure-cli" AZURE_CORE_COLLECT_TELEMETRY=false
export COMPUTE_PRINCIPAL_FILE="$work/compute-principal"
export AZ="$tools/venv-azure-cli/bin/az"

status=0
t0=$(date +%s)
echo "==> Azure ML SDK v2 (azure-ai-ml) workflows"
# The ML SDK learns the cloud from ARM's metadata URL. Only the SDK gets it: the CLI also reads
# it, and would then know the cloud without the `az cloud register` step the workflow shows.
ARM_CLOUD_METADATA_URL="$BASE/metadata/endpoints?api-version=2019-05-01" \
    "$tools/venv-azure-ai-ml/bin/python" "$here/ml_sdk_workflow.py" || status=1
t1=$(date +%s)
if [[ $status -eq 0 ]]; then
    echo "==> Azure CLI workflows"
    "$here/cli_workflow.sh" || status=1
fi
t2=$(date +%s)
echo "client workflows: ML SDK $((t1 - t0)) s, CLI $((t2 - t1)) s"
if [[ $status -ne 0 ]]; then
    echo "--- emulator journal (last requests)" >&2
    curl -s --cacert "$work/ca.pem" "$BASE/_emulator/journal" | tail -c 4000 >&2 || true
fi
exit $status
