"""``flask maventa …``: the commands a host's developers and operators run, one module per kind.

- :mod:`.tables`: ``create-tables``, ``upgrade`` (the extension's own tables)
- :mod:`.secrets`: ``generate-key``, ``rotate-secrets`` (the key the stored secrets are encrypted with)
- :mod:`.documents`: ``render-ubl``, ``check`` (an invoice in the JSON form)
- :mod:`.processes`: ``worker``, ``scheduler``, ``sweep`` (running the transfer pipeline)
- :mod:`.checks`: ``doctor``, ``config`` (is it set up right)
"""

from __future__ import annotations

from flask.cli import AppGroup

from . import checks, documents, processes, secrets, tables

maventa_cli = AppGroup("maventa", help="Maventa e-invoicing: tables, keys, jobs and documents.")

for _command in (
    tables.create_tables, tables.upgrade, secrets.generate_key, secrets.rotate_secrets,
    documents.render_ubl_command, documents.check_command,
    processes.worker_command, processes.scheduler_command, processes.sweep_command,
    checks.doctor_command, checks.show_config,
):
    maventa_cli.add_command(_command)
