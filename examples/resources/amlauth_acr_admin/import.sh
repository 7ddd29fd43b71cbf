# Import by the ARM id of the container registry (for a resource configured with registry_id).
terraform import amlauth_acr_admin.shared_registry /subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-ml-prod/providers/Microsoft.ContainerRegistry/registries/acrmlshared

# Import by the ARM id of the workspace (for a resource configured with workspace_id).
terraform import amlauth_acr_admin.workspace_registry /subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-ml-prod/providers/Microsoft.MachineLearningServices/workspaces/mlw-prod
