#!/usr/bin/env bash
# The article's Azure CLI workflows against amlauth-emulator, with the unmodified azure-cli.
# run.sh starts the emulator, exports BASE, AZURE_TENANT_ID, SUBSCRIPTION, CLIENT_ID,
# CLIENT_SECRET, AZURE_CONFIG_DIR, the CA bundle variables and AZ (the az binary), and runs
# the ML SDK workflow first (it leaves the new cluster's principal in COMPUTE_PRINCIPAL_FILE).
# Each step asserts the answer, not only the exit code.
set -euo pipefail

passed=0
fail() { echo "FAIL: $*" >&2; echo "$passed passed, 1 failed"; exit 1; }
ok() { passed=$((passed + 1)); echo "ok  $1"; }
expect_eq() { [[ "$1" == "$2" ]] || fail "$3: expected '$2', got '$1'"; }

# 1. Register the emulator as a cloud (the CLI reads $BASE/metadata/endpoints) and log in as
#    a service principal. The cloud is private, so MSAL's instance discovery is switched off.
"$AZ" config set core.instance_discovery=false core.collect_telemetry=false -o none 2>/dev/null
"$AZ" cloud register -n AmlauthEmulator --endpoint-resource-manager "$BASE" -o none
"$AZ" cloud set -n AmlauthEmulator -o none
expect_eq "$("$AZ" cloud show --query endpoints.activeDirectory -o tsv)" "$BASE/" "login endpoint from metadata"
"$AZ" login --service-principal -u "$CLIENT_ID" -p "$CLIENT_SECRET" --tenant "$AZURE_TENANT_ID" -o none
expect_eq "$("$AZ" account show --query id -o tsv)" "$SUBSCRIPTION" "signed-in subscription"
expect_eq "$("$AZ" account show --query user.type -o tsv)" "servicePrincipal" "signed-in user type"
ok "cloud register + az login --service-principal"

# 2. The registry, found by name alone (the CLI searches /resources with a $filter).
acr_id="$("$AZ" acr show -n acrml01 --query id -o tsv)"
expect_eq "$acr_id" "/subscriptions/$SUBSCRIPTION/resourceGroups/rg-ml/providers/Microsoft.ContainerRegistry/registries/acrml01" "registry id"
expect_eq "$("$AZ" acr show -n acrml01 --query adminUserEnabled -o tsv)" "true" "admin user before"
expect_eq "$("$AZ" acr credential show -n acrml01 --query username -o tsv)" "acrml01" "admin user name"
ok "az acr show / credential show (admin on)"

# 3. Admin user off; credentials refused afterwards.
expect_eq "$("$AZ" acr update -n acrml01 --admin-enabled false --query adminUserEnabled -o tsv)" "false" "acr update answer"
expect_eq "$("$AZ" acr show -n acrml01 -g rg-ml --query adminUserEnabled -o tsv)" "false" "admin user after"
if out="$("$AZ" acr credential show -n acrml01 2>&1)"; then fail "credential show succeeded with admin off: $out"; fi
[[ "$out" == *"enable admin first"* ]] || fail "credential show: unexpected error: $out"
# The CLI checks the flag itself; the service's own refusal is what other clients see.
if out="$("$AZ" rest --method post --url "$BASE$acr_id/listCredentials?api-version=2026-09-01-preview" 2>&1)"; then
    fail "listCredentials succeeded with admin off: $out"
fi
[[ "$out" == *"UnAuthorizedForCredentialOperations"* ]] || fail "listCredentials: unexpected error: $out"
ok "az acr update --admin-enabled false; credentials refused (UnAuthorizedForCredentialOperations)"

# 3b. The generic resource client: `az resource patch` expects ARM's synchronous 200 with the
#     whole registry (the REST spec's 201 + async made it fail). On and off again.
expect_eq "$("$AZ" resource patch --ids "$acr_id" --properties '{"adminUserEnabled": true}' \
    --query properties.adminUserEnabled -o tsv)" "true" "resource patch answer"
