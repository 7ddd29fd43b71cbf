# Grants every role assignment the posture lists as missing. Kept in its own file: the
# amlauth end-to-end test runs main.tf alone (azurerm is not available offline) and creates
# the same assignments through the ARM API with the body azurerm sends.

terraform {
  required_providers {
    azurerm = {
      source  = "hashicorp/azurerm"
      version = ">= 3.0"
    }
  }
}

provider "azurerm" {
  features {}
}

resource "azurerm_role_assignment" "posture" {
  # { for r in data.amlauth_workspace_posture.this.required_role_assignments :
  #   "${r.scope}|${r.role_definition_name}|${r.principal_id}" => r if !r.present }
  for_each           = local.posture_role_assignments
  scope              = each.value.scope
  role_definition_id = each.value.role_definition_id
  principal_id       = each.value.principal_id
  # Every principal the posture lists is a managed identity.
  principal_type = "ServicePrincipal"
  # Marks the assignment as this loop's own (see main.tf).
  description = local.posture_assignment_description
}
