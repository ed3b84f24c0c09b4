"""multipart/form-data in one piece: the body as a single ``bytes``, built before the request.

httpx's own ``files=`` encoder makes an object per part and streams the body in 64 KiB chunks; for an
invoice upload (~240 KB with its PDF) that was a fifth of the CPU a send costs (benchmarks/transfer.py).
The same wire format, built with one ``join``: httpx sends it in one write and knows its length.
Names and file names are escaped as httpx (and the HTML5 form encoding) does.
"""

from __future__ import annotations

import mimetypes
import os
import re
from collections.abc import Sequence

__all__ = ["encode"]

Part = tuple[str | None, str | bytes] | tuple[str, bytes, str]

_ESCAPES = {'"': "%22", "\\": "\\\\", **{chr(c): f"%{c:02X}" for c in range(0x20) if c != 0x1B}}
_ESCAPE = re.compile("|".join(re.escape(c) for c in _ESCAPES))


def _param(name: str, value: str) -> str:
    return f'{name}="{_ESCAPE.sub(lambda m: _ESCAPES[m.group(0)], value)}"'


def encode(parts: Sequence[tuple[str, Part]]) -> tuple[bytes, str]:
    """``(body, content type)`` for ``parts`` given as for httpx's ``files=``: ``(name, (None, value))`` is a
    plain field, ``(name, (filename, content[, content type]))`` a file."""
    boundary = os.urandom(16).hex()
    chunks: list[bytes] = []
    for name, part in parts:
        filename, content = part[0], part[1]
        head = f"--{boundary}\r\nContent-Disposition: form-data; {_param('name', name)}"
        if filename is not None:
            kind = part[2] if len(part) == 3 else (mimetypes.guess_type(filename)[0] or "application/octet-stream")
            head += f"; {_param('filename', filename)}\r\nContent-Type: {kind}"
        chunks += [f"{head}\r\n\r\n".encode(), content.encode() if isinstance(content, str) else content, b"\r\n"]
    chunks.append(f"--{boundary}--\r\n".encode())
    return b"".join(chunks), f"multipart/form-data; boundary={boundary}"
