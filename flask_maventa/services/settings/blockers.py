"""What stops a connection from sending: :func:`transfer_blockers` (the sweep, for every active
connection, no network) and :func:`activation_problems` (the activation toggle, and live: the
credentials and the verified company, asked of Maventa)."""

from __future__ import annotations

from ...client import errors as client_errors
from ...infra.crypto import SecretUnreadable
from ...infra.models import Connection
from ...infra.state import current_state
from ...infra.texts import T_
from .fields import mapping_problems
from .problems import Problem, maventa_problem, secret_unreadable


def company_problems(connection: Connection) -> list[Problem]:
    if not connection.has_credentials:
        return [Problem(
            "no_credentials", None,
            T_("This company is not connected to Maventa yet."),
            T_("Register the company or enter its User API key and Company UUID first."),
        )]
    if not current_state().secrets().readable(connection.api_key_encrypted or ""):
        return [secret_unreadable()]
    if not connection.verified:
        return [Problem(
            "not_verified", None,
            T_("The company is not verified in Maventa yet."),
            T_("The approver must sign the agreement first; send the authentication request and press Refresh."),
        )]
    return []


def transfer_blockers(connection: Connection) -> list[Problem]:
    """Why the sweep must not send for this connection now (empty: it may). No network call.

    Uses the host's *current* statuses, so a Sent flag set after activation stops the sweep.
    """
    return company_problems(connection) + mapping_problems(connection)


def activation_problems(connection: Connection, *, live: bool = True) -> list[Problem]:
    """Everything that stops activation. ``live`` also asks Maventa whether the stored
    credentials still work and whether the company is verified (and stores that state)."""
    problems: list[Problem] = []
    if live and connection.has_credentials:
        live_problem = check_live(connection)
        if live_problem is not None:
            problems.append(live_problem)
    if not problems:
        problems += company_problems(connection)
    if connection.settings_saved_at is None:
        problems.append(Problem(
            "settings_not_saved", None,
            T_("Save the settings before activating the integration."),
        ))
    else:
        problems += mapping_problems(connection)
    return problems


def check_live(connection: Connection) -> Problem | None:
    """Ask Maventa with the stored credentials; refresh ``company_state`` from its answer."""
    try:
        company = current_state().company_client(connection)
        company.check_credentials()
        state = company.authorization().get("company_state")
    except (client_errors.InvalidScopeError, client_errors.MissingScopeError):
        return Problem(
            "scope_refused", None,
            T_("Maventa refused the access rights this integration asks for."),
            T_("The User API key and Company UUID are not the problem: ask the administrator of this system "
                    "to check the integration's Maventa scope and vendor API key (flask maventa doctor --live)."),
        )
    except SecretUnreadable:
        return secret_unreadable()
    except client_errors.InvalidCredentialsError:
        return Problem(
            "credentials_invalid", None,
            T_("Maventa does not accept the stored User API key and Company UUID any more."),
            T_("Copy the User API key and Company UUID from the company's settings in Maventa and save them "
                    "again."),
        )
    except client_errors.UnverifiedCompanyError:
        state = "UNVERIFIED"
    except client_errors.MaventaError as exc:
        return maventa_problem(exc, T_("The credentials could not be checked with Maventa."))
    if state and state != connection.company_state:
        connection.company_state = state
    return None
