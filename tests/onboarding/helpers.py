"""Steps the onboarding tests repeat, done the way a user does them: over HTTP with CSRF."""

from __future__ import annotations

from .conftest import PREFIX, connection_row, csrf_token


def register(client, company_id: str = "c1", person_id: str = "p1", **headers):
    token = csrf_token(client, f"{PREFIX}/")
    return client.post(f"{PREFIX}/register", data={"csrf_token": token, "company": company_id, "person": person_id},
                       headers=headers)


def registered(client, company_id: str = "c1", person_id: str = "p1"):
    """Register ``company_id`` and return its connection (with the key encrypted)."""
    response = register(client, company_id, person_id)
    assert response.status_code == 303, response.get_data(as_text=True)
    connection = connection_row(company_id)
    assert connection is not None and connection.has_credentials
    return connection


def save_credentials(client, company_uuid: str, api_key: str, company_id: str = "c1", **headers):
    token = csrf_token(client, f"{PREFIX}/companies/{company_id}")
    return client.post(f"{PREFIX}/companies/{company_id}/credentials",
                       data={"csrf_token": token, "company_uuid": company_uuid, "api_key": api_key}, headers=headers)


def send_signing(client, approver: str = "p1", email: str = "kari@fjord.example", locale: str = "NO",
                 company_id: str = "c1", **headers):
    token = csrf_token(client, f"{PREFIX}/companies/{company_id}")
    return client.post(f"{PREFIX}/companies/{company_id}/signing/send",
                       data={"csrf_token": token, "approver": approver, "email": email, "locale": locale},
                       headers=headers)


def refresh(client, company_id: str = "c1", **headers):
    token = csrf_token(client, f"{PREFIX}/companies/{company_id}")
    return client.post(f"{PREFIX}/companies/{company_id}/signing/refresh", data={"csrf_token": token},
                       headers=headers)


def sandbox_users(sandbox) -> dict[str, str]:
    """email -> user API key, as the sandbox holds them."""
    state = sandbox.server.sandbox
    with state.lock:
        return {u.email: u.api_key for u in state.users.values()}
