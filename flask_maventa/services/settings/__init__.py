"""The settings of one connection and the rules that decide whether it may send.

Every rule lives here once. The settings form (inline, while the user edits), the
activation toggle and the transfer sweep all ask the same functions:

- :func:`mapping_problems` — the three invoice statuses against the host's current statuses
  (the Sent-flag rule among them);
- :func:`activation_problems` — the mapping, the verified company and, live, the credentials;
- :func:`transfer_blockers` — what the sweep checks for every active connection (no network).

By part: :mod:`.problems` (what the rules answer with), :mod:`.fields` (the statuses and the error
addresses), :mod:`.blockers` (what stops sending or activation), :mod:`.changes` (saving, the switch,
Maventa's print setting); everything a caller needs is importable from here.

Nothing here commits: the caller commits our rows together with whatever else changed.
"""

from .blockers import activation_problems, transfer_blockers
from .changes import activate, deactivate, read_print_settings, save_settings, set_use_own_pdf
from .fields import STATUS_FIELDS, StatusMapping, mapping_problems, parse_error_emails
from .problems import ActivationRefused, Problem, SettingsRejected, secret_unreadable

__all__ = [
    "STATUS_FIELDS",
    "ActivationRefused",
    "Problem",
    "SettingsRejected",
    "StatusMapping",
    "activate",
    "activation_problems",
    "deactivate",
    "mapping_problems",
    "parse_error_emails",
    "read_print_settings",
    "save_settings",
    "secret_unreadable",
    "set_use_own_pdf",
    "transfer_blockers",
]
