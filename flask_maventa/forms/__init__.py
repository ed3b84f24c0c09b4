"""Flask-WTF forms, one module per area (onboarding, settings, transfers)."""
