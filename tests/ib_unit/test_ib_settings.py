"""IbSettings: strict, frozen, bounded; the example [ib] section is valid; a broker built from
settings is a Broker that refuses calls until connected."""

from __future__ import annotations

import socket
import tomllib
from pathlib import Path

import pytest
from pydantic import ValidationError

from broker.errors import BrokerUnavailable
from broker.ib.adapter import IbBroker
from broker.ib.settings import IbSettings
from broker.orders import Order
from broker.protocol import Broker

ROOT = Path(__file__).resolve().parents[2]


def test_defaults_point_at_the_paper_gateway_with_live_data() -> None:
    settings = IbSettings()
    assert (settings.host, settings.port) == ("127.0.0.1", 4002)
    assert settings.market_data_type == "live" and settings.market_data_type_code == 1
    assert settings.account == "" and settings.what_if is True


def test_delayed_data_is_type_3() -> None:
    assert IbSettings(market_data_type="delayed").market_data_type_code == 3


@pytest.mark.parametrize("port", [0, -1, 65536, 100_000])
def test_a_port_outside_1_to_65535_is_refused(port: int) -> None:
    with pytest.raises(ValidationError) as err:
        IbSettings(port=port)
    assert err.value.errors()[0]["loc"] == ("port",)


def test_an_unknown_key_is_an_error_naming_it() -> None:
    with pytest.raises(ValidationError) as err:
        IbSettings.model_validate({"prot": 4002})
    error = err.value.errors()[0]
    assert error["type"] == "extra_forbidden" and error["loc"] == ("prot",)


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("market_data_type", "frozen"),
        ("client_id", -1),
        ("connect_timeout", 0.0),
        ("request_timeout", -5.0),
        ("reconnect_initial", 0.0),
        ("snapshot_batch", 101),
        ("account", "DU 123"),
        ("host", ""),
        ("greeks_dividend_yield", -0.01),
    ],
)
def test_out_of_range_values_are_refused(key: str, value: object) -> None:
    with pytest.raises(ValidationError) as err:
        IbSettings.model_validate({key: value})
    assert err.value.errors()[0]["loc"] == (key,)


def test_the_backoff_cap_cannot_be_below_its_start() -> None:
    with pytest.raises(ValidationError, match="reconnect_max"):
        IbSettings(reconnect_initial=10.0, reconnect_max=5.0)


def test_settings_are_frozen() -> None:
    settings = IbSettings()
    with pytest.raises(ValidationError):
        settings.port = 7497  # type: ignore[misc]


def test_reconnect_delay_doubles_from_the_initial_wait_up_to_the_cap() -> None:
    settings = IbSettings(reconnect_initial=2.0, reconnect_max=30.0)
    delays = [settings.reconnect_delay(n) for n in range(1, 8)]
    assert delays == [2.0, 4.0, 8.0, 16.0, 30.0, 30.0, 30.0]
    assert settings.reconnect_delay(10_000) == 30.0  # no overflow after a long outage


def test_reconnect_attempts_count_from_one() -> None:
    with pytest.raises(ValueError, match="from 1"):
        IbSettings().reconnect_delay(0)


def test_the_example_config_ib_section_is_valid_and_on_a_paper_port() -> None:
    raw = tomllib.loads((ROOT / "config" / "ib-paper.toml").read_text(encoding="utf-8"))
    assert raw["account"]["broker"] == "ib"
    settings = IbSettings.model_validate(raw["ib"])
    assert settings.port == 4002
    assert set(raw["ib"]) == set(IbSettings.model_fields)  # the example documents every key


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_an_ib_broker_from_settings_refuses_calls_before_connect() -> None:
    broker: Broker = IbBroker(IbSettings(port=_closed_port()))
    with pytest.raises(BrokerUnavailable, match="not connected"):
        await broker.account()
    with pytest.raises(BrokerUnavailable, match="not connected"):
        await broker.place_order(Order("alvh-1", (), 1, 1.0))


async def test_an_unreachable_gateway_is_unavailable_with_what_to_check() -> None:
    port = _closed_port()
    broker = IbBroker(IbSettings(port=port, connect_timeout=2.0))
    with pytest.raises(BrokerUnavailable, match=f"not reachable at 127.0.0.1:{port}"):
        await broker.connect()
    assert broker.state == "not connected" and broker.port == port
