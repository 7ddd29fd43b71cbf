data "amlauth_workspace" "example" {
  id = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-ml-prod/providers/Microsoft.MachineLearningServices/workspaces/mlw-prod"
}

output "workspace_identity_type" {
  value = data.amlauth_workspace.example.identity_type
}

# Null until Azure ML creates the registry on the first image build.
output "workspace_registry_id" {
  value = data.amlauth_workspace.example.container_registry_id
}

output "workspace_storage_account_id" {
  value = data.amlauth_workspace.example.storage_account_id
}
