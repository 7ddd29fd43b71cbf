"""The official Azure SDK for Python, unmodified, against the emulator."""

import time
import uuid

import pytest
from azure.core.exceptions import ClientAuthenticationError, HttpResponseError, ResourceNotFoundError

ARM_SCOPE = "https://management.azure.com/.default"


def _mgmt_kwargs(emulator):
    return dict(
        base_url=emulator.url,
        credential_scopes=[ARM_SCOPE],
        connection_verify=emulator.ca,
        polling_interval=1,
    )


def test_client_secret_credential_gets_a_token_from_the_emulator(emulator, credential):
    emulator.control("DELETE", "/journal")
    token = credential.get_token(ARM_SCOPE)
    assert token.token.count(".") == 2
    assert token.expires_on > time.time() + 60
    posts = [e for e in emulator.journal() if e["method"] == "POST" and e["path"].endswith("/oauth2/v2.0/token")]
    assert len(posts) == 1 and posts[0]["status"] == 200
    # The credential caches: a second call does not hit the endpoint again.
    credential.get_token(ARM_SCOPE)
    posts = [e for e in emulator.journal() if e["path"].endswith("/oauth2/v2.0/token")]
    assert len(posts) == 1


def test_wrong_client_secret_is_refused(emulator):
    from azure.identity import ClientSecretCredential

    bad = ClientSecretCredential(
        emulator.tenant, emulator.client_id, "not-the-secret",
        authority=emulator.url, connection_verify=emulator.ca,
        # The emulator is an authority MSAL does not know; without this MSAL asks
        # login.microsoftonline.com to validate it (documented option for private clouds).
        disable_instance_discovery=True,
    )
    with pytest.raises(ClientAuthenticationError) as err:
        bad.get_token(ARM_SCOPE)
    assert "AADSTS7000215" in str(err.value)


def test_registry_admin_user_update_and_list_credentials(emulator, credential, resource_group):
    from azure.mgmt.containerregistry import ContainerRegistryManagementClient
    from azure.mgmt.containerregistry.models import Registry, RegistryUpdateParameters, Sku

    client = ContainerRegistryManagementClient(credential, emulator.subscription, **_mgmt_kwargs(emulator))
    name = f"acr{uuid.uuid4().hex[:10]}"
    created = client.registries.begin_create(
        resource_group, name, Registry(location="westeurope", sku=Sku(name="Standard"))
    ).result()
    assert created.provisioning_state == "Succeeded"
    assert created.admin_user_enabled is False
    assert created.login_server == f"{name}.azurecr.io"

    with pytest.raises(HttpResponseError) as err:
        client.registries.list_credentials(resource_group, name)
    assert err.value.status_code == 400
    assert err.value.error.code == "UnAuthorizedForCredentialOperations"

    emulator.control("DELETE", "/journal")
    updated = client.registries.begin_update(
        resource_group, name, RegistryUpdateParameters(admin_user_enabled=True)
    ).result()
    assert updated.admin_user_enabled is True
    assert updated.provisioning_state == "Succeeded"
    calls = emulator.journal()
    patch = [e for e in calls if e["method"] == "PATCH"]
    # As Azure was recorded answering (the emulator's default shapes): the admin PATCH is
    # synchronous, 200 with the whole registry, and the SDK's poller makes no status call.
    assert len(patch) == 1 and patch[0]["status"] == 200
    assert not any("/operationStatuses/" in e["path"] for e in calls), calls

    creds = client.registries.list_credentials(resource_group, name)
    assert creds.username == name
    assert [p.name for p in creds.passwords] == ["password", "password2"]
    assert all(p.value for p in creds.passwords)

    again = client.registries.list_credentials(resource_group, name)
    assert [p.value for p in again.passwords] == [p.value for p in creds.passwords]

    disabled = client.registries.begin_update(
        resource_group, name, RegistryUpdateParameters(admin_user_enabled=False)
    ).result()
    assert disabled.admin_user_enabled is False
    with pytest.raises(HttpResponseError) as err:
        client.registries.list_credentials(resource_group, name)
    assert err.value.error.code == "UnAuthorizedForCredentialOperations"


def test_registry_async_failure_surfaces_as_error(emulator, credential, resource_group):
    from azure.mgmt.containerregistry import ContainerRegistryManagementClient
    from azure.mgmt.containerregistry.models import Registry, RegistryUpdateParameters, Sku

    client = ContainerRegistryManagementClient(credential, emulator.subscription, **_mgmt_kwargs(emulator))
    name = f"acr{uuid.uuid4().hex[:10]}"
    client.registries.begin_create(resource_group, name, Registry(location="westeurope", sku=Sku(name="Basic"))).result()
    emulator.control("POST", "/faults", {
        "method": "PATCH", "path": f"*/registries/{name}", "times": 1,
        # The admin PATCH is synchronous, so the failure comes back on the PATCH itself; a
        # non-retryable code keeps azure-core's retry policy from sending it again.
        "action": {"kind": "failAsync", "code": "RegistryOperationFailed", "message": "boom"},
    })
    with pytest.raises(HttpResponseError) as err:
        client.registries.begin_update(resource_group, name, RegistryUpdateParameters(admin_user_enabled=True)).result()
    assert err.value.error.code == "RegistryOperationFailed"
    # Like Azure, the emulator keeps the failed write's values and says the last operation failed.
    assert client.registries.get(resource_group, name).provisioning_state == "Failed"
    emulator.control("DELETE", "/faults")


