locals {
  workspace_id = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-ml-prod/providers/Microsoft.MachineLearningServices/workspaces/mlw-prod"
}

# Identity-based access to a blob datastore: no credentials are stored on the datastore. Jobs
# use the caller's or the compute's identity; the service (studio preview, profiling) uses the
# workspace's system-assigned identity.
resource "amlauth_datastore_access" "training_data" {
  datastore_id                 = "${local.workspace_id}/datastores/training_data"
  mode                         = "identity"
  service_data_access_identity = "WorkspaceSystemAssignedIdentity"
}

# Azure Files datastores cannot use identity-based access: store an account key instead.
variable "reports_account_key" {
  type      = string
  sensitive = true
}

resource "amlauth_datastore_access" "reports" {
  datastore_id = "${local.workspace_id}/datastores/reports_share"
  mode         = "account_key"
  account_key  = var.reports_account_key
}
