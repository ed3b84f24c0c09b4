"""A no-op marker for messages in pure modules (no Flask here).

``pybabel extract -k N_`` finds the strings; they are translated where they are shown,
then filled: ``gettext(message).format(**params)``.
"""


def N_(message: str) -> str:
    return message
