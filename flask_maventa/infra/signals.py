"""Signals a host can connect to (blinker). Each is sent with the Transfer as sender
after the transaction that made the change has committed."""

from blinker import Namespace

_signals = Namespace()

transfer_queued = _signals.signal("maventa.transfer-queued")
transfer_accepted = _signals.signal("maventa.transfer-accepted")
transfer_delivered = _signals.signal("maventa.transfer-delivered")
transfer_failed = _signals.signal("maventa.transfer-failed")
connection_verified = _signals.signal("maventa.connection-verified")
