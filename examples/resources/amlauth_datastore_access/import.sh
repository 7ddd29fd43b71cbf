# Import by the ARM id of the Azure ML datastore. Secrets cannot be read back from Azure:
# see "Import" in docs/resources/datastore_access.md for what the next plan shows.
terraform import amlauth_datastore_access.training_data /subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-ml-prod/providers/Microsoft.MachineLearningServices/workspaces/mlw-prod/datastores/training_data
