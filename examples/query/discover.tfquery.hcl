# Every object the amlauth resources can manage in one resource group and one workspace.
# `limit` (default 100) caps each list; the provider stops reading ARM pages once reached.

list "amlauth_workspace_identity" "workspaces" {
  provider = amlauth
  config {
    resource_group_id = var.resource_group_id # or: subscription_id = "<subscription GUID>"
  }
}

list "amlauth_acr_admin" "registries" {
  provider = amlauth
  config {
    resource_group_id = var.resource_group_id
  }
}

list "amlauth_compute_identity" "computes" {
  provider = amlauth
  limit    = 500
  config {
    workspace_id = var.workspace_id
  }
}

list "amlauth_datastore_access" "datastores" {
  provider = amlauth
  limit    = 500
  config {
    workspace_id = var.workspace_id
  }
}
