"""Fixtures for running the official Azure SDK for Python against a running emulator.

run.sh starts the emulator and exports EMULATOR_URL, EMULATOR_CA, EMULATOR_TENANT,
EMULATOR_SUBSCRIPTION, EMULATOR_CLIENT_ID and EMULATOR_CLIENT_SECRET. A missing variable
is an error, never a skip.
"""

import json
import os
import urllib.request
import ssl
import uuid

import pytest


def _env(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        raise RuntimeError(f"{name} is not set: run these tests through emulator/tests/sdk/run.sh")
    return value


class Emulator:
    def __init__(self):
        self.url = _env("EMULATOR_URL")
        self.ca = _env("EMULATOR_CA")
        self.tenant = _env("EMULATOR_TENANT")
        self.subscription = _env("EMULATOR_SUBSCRIPTION")
        self.client_id = _env("EMULATOR_CLIENT_ID")
        self.client_secret = _env("EMULATOR_CLIENT_SECRET")
        self.identity_endpoint = _env("EMULATOR_IDENTITY_ENDPOINT")
        self._ctx = ssl.create_default_context(cafile=self.ca)

    def control(self, method: str, path: str, body=None):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(
            f"{self.url}/_emulator{path}", data=data, method=method,
            headers={"content-type": "application/json"},
        )
        with urllib.request.urlopen(req, context=self._ctx) as resp:
            raw = resp.read()
            return json.loads(raw) if raw else None

    def journal(self):
        return self.control("GET", "/journal")


@pytest.fixture(scope="session")
def emulator() -> Emulator:
    emu = Emulator()
    assert emu.control("GET", "/health") == {"status": "ok"}
    return emu


@pytest.fixture
def resource_group(emulator: Emulator) -> str:
    name = f"rg-{uuid.uuid4().hex[:8]}"
    emulator.control("POST", "/seed", {
        "subscriptions": [{"id": emulator.subscription, "resourceGroups": [{"name": name, "location": "westeurope"}]}]
    })
    return name


@pytest.fixture
def credential(emulator: Emulator):
    from azure.identity import ClientSecretCredential

    return ClientSecretCredential(
        emulator.tenant,
        emulator.client_id,
        emulator.client_secret,
        authority=emulator.url,
        connection_verify=emulator.ca,
        # The emulator is an authority MSAL does not know; without this MSAL asks
        # login.microsoftonline.com to validate it (documented option for private clouds).
        disable_instance_discovery=True,
    )


_skipped = []


def pytest_runtest_logreport(report):
    if report.skipped:
        _skipped.append(report.nodeid)


def pytest_sessionfinish(session, exitstatus):
    # A skipped SDK test hides a broken setup: treat it as a failure.
    if _skipped and exitstatus == 0:
        print(f"\nskipped tests are failures here: {_skipped}")
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
