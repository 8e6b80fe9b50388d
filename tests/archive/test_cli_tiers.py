"""`orderhub order show` and `orderhub status` see both tiers: an order moved to the archive is shown
the same way, buyer PII masked unless asked, marked archived; status counts each seller's archived
orders. Every test runs on SQLite and on PostgreSQL, against a real Redis under a prefix of its own."""

from __future__ import annotations

from datetime import timedelta

import pytest
from click.testing import CliRunner

from orderhub.cli import main
from pipeline import keys
from pipeline.archive import get_order
from pipeline.archive.move import move_closed
from pipeline.model import Address, EventKind, OrderStatus, utc_now
from tests.factories import make_order, received

SELLER = "acme"
BUYER = "Zebulon Quixotic-Testperson"


@pytest.fixture
def cli_env(engine, redis_url, prefix, monkeypatch):
    monkeypatch.setenv("REDIS_URL", redis_url)
    monkeypatch.setenv("ORDERHUB_PREFIX", prefix)
    monkeypatch.setenv("ORDERHUB_DATABASE_URL", engine.url.render_as_string(hide_password=False))
    return prefix


def _archived(store, engine, n: int) -> str:
    """A cancelled order with a buyer in its payload and an address change on its timeline, moved out of Redis."""
    order = make_order(n, status=OrderStatus.CANCELLED, buyer=BUYER)
    store.upsert(SELLER, [received(order, raw={"order": {"AmazonOrderId": order.external_id,
                                                         "BuyerInfo": {"BuyerName": BUYER}}})])
    sent = Address(country="US", name=BUYER, line1="1 Old Road", city="Austin", region="TX", postal_code="78701")
    now = Address(country="US", name=BUYER, line1="9 New Street", city="Dallas", region="TX", postal_code="75201")
    store.append_event(SELLER, order.key, EventKind.ADDRESS_CHANGED, "east refused", addresses={"sent": sent, "now": now})
    report = move_closed(store, engine, SELLER, utc_now() + timedelta(seconds=1))
    assert report.archived >= 1 and store.get(SELLER, order.key) is None
    assert get_order(engine, SELLER, order.key) is not None
    return order.key


def test_order_show_falls_back_to_the_archive_masked_unless_asked(cli_env, engine, store):
    key = _archived(store, engine, 1)
    runner = CliRunner()
    masked = runner.invoke(main, ["order", "show", key, "--raw"])
    assert masked.exit_code == 0, masked.output
    head = masked.output.splitlines()[0]
    assert head.startswith(f"order {key}  seller {SELLER}  stage ") and "archived at " in head
    assert BUYER not in masked.output and "New Street" not in masked.output and "1 Test Street" not in masked.output
    assert '"city": "Austin"' in masked.output  # the canonical ship-to's place stays readable
    assert "sent: country=US, name=***, line1=***, city=Austin" in masked.output
    assert "address_changed" in masked.output and "received" in masked.output
    assert "raw bundle (only fields its connector declares safe" in masked.output
    assert '"AmazonOrderId": "ORD-0000001"' in masked.output  # on amazon's allow-list

    shown = runner.invoke(main, ["order", "show", key, "--pii", "--raw", "--seller", SELLER])
    assert shown.exit_code == 0, shown.output
    assert "archived at " in shown.output.splitlines()[0]
    assert shown.output.count(BUYER) >= 4  # canonical address, raw bundle, both timeline addresses
    assert "line1=9 New Street" in shown.output

    order = make_order(1)  # past the tombstone window its bucket is gone
    store.redis.delete(keys.tombstones(store.prefix, SELLER, order.platform, order.shop_id, order.placed_at.date()))
    late = runner.invoke(main, ["order", "show", key])
    assert late.exit_code == 0 and "archived (when is no longer kept, closed " in late.output.splitlines()[0]
    other = runner.invoke(main, ["order", "show", key, "--seller", "nobody"])
    assert other.exit_code == 1 and f"no order {key} for seller nobody" in other.output


def test_status_counts_each_seller_s_archived_orders(cli_env, engine, store):
    _archived(store, engine, 2)
    _archived(store, engine, 3)
    store.upsert(SELLER, [received(make_order(4))])
    result = CliRunner().invoke(main, ["status"])
    assert result.exit_code == 0, result.output
    lines = [" ".join(line.split()) for line in result.output.splitlines()]
    assert "amazon READY 1" in lines and "archived 2" in lines


def test_status_says_once_that_the_archive_is_unreachable_and_carries_on(redis_url, prefix, store, monkeypatch):
    monkeypatch.setenv("REDIS_URL", redis_url)
    monkeypatch.setenv("ORDERHUB_PREFIX", prefix)
    monkeypatch.setenv("ORDERHUB_DATABASE_URL", "postgresql://orderhub:s3cret-pw@127.0.0.1:1/nowhere")
    store.upsert(SELLER, [received(make_order(5))])
    store.upsert("globex", [received(make_order(6, seller="globex"))])
    result = CliRunner().invoke(main, ["status"])
    assert result.exit_code == 0, result.output
    trouble = [line for line in result.output.splitlines() if "unreachable" in line]
    assert len(trouble) == 1 and "archived orders and their holds not shown" in trouble[0] and "s3cret-pw" not in result.output
    lines = [" ".join(line.split()) for line in result.output.splitlines()]
    assert "seller acme" in lines and "seller globex" in lines and "amazon READY 1" in lines


def test_no_archive_yet_is_no_order_and_makes_no_file(redis_url, prefix, tmp_path, monkeypatch):
    monkeypatch.setenv("REDIS_URL", redis_url)
    monkeypatch.setenv("ORDERHUB_PREFIX", prefix)
    monkeypatch.setenv("ORDERHUB_DATABASE_URL", f"sqlite:///{tmp_path / 'none.sqlite3'}")
    result = CliRunner().invoke(main, ["order", "show", "amazon:x:nope"])
    assert result.exit_code == 1 and "no order amazon:x:nope" in result.output
    assert not (tmp_path / "none.sqlite3").exists()
