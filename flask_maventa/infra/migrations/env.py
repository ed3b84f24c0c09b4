from alembic import context

from flask_maventa.infra.migrations import VERSION_TABLE, is_maventa_object
from flask_maventa.infra.models import metadata

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=metadata,
    version_table=VERSION_TABLE,
    include_object=is_maventa_object,  # a shared database holds the host's tables too
    render_as_batch=True,  # SQLite can only ALTER through table copies
)
with context.begin_transaction():
    context.run_migrations()
