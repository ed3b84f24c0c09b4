"""Our client against the sandbox over real HTTP on loopback."""
import logging
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from flask_maventa.client import (
    InDoubtError,
    InvalidCredentialsError,
    MaventaClient,
    MemoryTokenStore,
    NotFoundError,
    RateLimitedError,
    RedisTokenStore,
    UnverifiedCompanyError,
)
from flask_maventa.client.api import shared_http_client
from flask_maventa.client.tokens import token_key
from flask_maventa.testing.sandbox import wait_for
from tests.fixtures import launcher
from tests.fixtures.sandbox import RECEIVER, ubl_invoice

ROOT = Path(__file__).resolve().parents[2]



@pytest.fixture
def client(sandbox):
    return MaventaClient(sandbox.url, sandbox.vendor_api_key, token_store=MemoryTokenStore())


def full_run(sandbox, client):
    """Everything the product does, in order: returns (company uuid, user api key, invoice)."""
    api_key = client.create_user("owner@seller.test", "Olli", "Omistaja")
    company_uuid = client.create_company(user_api_key=api_key, name="Seller Oy", bid="FI12345678", no_vat=False,
                                         address1="Katu 1", post_code="00100", post_office="Helsinki",
                                         city="Helsinki", country="FI", email="owner@seller.test")
    company = client.for_company(company_uuid, api_key)
    assert company.check_credentials()["company"]["id"] == company_uuid
    partner = client.for_partner(company_uuid, api_key)  # here the company is its own partner account
    assert partner.lookup_companies(["FI12345678"], "FI") == [{"company_bid": "FI12345678",
                                                              "company_status": "RESERVED"}]
    created, approver_key = company.add_company_user("approver@seller.test", "Anna", "Approver")
    assert created and approver_key
    assert company.add_company_user("owner@seller.test", "Olli") == (False, None)
    company.send_authorization("approver@seller.test", "FI")
    assert company.authorization() == {"auth_state": "SENT", "auth_email": "approver@seller.test",
                                       "company_state": "UNVERIFIED"}
    with pytest.raises(UnverifiedCompanyError):
        company.send_invoice(ubl_invoice(), "invoice.xml", uuid="flow-1", recipient_eia="0192:987654321",
                             recipient_operator="PEPPOL")
    sandbox.sign(company_uuid)
    assert company.authorization()["company_state"] == "VERIFIED"
    company.update_settings({"send_invoice_print": {"use_own_pdf": True},
                             "invoice_notifications": {"on_send_errors": {"to_emails": ["err@seller.test"]}}})
    assert company.get_settings(["send_invoice_print"])["send_invoice_print"]["use_own_pdf"] is True
    hook = company.register_webhook("https://erp.seller.test/maventa/hook/abc")
    assert [h["id"] for h in company.list_webhooks()] == [hook["id"]]
    company.delete_webhook(hook["id"])
    assert company.lookup_receivers(eia="0192:987654321")[0]["participant"]["name"] == "Buyer AS"
    sent = company.send_invoice(ubl_invoice(), "invoice.xml", uuid="flow-1", recipient_eia="0192:987654321",
                                recipient_operator="PEPPOL", disabled_routes=["print"], print_own_image=True,
                                lang="EN")
    assert sent["id"] == "flow-1"
    invoice = wait_for(lambda: (i := company.get_invoice("flow-1"))["status"] != "PENDING" and i)
    return company_uuid, api_key, invoice


def test_full_flow_create_register_sign_send_read(sandbox, client):
    sandbox.seed_receivers(RECEIVER)
    company_uuid, api_key, invoice = full_run(sandbox, client)
    assert invoice["status"] == "DELIVERED"
    company = client.for_company(company_uuid, api_key)
    assert [a["type"] for a in company.invoice_actions("flow-1")] == ["CREATED", "SENT", "DELIVERED"]
    assert [i["id"] for i in company.list_invoices(ids=["flow-1"])] == ["flow-1"]
    with pytest.raises(NotFoundError):
        company.get_invoice("not-there")
    # One token served the company's run, plus one: "Unauthorized" to the unverified send looks exactly like
    # an expired token, so the client tried once more with a new token before calling it UnverifiedCompanyError;
    # and the partner look-up had its own token, with its own scope.
    assert sandbox.stats()["token_requests"] == 3


