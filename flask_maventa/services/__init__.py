"""What the extension does, without a request: onboarding, settings, routing, webhooks and the transfer
engine. Views, jobs and commands call these; they change rows in the session and the caller commits."""
