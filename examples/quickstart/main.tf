# Quickstart: the secure identity setup of "Set up authentication between Azure ML and other
# services", applied to an existing workspace. scripts/quickstart.sh runs it against the local
# amlauth emulator (seeded from seed.json); against Azure, set the ARM_* variables as for azurerm
# and adjust the ids below.

terraform {
  required_providers {
    amlauth = {
      source  = "amlauth/amlauth"
      version = "0.1.0"
    }
  }
}

# Authentication comes from ARM_TENANT_ID / ARM_CLIENT_ID / ARM_CLIENT_SECRET (and, for the
# emulator, ARM_RESOURCE_MANAGER_ENDPOINT / ARM_AUTHORITY_HOST / ARM_CA_BUNDLE).
provider "amlauth" {
  use_cli = false
}

variable "subscription_id" {
  type    = string
  default = "00000000-0000-4000-8000-000000000001"
}

locals {
  rg        = "/subscriptions/${var.subscription_id}/resourceGroups/rg-aml-quickstart"
  workspace = "${local.rg}/providers/Microsoft.MachineLearningServices/workspaces/mlw-quickstart"
  uai_ws    = "${local.rg}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/uai-aml-workspace"
  uai_data  = "${local.rg}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/uai-aml-data"
}

# System- and user-assigned identities on the workspace, with a primary, and identity-based
# access for the workspace's own system datastores.
resource "amlauth_workspace_identity" "this" {
  workspace_id                      = local.workspace
  type                              = "SystemAssigned,UserAssigned"
  user_assigned_identity_ids        = [local.uai_ws, local.uai_data]
  primary_user_assigned_identity_id = local.uai_ws
  system_datastores_auth_mode       = "Identity"
}

# The registry Azure ML created has its admin account on: turn it off (images are pulled with
# managed identities instead). Found through the workspace.
resource "amlauth_acr_admin" "workspace_registry" {
  workspace_id = amlauth_workspace_identity.this.workspace_id
  enabled      = false
}

# The training cluster reaches Key Vault, datastores and the registry with its own identity.
resource "amlauth_compute_identity" "cpu_cluster" {
  compute_id = "${local.workspace}/computes/cpu-cluster"
  type       = "SystemAssigned"
}

# Identity-based access to the blob datastore; the service uses the workspace identity for
# previews and profiling.
resource "amlauth_datastore_access" "training_data" {
  datastore_id                 = "${local.workspace}/datastores/training_data"
  mode                         = "identity"
  service_data_access_identity = "WorkspaceSystemAssignedIdentity"

  depends_on = [amlauth_workspace_identity.this]
}

data "amlauth_workspace" "this" {
  id         = local.workspace
  depends_on = [amlauth_workspace_identity.this]
}

output "workspace_principal_id" {
  value = amlauth_workspace_identity.this.principal_id
}

output "compute_principal_id" {
  value = amlauth_compute_identity.cpu_cluster.principal_id
}

output "registry_login_server" {
  value = amlauth_acr_admin.workspace_registry.login_server
}

output "workspace_identity_type" {
  value = data.amlauth_workspace.this.identity_type
}
