# The workspace and the user-assigned identities already exist (created with azurerm, azapi,
# Bicep or the portal). This resource only manages the workspace's identity settings.
locals {
  resource_group_id = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-ml-prod"
  workspace_id      = "${local.resource_group_id}/providers/Microsoft.MachineLearningServices/workspaces/mlw-prod"
  uai_workspace     = "${local.resource_group_id}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/uai-mlw-prod"
  uai_data          = "${local.resource_group_id}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/uai-mlw-data"
}

# System-assigned and user-assigned identities, with a primary user-assigned identity, and
# identity-based access for the workspace's own system datastores.
resource "amlauth_workspace_identity" "example" {
  workspace_id                      = local.workspace_id
  type                              = "SystemAssigned,UserAssigned"
  user_assigned_identity_ids        = [local.uai_workspace, local.uai_data]
  primary_user_assigned_identity_id = local.uai_workspace
  system_datastores_auth_mode       = "Identity"

  timeouts {
    create = "45m"
    update = "45m"
  }
}

output "workspace_principal_id" {
  description = "Grant roles (e.g. on the storage account and key vault) to this principal."
  value       = amlauth_workspace_identity.example.principal_id
}
