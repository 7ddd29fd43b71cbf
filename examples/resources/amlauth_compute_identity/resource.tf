locals {
  resource_group_id = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-ml-prod"
  workspace_id      = "${local.resource_group_id}/providers/Microsoft.MachineLearningServices/workspaces/mlw-prod"
}

# A system-assigned identity for the training cluster.
resource "amlauth_compute_identity" "cpu_cluster" {
  compute_id = "${local.workspace_id}/computes/cpu-cluster"
  type       = "SystemAssigned"
}

# User-assigned identities for another cluster (a cluster never has both kinds).
resource "amlauth_compute_identity" "gpu_cluster" {
  compute_id = "${local.workspace_id}/computes/gpu-cluster"
  type       = "UserAssigned"
  user_assigned_identity_ids = [
    "${local.resource_group_id}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/uai-ml-training",
  ]
}

output "cpu_cluster_principal_id" {
  description = "Grant this principal e.g. Storage Blob Data Reader on the training data and AcrPull on the registry."
  value       = amlauth_compute_identity.cpu_cluster.principal_id
}
