locals {
  workspace_id = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-ml-prod/providers/Microsoft.MachineLearningServices/workspaces/mlw-prod"
}

# With the registry's admin account off and the registry on a private network, Azure ML builds
# environment images on a compute cluster of the workspace instead of on the registry.
resource "amlauth_acr_admin" "workspace_registry" {
  workspace_id = local.workspace_id
  enabled      = false
}

resource "amlauth_workspace_image_build" "this" {
  workspace_id = local.workspace_id
  compute_name = "cpu-cluster"
}
