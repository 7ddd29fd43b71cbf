"""The article's Azure ML SDK v2 workflows against amlauth-emulator, with the unmodified
azure-ai-ml client. run.sh starts the emulator and exports BASE, AZURE_TENANT_ID,
SUBSCRIPTION, CLIENT_ID, CLIENT_SECRET, ARM_CLOUD_METADATA_URL and the CA bundle variables.

Each step asserts what the service answered, not only that the call returned. Prints
"N passed, 0 failed" at the end; any failed assertion stops the run with a traceback.
"""

import os

from azure.ai.ml import MLClient
from azure.ai.ml.constants import ManagedServiceIdentityType
from azure.ai.ml.entities import (
    AccountKeyConfiguration,
    AmlCompute,
    AzureBlobDatastore,
    IdentityConfiguration,
    ManagedIdentityConfiguration,
)
from azure.identity import ClientSecretCredential

RG, WS = "rg-ml", "ws-ml"
passed = 0


def step(name):
    def wrap(fn):
        global passed
        print(f"--- {name}", flush=True)
        fn()
        passed += 1
        print(f"ok  {name}", flush=True)
        return fn
    return wrap


base = os.environ["BASE"]
sub = os.environ["SUBSCRIPTION"]
# The emulator is a private cloud: point MSAL at it and skip its instance discovery.
cred = ClientSecretCredential(
    os.environ["AZURE_TENANT_ID"], os.environ["CLIENT_ID"], os.environ["CLIENT_SECRET"],
    authority=base, disable_instance_discovery=True,
)
# cloud= names the cloud the SDK reads from ARM_CLOUD_METADATA_URL (the emulator's metadata).
ml = MLClient(cred, sub, RG, WS, cloud="AmlauthEmulator")
uai_id = (f"/subscriptions/{sub}/resourceGroups/{RG}/providers/"
          "Microsoft.ManagedIdentity/userAssignedIdentities/uai-ml")


@step("workspace: get and list")
def _():
    ws = ml.workspaces.get(WS)
    assert ws.name == WS, ws.name
    assert ws.identity.type == "system_assigned", ws.identity.type
    assert WS in [w.name for w in ml.workspaces.list()]


@step("workspace identity: SystemAssigned -> SystemAssigned,UserAssigned with primary, datastore auth mode identity")
def _():
    ws = ml.workspaces.get(WS)
    ws.identity = IdentityConfiguration(
        type=ManagedServiceIdentityType.SYSTEM_ASSIGNED_USER_ASSIGNED,
        user_assigned_identities=[ManagedIdentityConfiguration(resource_id=uai_id)],
    )
    ws.primary_user_assigned_identity = uai_id
    ws.system_datastores_auth_mode = "identity"
    ml.workspaces.begin_update(ws).result()
    got = ml.workspaces.get(WS)
    assert got.identity.type == "system_assigned,user_assigned", got.identity.type
    assert got.identity.principal_id, "the system-assigned principal survives"
    assert [u.resource_id.lower() for u in got.identity.user_assigned_identities] == [uai_id.lower()]
    assert got.primary_user_assigned_identity.lower() == uai_id.lower()
    assert str(got.system_datastores_auth_mode).lower().endswith("identity"), got.system_datastores_auth_mode


@step("workspace keys: get_keys and begin_sync_keys")
def _():
    before = ml.workspaces.get_keys(WS)
    assert before.user_storage_key
    assert before.container_registry_credentials.username == "acrml01"
    ml.workspaces.begin_sync_keys(WS).result()
    after = ml.workspaces.get_keys(WS)
    assert after.user_storage_key and after.user_storage_key != before.user_storage_key


def update_compute_identity(name, identity):
    c = ml.compute.get(name)
    c.identity = identity
    ml.compute.begin_update(c).result()
    return ml.compute.get(name)


@step("compute identity on the seeded cluster: none -> SystemAssigned -> UserAssigned")
def _():
    c = ml.compute.get("cpu-seeded")
    assert c.identity is None or c.identity.type in (None, "none"), c.identity
    c = update_compute_identity("cpu-seeded", IdentityConfiguration(type="system_assigned"))
    assert c.identity.type == "system_assigned", c.identity.type
    assert c.identity.principal_id
    c = update_compute_identity("cpu-seeded", IdentityConfiguration(
        type="user_assigned",
        user_assigned_identities=[ManagedIdentityConfiguration(resource_id=uai_id)],
    ))
    assert c.identity.type == "user_assigned", c.identity.type
    assert [u.resource_id.lower() for u in c.identity.user_assigned_identities] == [uai_id.lower()]


@step("compute identity on a new cluster: create with UserAssigned, then SystemAssigned")
def _():
    new = AmlCompute(
        name="cpu-new", size="STANDARD_DS3_V2", min_instances=0, max_instances=2,
        identity=IdentityConfiguration(
            type="user_assigned",
            user_assigned_identities=[ManagedIdentityConfiguration(resource_id=uai_id)],
        ),
    )
    ml.compute.begin_create_or_update(new).result()
    c = ml.compute.get("cpu-new")
    assert c.identity.type == "user_assigned", c.identity.type
    assert c.max_instances == 2
    c = update_compute_identity("cpu-new", IdentityConfiguration(type="system_assigned"))
    assert c.identity.type == "system_assigned", c.identity.type
    assert c.identity.principal_id
    # The CLI workflow grants this principal AcrPull on the registry.
    with open(os.environ["COMPUTE_PRINCIPAL_FILE"], "w") as f:
        f.write(c.identity.principal_id)


@step("datastore: account key -> identity (no credentials) -> account key")
def _():
    ds = ml.datastores.get("blob", include_secrets=True)
    assert isinstance(ds.credentials, AccountKeyConfiguration), type(ds.credentials)
    key = ds.credentials.account_key
    assert key
    assert ml.datastores.get_default().name == "blob"
    ml.datastores.create_or_update(AzureBlobDatastore(
        name="blob", account_name=ds.account_name, container_name=ds.container_name,
    ))
    got = ml.datastores.get("blob", include_secrets=True)
    assert got.credentials is None or type(got.credentials).__name__ == "NoneCredentialConfiguration", got.credentials
    ml.datastores.create_or_update(AzureBlobDatastore(
        name="blob", account_name=ds.account_name, container_name=ds.container_name,
        credentials=AccountKeyConfiguration(account_key=key),
    ))
    back = ml.datastores.get("blob", include_secrets=True)
    assert isinstance(back.credentials, AccountKeyConfiguration)
    assert back.credentials.account_key == key
    assert "blob" in [d.name for d in ml.datastores.list()]


print(f"{passed} passed, 0 failed")
