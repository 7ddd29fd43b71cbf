# Import by the ARM id of the Azure ML compute.
terraform import amlauth_compute_identity.cpu_cluster /subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-ml-prod/providers/Microsoft.MachineLearningServices/workspaces/mlw-prod/computes/cpu-cluster
