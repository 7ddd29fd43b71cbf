# Import by the ARM id of the Azure ML workspace.
terraform import amlauth_workspace_identity.example /subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-ml-prod/providers/Microsoft.MachineLearningServices/workspaces/mlw-prod
