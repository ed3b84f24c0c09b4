"""What the services need of the extension on the current app, as a type.

``registration``, ``routing`` and ``doctor_live`` reach the extension registered on the current app
(``app.extensions["maventa"]``) through :func:`current_state`, typed by the :class:`MaventaState`
protocol rather than by ``extension.Maventa`` itself: issue 11 turns that object into a per-app
state, and whatever holds these members will serve.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol, cast

from ..extension import current_maventa

if TYPE_CHECKING:
    from flask import Config
    from sqlalchemy.orm import Session, scoped_session

    from ..client import CompanyClient, MaventaClient
    from ..host import HostAdapter
    from .crypto import SecretBox
    from .models import Connection

__all__ = ["MaventaState", "current_state"]


class MaventaState(Protocol):
    """The members of the registered extension that the services use."""

    @property
    def adapter(self) -> HostAdapter:
        """The host's adapter (``init_app`` refuses to register without one)."""

    @property
    def session(self) -> scoped_session[Session]:
        """The host's Flask-SQLAlchemy session."""

    @property
    def config(self) -> Config:
        """The current app's config (``MAVENTA_*``)."""

    def secrets(self) -> SecretBox:
        """Encrypts and decrypts the stored API keys."""

    def api_key(self, connection: Connection) -> str:
        """The connection's User API key, decrypted in memory only (``SecretUnreadable`` if it cannot be)."""

    def base_url(self) -> str:
        """The Maventa URL of the configured environment."""

    def client(self) -> MaventaClient:
        """The Maventa client for the configured environment."""

    def company_client(self, connection: Connection) -> CompanyClient:
        """The client of one connection's Maventa company."""


def current_state() -> MaventaState:
    """The extension registered on the current app (``RuntimeError`` when there is none)."""
    return cast(MaventaState, current_maventa())
