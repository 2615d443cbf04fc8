"""Session requests: startApi, reqIds, reqCurrentTime, reqManagedAccts, and the ignored ones.

startApi answers managedAccounts and nextValidId (what the clients wait for), then the three
farm-status notices TWS sends to every new connection (2104, 2106, 2158). A client id
already connected gets error 326 and the socket closes (the clients then time out).
"""

from __future__ import annotations

from .core import Client, GatewayCore
from .messages import current_time, error, managed_accounts, next_valid_id
from .wire import FieldReader

FARM_STATUS = (
    (2104, "Market data farm connection is OK:usfarm"),
    (2106, "HMDS data farm connection is OK:ushmds"),
    (2158, "Sec-def data farm connection is OK:secdefil"),
)
CLIENT_ID_IN_USE = (
    "Unable to connect as the client id is already in use. Retry with a unique client id."
)


async def start_api(core: GatewayCore, client: Client, reader: FieldReader) -> None:
    """71: bind the client id; answer the accounts and the next order id."""
    reader.skip(1)  # version
    client_id = reader.integer()
    if any(c is not client and c.client_id == client_id for c in core.open_clients()):
        client.send(error(-1, 326, CLIENT_ID_IN_USE))
        client.close()
        return
    client.client_id = client_id
    client.send(managed_accounts([core.account_id]))
    client.send(next_valid_id(core.book.next_order_id(client_id)))
    for code, text in FARM_STATUS:
        client.send(error(-1, code, text))


async def req_ids(core: GatewayCore, client: Client, reader: FieldReader) -> None:
    """8: the next valid order id."""
    client.send(next_valid_id(core.book.next_order_id(client.client_id or 0)))


async def req_current_time(core: GatewayCore, client: Client, reader: FieldReader) -> None:
    """49: the venue's (virtual) time in epoch seconds."""
    client.send(current_time(int(core.now().timestamp())))


async def req_managed_accounts(core: GatewayCore, client: Client, reader: FieldReader) -> None:
    """17: the accounts."""
    client.send(managed_accounts([core.account_id]))


async def ignore(core: GatewayCore, client: Client, reader: FieldReader) -> None:
    """A request that needs no answer (cancelAccountSummary, reqAutoOpenOrders...)."""
