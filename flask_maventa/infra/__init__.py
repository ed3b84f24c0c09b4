"""What the rest stands on: configuration, the per-app state, our tables and migrations, secrets at rest,
redaction, the audit trail, translations, mail, the token cache, signals and process heartbeats."""
