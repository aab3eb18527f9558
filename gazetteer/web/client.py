"""Whether the client of a request is still there: long work (an extraction) asks between
its pieces and stops when no one will read the answer."""

from __future__ import annotations

import socket
from collections.abc import Callable


def client_gone_check(environ: dict) -> Callable[[], bool] | None:
    """A check that answers True once the request's client has closed its connection, or
    None where the server does not say which socket is the client's (waitress, werkzeug:
    there the work ends at its time limit). Under gunicorn, the client's socket is read
    ahead without consuming (MSG_PEEK) and without waiting (MSG_DONTWAIT): b"" is the
    peer's close; bytes waiting (a pipelined request) or none yet mean it is still there.
    A client that half-closes its side (shutdown(SHUT_WR)) while waiting counts as gone."""
    client = environ.get("gunicorn.socket")
    if not isinstance(client, socket.socket):
        return None

    def gone() -> bool:
        try:
            return client.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) == b""
        except (BlockingIOError, InterruptedError):
            return False
        except OSError:  # reset by the peer, or the socket already closed
            return True

    return gone