expect_eq "$("$AZ" acr show -n acrml01 -g rg-ml --query adminUserEnabled -o tsv)" "true" "admin user after resource patch"
expect_eq "$("$AZ" resource patch --ids "$acr_id" --properties '{"adminUserEnabled": false}' \
    --query properties.adminUserEnabled -o tsv)" "false" "resource patch answer (off)"
ok "az resource patch on the registry (synchronous 200)"

# 4. AcrPull for the compute's system-assigned principal on the registry, and the listing.
principal="$(cat "$COMPUTE_PRINCIPAL_FILE")"
[[ -n "$principal" ]] || fail "no compute principal from the SDK workflow"
ra="$("$AZ" role assignment create --role AcrPull --assignee-object-id "$principal" \
    --assignee-principal-type ServicePrincipal --scope "$acr_id" \
    --query "[principalId, roleDefinitionId, scope]" -o tsv | tr '\t\n' '  ')"
expect_eq "$ra" "$principal /subscriptions/$SUBSCRIPTION/providers/Microsoft.Authorization/roleDefinitions/7f951dda-4ed3-4680-a7ca-43fe172d538d $acr_id " "role assignment"
# Again: the service answers 409 RoleAssignmentExists and the CLI shows the existing one.
first="$("$AZ" role assignment list --scope "$acr_id" --query "[?principalId=='$principal'].name" -o tsv)"
again="$("$AZ" role assignment create --role AcrPull --assignee-object-id "$principal" \
    --assignee-principal-type ServicePrincipal --scope "$acr_id" --query name -o tsv)"
expect_eq "$again" "$first" "repeated role assignment create"
listed="$("$AZ" role assignment list --scope "$acr_id" \
    --query "[?principalId=='$principal'].[roleDefinitionName, scope]" -o tsv | tr '\t\n' '  ')"
expect_eq "$listed" "AcrPull $acr_id " "role assignment list"
ok "az role assignment create --role AcrPull (compute principal on the registry) + list"

# 5. Paged lists. Two more assignments on the registry (the user-assigned identity's), then the
#    same listing with one item per page: the CLI must follow nextLink through the role
#    assignment list, and through the role definition list it reads the role names from.
page_size() {
    curl -sf --cacert "$REQUESTS_CA_BUNDLE" -X PATCH -H 'content-type: application/json' \
        -d "{\"quirks\": {\"listPageSize\": $1}}" "$BASE/_emulator/settings" >/dev/null \
        || fail "could not set the emulator's page size to $1"
}
uai="$("$AZ" identity show -n uai-ml -g rg-ml --query principalId -o tsv)"
[[ -n "$uai" ]] || fail "no principal for uai-ml"
for role in AcrPush Reader; do
    "$AZ" role assignment create --role "$role" --assignee-object-id "$uai" \
        --assignee-principal-type ServicePrincipal --scope "$acr_id" -o none
done
list_at_registry() {
    "$AZ" role assignment list --scope "$acr_id" \
        --query "sort_by([], &roleDefinitionName)[].[roleDefinitionName, principalId]" -o tsv | tr '\t\n' '  '
}
one_page="$(list_at_registry)"
expect_eq "$one_page" "AcrPull $principal AcrPush $uai Reader $uai " "role assignment list (one page)"
page_size 1
curl -sf --cacert "$REQUESTS_CA_BUNDLE" -X DELETE "$BASE/_emulator/journal" || fail "journal not cleared"
paged="$(list_at_registry)"
page_size 30  # back to the default run.sh starts the emulator with
expect_eq "$paged" "$one_page" "role assignment list (one assignment per page)"
# The journal shows the pages the CLI followed: 2 more of role assignments, 13 more of the 14
# built-in role definitions.
followed="$(curl -sf --cacert "$REQUESTS_CA_BUNDLE" "$BASE/_emulator/journal" | "$(dirname "$AZ")/python" -c '
import json, sys
pages = [e["path"].rsplit("/", 1)[-1] for e in json.load(sys.stdin) if e.get("nextPage")]
print(pages.count("roleAssignments"), pages.count("roleDefinitions"))')"
expect_eq "$followed" "2 13" "nextLink pages followed (role assignments, role definitions)"
ok "az role assignment list --scope across pages (nextLink followed)"

echo "$passed passed, 0 failed"