def test_bad_credentials_against_the_sandbox(sandbox, client):
    company_uuid, _ = sandbox.new_company()
    with pytest.raises(InvalidCredentialsError) as caught:
        client.for_company(company_uuid, "not-the-key").check_credentials()
    assert caught.value.status == 401 and caught.value.code == "invalid_credentials"


def test_accept_then_drop_is_in_doubt_and_resending_the_uuid_is_safe(sandbox, client):
    company_uuid, api_key = sandbox.new_company(verified=True)
    company = client.for_company(company_uuid, api_key)
    company.current()
    sandbox.config(drop_rate=1, fault_paths=["POST /v1/invoices"])
    with pytest.raises(InDoubtError):
        company.send_invoice(ubl_invoice("INV-77"), "invoice.xml", uuid="doubt-1")
    assert [i["id"] for i in sandbox.invoices()["invoices"]] == ["doubt-1"]  # Maventa did get it
    sandbox.config(drop_rate=0)
    assert company.get_invoice("doubt-1")["id"] == "doubt-1"
    assert company.send_invoice(ubl_invoice("INV-77"), "invoice.xml", uuid="doubt-1")["id"] == "doubt-1"
    received = sandbox.invoices()
    assert received["invoices_per_number"] == {"INV-77": 1}
    assert received["received_per_uuid"] == {"doubt-1": 2}


def test_reset_before_processing_is_in_doubt_but_nothing_was_stored(sandbox, client):
    company_uuid, api_key = sandbox.new_company(verified=True)
    company = client.for_company(company_uuid, api_key)
    company.current()
    sandbox.config(reset_rate=1, fault_paths=["POST /v1/invoices"])
    with pytest.raises(InDoubtError):
        company.send_invoice(ubl_invoice(), "invoice.xml", uuid="reset-1")
    sandbox.config(reset_rate=0)
    with pytest.raises(NotFoundError):
        company.get_invoice("reset-1")
    assert sandbox.invoices()["receipts"] == 0


def test_read_timeout_after_sending_is_in_doubt(sandbox):
    company_uuid, api_key = sandbox.new_company(verified=True)
    store = MemoryTokenStore()
    MaventaClient(sandbox.url, sandbox.vendor_api_key, token_store=store).for_company(company_uuid, api_key).current()
    impatient = MaventaClient(sandbox.url, sandbox.vendor_api_key, token_store=store,
                              timeout=httpx.Timeout(5, read=0.2))
    sandbox.config(latency_ms=600)
    with pytest.raises(InDoubtError):
        impatient.for_company(company_uuid, api_key).send_invoice(ubl_invoice(), "invoice.xml", uuid="late-1")
    wait_for(lambda: sandbox.invoices()["invoices"])  # it arrived after the client gave up


def test_rate_limited_client_gets_retry_after(sandbox, client):
    company_uuid, api_key = sandbox.new_company(verified=True)
    company = client.for_company(company_uuid, api_key)
    company.current()
    sandbox.config(rate_limit=1)
    with pytest.raises(RateLimitedError) as caught:
        for _ in range(5):
            company.current()
    assert caught.value.retry_after >= 1 and caught.value.status == 429


