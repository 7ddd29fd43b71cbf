# Bring an Azure ML workspace to a finished, secure authentication set-up and keep it there:
# the amlauth settings below fix what `amlauth_workspace_posture` reports, `role_assignments.tf`
# grants the roles it lists, and the `check` block makes plan and apply warn while anything is
# left. Run `terraform apply` until the check passes: role assignments that depend on a fix
# (e.g. AcrPull for a compute that just got an identity) appear in the plan after that fix.

terraform {
  required_version = ">= 1.5.0" # check blocks
  required_providers {
    amlauth = {
      source  = "amlauth/amlauth"
      version = "0.1.0"
    }
  }
}

provider "amlauth" {}

variable "workspace_id" {
  type        = string
  description = "ARM id of the Azure ML workspace."
}

variable "compute_names" {
  type        = set(string)
  default     = []
  description = "Compute clusters and instances of the workspace to give a system-assigned identity."
}

variable "identity_datastore_names" {
  type        = set(string)
  default     = []
  description = "Blob / ADLS Gen2 datastores to switch to identity-based access."
}

# The workspace: system datastores authenticate with its identity, not the account key.
resource "amlauth_workspace_identity" "this" {
  workspace_id                = var.workspace_id
  type                        = "SystemAssigned"
  system_datastores_auth_mode = "Identity"
}

# The workspace's registry: admin account off (computes pull with AcrPull instead).
resource "amlauth_acr_admin" "this" {
  workspace_id = var.workspace_id
  enabled      = false
}

resource "amlauth_compute_identity" "this" {
  for_each   = var.compute_names
  compute_id = "${var.workspace_id}/computes/${each.key}"
  type       = "SystemAssigned"
}

resource "amlauth_datastore_access" "this" {
  for_each                     = var.identity_datastore_names
  datastore_id                 = "${var.workspace_id}/datastores/${each.key}"
  mode                         = "identity"
  service_data_access_identity = "WorkspaceSystemAssignedIdentity"
}

locals {
  # The description the role assignment loop (role_assignments.tf) gives what it creates.
  # The data source counts those assignments as granted but keeps their entries
  # `present = false`, so the loop keeps managing them instead of destroying them once they
  # exist. Keep it constant: azurerm replaces an assignment whose description changes.
  posture_assignment_description = "Managed by Terraform from amlauth_workspace_posture"
}

data "amlauth_workspace_posture" "this" {
  workspace_id                   = var.workspace_id
  managed_assignment_description = local.posture_assignment_description
}

# The role assignments the loop in role_assignments.tf manages, by for_each key.
locals {
  posture_role_assignments = {
    for r in data.amlauth_workspace_posture.this.required_role_assignments :
    "${r.scope}|${r.role_definition_name}|${r.principal_id}" => r if !r.present
  }
}

# Plan and apply print a warning (never an error) while findings exist.
check "workspace_posture" {
  assert {
    condition = length(data.amlauth_workspace_posture.this.findings) == 0
    error_message = join("\n", [
      for f in data.amlauth_workspace_posture.this.findings :
      "${f.severity} ${f.code} on ${f.resource_id}: ${f.message} Fix: ${f.remediation}"
    ])
  }
}

output "secure" {
  value = data.amlauth_workspace_posture.this.secure
}

output "findings" {
  value = data.amlauth_workspace_posture.this.findings
}

output "role_assignment_keys" {
  value = keys(local.posture_role_assignments)
}
