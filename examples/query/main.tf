# Discover what already exists and bring it under Terraform with `terraform query`
# (Terraform 1.14 and later). discover.tfquery.hcl lists the objects; then
#
#   terraform init
#   terraform query                                       # shows what was found
#   terraform query -generate-config-out=generated.tf     # resource + import blocks
#   terraform plan                                        # imports, no change
#
# Authentication comes from the ARM_* variables, as for azurerm.

terraform {
  required_providers {
    amlauth = {
      source  = "amlauth/amlauth"
      version = "0.1.0"
    }
  }
}

provider "amlauth" {}

variable "resource_group_id" {
  type        = string
  description = "ARM id of the resource group whose workspaces and registries to list."
  default     = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-ml-prod"
}

variable "workspace_id" {
  type        = string
  description = "ARM id of the workspace whose computes and datastores to list."
  default     = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-ml-prod/providers/Microsoft.MachineLearningServices/workspaces/mlw-prod"
}