def test_expired_and_revoked_tokens_are_replaced(sandbox, client):
    sandbox.config(token_lifetime=1)
    company_uuid, api_key = sandbox.new_company()
    company = client.for_company(company_uuid, api_key)
    company.current()
    company.current()
    assert sandbox.stats()["token_requests"] == 1
    time.sleep(0.6)  # past the refresh point of a 1 s token
    company.current()
    assert sandbox.stats()["token_requests"] == 2
    sandbox.revoke_tokens()  # the cached token is still fresh for us, but Maventa forgot it
    assert company.current()["company"]["id"] == company_uuid  # 401, one new token, retried
    assert sandbox.stats()["token_requests"] == 3


WORKER = """
import sys, time, redis
from flask_maventa.client import MaventaClient, MemoryTokenStore, RedisTokenStore
url, vendor, company, key, redis_url, start, kind = sys.argv[1:]
store = RedisTokenStore(redis.Redis.from_url(redis_url)) if kind == "redis" else MemoryTokenStore()
client = MaventaClient(url, vendor, token_store=store)
while time.time() < float(start):
    time.sleep(0.001)
for _ in range(10):
    assert client.for_company(company, key).current()["company"]["id"] == company
"""


@pytest.mark.parametrize("kind, expected_tokens", [("redis", 1), ("memory", 2)])
def test_two_worker_processes_share_one_token_through_redis(sandbox, redis_url, kind, expected_tokens):
    company_uuid, api_key = sandbox.new_company()
    start = str(time.time() + 3)  # both processes are imported and waiting by then, then race
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    workers = [launcher.popen([sys.executable, "-c", WORKER, sandbox.url, sandbox.vendor_api_key, company_uuid,
                               api_key, redis_url, start, kind], cwd=ROOT, env=env, stderr=subprocess.PIPE)
               for _ in range(2)]
    for worker in workers:
        _, err = worker.communicate(timeout=60)
        assert worker.returncode == 0, err.decode()
    stats = sandbox.stats()
    assert stats["token_requests"] == expected_tokens
    assert stats["requests"]["GET /oauth2/current"] == 20


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_forked_worker_reuses_the_token_and_opens_its_own_pool(sandbox, redis_url):
    import redis
    company_uuid, api_key = sandbox.new_company()
    client = MaventaClient(sandbox.url, sandbox.vendor_api_key,
                           token_store=RedisTokenStore(redis.Redis.from_url(redis_url)))
    client.for_company(company_uuid, api_key).current()
    parent_pool = shared_http_client(sandbox.url)
    pid = os.fork()
    if pid == 0:  # the RQ work-horse
        try:
            fine = (client.for_company(company_uuid, api_key).current()["company"]["id"] == company_uuid
                    and shared_http_client(sandbox.url) is not parent_pool)
            os._exit(0 if fine else 1)
        except BaseException:  # noqa: BLE001 - the forked child must end here, never unwind into pytest
            os._exit(2)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert sandbox.stats()["token_requests"] == 1


def test_a_full_run_never_logs_a_secret(sandbox, caplog):
    caplog.set_level(logging.DEBUG)
    for name in ("httpx", "httpcore", "flask_maventa", "werkzeug"):
        caplog.set_level(logging.DEBUG, logger=name)
    store = MemoryTokenStore()
    client = MaventaClient(sandbox.url, sandbox.vendor_api_key, token_store=store)
    sandbox.seed_receivers(RECEIVER)
    company_uuid, api_key, _ = full_run(sandbox, client)
    key = token_key(sandbox.url, company_uuid, api_key, client.scope)
    first_token = store.get(key).access_token
    sandbox.revoke_tokens()
    company = client.for_company(company_uuid, api_key)
    company.current()
    second_token = store.get(key).access_token
    with pytest.raises(InvalidCredentialsError) as refused:
        client.for_company(company_uuid, api_key + "-wrong").check_credentials()
    text = caplog.text + "\n".join(str(r.args) for r in caplog.records) + str(refused.value)
    assert "/v1/invoices" in caplog.text and "/oauth2/token" in caplog.text  # the log did capture the run
    for secret in (api_key, sandbox.vendor_api_key, first_token, second_token):
        assert secret not in text