def test_user_assigned_identities_create_and_get(emulator, credential, resource_group):
    from azure.mgmt.msi import ManagedServiceIdentityClient
    from azure.mgmt.msi.models import Identity

    client = ManagedServiceIdentityClient(credential, emulator.subscription, **_mgmt_kwargs(emulator))
    created = client.user_assigned_identities.create_or_update(
        resource_group, "uai-sdk", Identity(location="westeurope", tags={"env": "test"})
    )
    assert uuid.UUID(created.principal_id) and uuid.UUID(created.client_id)
    assert created.tenant_id == emulator.tenant
    got = client.user_assigned_identities.get(resource_group, "UAI-SDK")
    assert got.principal_id == created.principal_id
    assert got.client_id == created.client_id
    assert got.tags == {"env": "test"}
    names = [i.name for i in client.user_assigned_identities.list_by_resource_group(resource_group)]
    assert names == ["uai-sdk"]
    with pytest.raises(ResourceNotFoundError):
        client.user_assigned_identities.get(resource_group, "missing")


def test_managed_identity_credential_uses_the_app_service_endpoint(emulator, credential, resource_group, monkeypatch):
    from azure.identity import ManagedIdentityCredential
    from azure.mgmt.msi import ManagedServiceIdentityClient
    from azure.mgmt.msi.models import Identity

    monkeypatch.setenv("IDENTITY_ENDPOINT", emulator.identity_endpoint)
    monkeypatch.setenv("IDENTITY_HEADER", "emulator-identity-header")
    system = ManagedIdentityCredential()
    token = system.get_token(ARM_SCOPE)
    assert token.token and token.expires_on > time.time()

    uai = ManagedServiceIdentityClient(credential, emulator.subscription, **_mgmt_kwargs(emulator)) \
        .user_assigned_identities.create_or_update(resource_group, "uai-mi", Identity(location="westeurope"))
    user = ManagedIdentityCredential(client_id=uai.client_id)
    # The managed-identity token is accepted by ARM: read the identity back with it.
    client = ManagedServiceIdentityClient(user, emulator.subscription, **_mgmt_kwargs(emulator))
    assert client.user_assigned_identities.get(resource_group, "uai-mi").client_id == uai.client_id

    monkeypatch.setenv("IDENTITY_HEADER", "wrong")
    with pytest.raises(ClientAuthenticationError):
        ManagedIdentityCredential().get_token(ARM_SCOPE)


def test_ml_workspace_and_compute_long_running_operations(emulator, credential, resource_group):
    # azure-mgmt-machinelearningservices 1.x speaks api-version 2020-08-01. The workspace PUT's
    # 202 carries both Location and Azure-AsyncOperation (as recorded), and azure-core's poller
    # prefers Azure-AsyncOperation; compute PUT/DELETE poll Azure-AsyncOperation too.
    from azure.mgmt.machinelearningservices import MachineLearningServicesMgmtClient
    from azure.mgmt.machinelearningservices.models import (
        AmlCompute, AmlComputeProperties, ComputeResource, Identity, ScaleSettings, Workspace,
    )

    client = MachineLearningServicesMgmtClient(credential, emulator.subscription, **_mgmt_kwargs(emulator))
    emulator.control("DELETE", "/journal")
    ws = client.workspaces.begin_create_or_update(
        resource_group, "mlw-sdk", Workspace(location="westeurope", identity=Identity(type="SystemAssigned"))
    ).result()
    assert ws.provisioning_state == "Succeeded"
    assert ws.identity.type == "SystemAssigned" and uuid.UUID(ws.identity.principal_id)
    calls = emulator.journal()
    assert [e["status"] for e in calls if e["method"] == "PUT"] == [202]
    assert any("/operationStatuses/" in e["path"] for e in calls), calls

    compute = client.machine_learning_compute.begin_create_or_update(
        resource_group, "mlw-sdk", "cpu",
        ComputeResource(
            location="westeurope",
            identity=Identity(type="SystemAssigned"),
            properties=AmlCompute(properties=AmlComputeProperties(
                vm_size="STANDARD_DS3_V2", scale_settings=ScaleSettings(max_node_count=2, min_node_count=0),
            )),
        ),
    ).result()
    assert compute.properties.provisioning_state == "Succeeded"
    assert compute.identity.type == "SystemAssigned"
    assert compute.properties.properties.scale_settings.max_node_count == 2

    client.machine_learning_compute.begin_delete(resource_group, "mlw-sdk", "cpu", underlying_resource_action="Delete").result()
    with pytest.raises(ResourceNotFoundError):
        client.machine_learning_compute.get(resource_group, "mlw-sdk", "cpu")
    client.workspaces.begin_delete(resource_group, "mlw-sdk").result()
    with pytest.raises(ResourceNotFoundError):
        client.workspaces.get(resource_group, "mlw-sdk")
