# Import by the ARM id of the workspace.
terraform import amlauth_workspace_image_build.this /subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-ml-prod/providers/Microsoft.MachineLearningServices/workspaces/mlw-prod
