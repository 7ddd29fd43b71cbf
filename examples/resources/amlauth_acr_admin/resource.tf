locals {
  resource_group_id = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-ml-prod"
}

# Turn off the admin account of the registry linked to a workspace (the registry Azure ML
# creates for its images). The registry is found through the workspace's containerRegistry.
resource "amlauth_acr_admin" "workspace_registry" {
  workspace_id = "${local.resource_group_id}/providers/Microsoft.MachineLearningServices/workspaces/mlw-prod"
  enabled      = false
}

# Or name the registry directly.
resource "amlauth_acr_admin" "shared_registry" {
  registry_id = "${local.resource_group_id}/providers/Microsoft.ContainerRegistry/registries/acrmlshared"
  enabled     = false
}

output "registry_login_server" {
  value = amlauth_acr_admin.workspace_registry.login_server
}
