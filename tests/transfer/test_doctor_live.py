"""`flask maventa doctor --live`: read-only checks of what we assume beyond the swagger, against the sandbox."""

from __future__ import annotations


def _doctor(host, *args):
    from flask_maventa.infra.models import Process, utcnow

    now = utcnow()  # a worker and a scheduler are alive: plain doctor fails without them
    host.db.session.merge(Process(id="w", kind="worker", hostname="h", pid=1, started_at=now, seen_at=now))
    host.db.session.merge(Process(id="s", kind="scheduler", hostname="h", pid=2, started_at=now, seen_at=now))
    host.db.session.commit()
    return host.app.test_cli_runner().invoke(args=["maventa", "doctor", "--live", *args])


def test_live_checks_report_token_scopes_current_settings_signing_and_lookups(host):
    connection = host.connect()
    partner_uuid, partner_key = host.sandbox.new_company(verified=True, email="partner@erp.example")
    host.app.config.update(MAVENTA_PARTNER_COMPANY_UUID=partner_uuid, MAVENTA_PARTNER_API_KEY=partner_key)
    requests_before = dict(host.sandbox.stats()["requests"])

    result = _doctor(host)

    assert result.exit_code == 0, result.output
    out = result.output
    assert ("[ok] company c1: token for 'company:read company:write global invoice:send lookup', granted "
            "'company:read company:write global invoice:send lookup'") in out
    assert f"[ok] company c1: /oauth2/current names company {connection.company_uuid}" in out
    assert "[ok] company c1: settings GET has the blocks a PATCH must carry" in out
    assert "[ok] company c1: company_state VERIFIED" in out
    assert "[ok] company c1: receiver look-up answered 0 hit(s)" in out
    assert "[ok] partner look-up (partner:lookups) answered ['FREE']" in out
    # read-only: nothing but reads (and tokens) reached Maventa
    after = host.sandbox.stats()["requests"]
    written = {op for op in after if not op.startswith("GET ") and op != "POST /oauth2/token"}
    assert written <= set(requests_before), written


def test_live_checks_name_a_scope_maventa_does_not_grant(host):
    host.connect()
    host.sandbox.config(refused_scopes=["invoice:send", "partner:lookups"], refused_scope_answer="narrow")
    partner_uuid, partner_key = host.sandbox.new_company(verified=True, email="partner@erp.example")
    host.app.config.update(MAVENTA_PARTNER_COMPANY_UUID=partner_uuid, MAVENTA_PARTNER_API_KEY=partner_key)

    result = _doctor(host)

    assert result.exit_code == 1
    assert ("[FAIL] company c1: token for 'company:read company:write global invoice:send lookup', granted "
            "'company:read company:write global lookup' - cannot call POST /v1/invoices") in result.output
    assert "fix: ask Maventa to allow these scopes for your vendor API key, or set MAVENTA_SCOPE" in result.output
    assert "[FAIL] partner look-up: partner:lookups refused (401 forbidden)" in result.output


def test_live_checks_name_an_invalid_scope_answer(host):
    host.connect()
    host.sandbox.config(refused_scopes=["company:write"])
    result = _doctor(host)
    assert result.exit_code == 1
    assert "[FAIL] company c1: InvalidScopeError" in result.output
    assert "fix: Maventa refused the scopes" in result.output
