"""What counts as this machine, for every check that keeps traffic or keys local."""

from __future__ import annotations

import ipaddress


def is_loopback(host: str | None) -> bool:
    """``localhost`` or a loopback address (IPv4, IPv6, bracketed or with a zone).

    Accepts a host name from a URL or an option and a peer address from a socket alike.
    """
    if not host:
        return False
    if host == "localhost":
        return True
    address = host.removeprefix("[").removesuffix("]").split("%")[0]
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False
