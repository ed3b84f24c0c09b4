"""flask-maventa: Maventa e-invoicing for Flask ERPs.

    from flask_maventa import Maventa
    maventa = Maventa(app, db=db, adapter=MyHostAdapter())
"""

from .extension import Maventa, current_maventa
from .host import Address, Company, HostAdapter, InvoiceStatus, Person
from .infra.config import ConfigurationError

__all__ = [
    "Address",
    "Company",
    "ConfigurationError",
    "HostAdapter",
    "InvoiceStatus",
    "Maventa",
    "Person",
    "current_maventa",
]
__version__ = "0.1.0"
