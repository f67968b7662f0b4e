"""Channels from Python: parsing, webhook verification, intake through the engine and
stock-push planning. Conversions and errors are checked here; the rules themselves are
tested in the Rust crate."""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path

import pytest

import ordersmith

FIXTURES = Path(__file__).resolve().parents[2] / "channels" / "tests" / "fixtures"


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def test_parse_gives_exact_decimals_and_utc_times() -> None:
    order = ordersmith.parse_channel_order("shopify", fixture("shopify/multi_line_discounted.json"))
    assert order["external_id"] == "5160000000000012345"
    assert order["placed_at"] == datetime(2026, 11, 20, 13, 30, tzinfo=timezone.utc)
    assert order["lines"][0]["unit_price"] == Decimal("12.50")
    assert order["status"]["lifecycle"] == {"stage": "confirmed"}
    assert order["mismatches"] == []


def test_malformed_payload_is_a_channel_input_error_with_path() -> None:
    with pytest.raises(ordersmith.ChannelInputError) as info:
        ordersmith.parse_channel_order("trendyol", b'{"orderNumber": "1", "lines": [')
    assert info.value.code == "CHANNEL_MALFORMED_JSON"
    assert info.value.details["channel"] == "trendyol"
    body = fixture("woo_commerce/processing_inclusive.json").replace(b'"quantity": 3', b'"quantity": -3', 1)
    with pytest.raises(ValueError) as bad:
        ordersmith.parse_channel_order("woo_commerce", body)
    assert isinstance(bad.value, ordersmith.ChannelError)
    assert bad.value.details["path"] == "$.line_items[0].quantity"


def test_arguments_are_checked_with_their_names() -> None:
    with pytest.raises(ordersmith.EngineInputError) as info:
        ordersmith.parse_channel_order("shopify", "{}")  # type: ignore[arg-type]
    assert info.value.details["field"] == "body"
    with pytest.raises(ordersmith.EngineInputError) as unknown:
        ordersmith.parse_channel_order("myspace", b"{}")  # type: ignore[arg-type]
    assert unknown.value.details["field"] == "channel"


def test_hmac_webhook_good_tampered_and_ping() -> None:
    body = b'{"id":1,"total_price":"10.00"}'
    sig = base64.b64encode(hmac.new(b"secret", body, hashlib.sha256).digest()).decode()
    headers = {"x-shopify-hmac-sha256": sig}
    assert ordersmith.verify_hmac_webhook("shopify", headers, body, ["new", "secret"]) == "event"
    with pytest.raises(ordersmith.WebhookError) as info:
        ordersmith.verify_hmac_webhook("shopify", headers, body + b" ", ["secret"])
    assert info.value.code == "WEBHOOK_UNAUTHENTICATED"
    assert ordersmith.verify_hmac_webhook("woo_commerce", {}, b"webhook_id=3", ["secret"]) == "ping"
    with pytest.raises(ordersmith.WebhookInputError):
        ordersmith.verify_hmac_webhook("woo_commerce", {}, body, ["secret"])


def test_basic_auth_and_api_key() -> None:
    good = {"Authorization": "Basic " + base64.b64encode(b"me:pw").decode()}
    assert ordersmith.verify_basic_auth("hepsiburada", good, "me", "pw") == "event"
    with pytest.raises(ordersmith.WebhookError):
        ordersmith.verify_basic_auth("hepsiburada", good, "me", "other")
    assert ordersmith.verify_api_key("trendyol", {"X-Api-Key": "k1"}, "x-api-key", "k1") == "event"
    with pytest.raises(ordersmith.WebhookInputError):
        ordersmith.verify_ebay_webhook({}, b"{}", {})


def _intake(engine: ordersmith.Engine) -> ordersmith.ChannelIntake:
    intake = ordersmith.ChannelIntake(engine)
    intake.set_listing("trendyol", "TEA", sku="TEA-500", barcode="8690000000011")
    intake.set_listing("trendyol", "CUP", sku="CUP", barcode="8690000000028")
    return intake


def test_intake_is_idempotent_and_updates_in_place(engine: ordersmith.Engine) -> None:
    intake = _intake(engine)
    first = intake.import_payload("trendyol", fixture("trendyol/new_names.json"))
    assert first["outcome"] == "created"
    order = first["order"]
    assert isinstance(order, ordersmith.Order)
    assert order.status == "confirmed" and order.totals.total == Decimal("235")
    again = intake.import_payload("trendyol", fixture("trendyol/new_names.json"))
    assert again["outcome"] == "unchanged" and again["order"].id == order.id
    split = intake.import_payload("trendyol", fixture("trendyol/split_packages.json"))
    assert split["outcome"] == "updated" and split["applied"] == ["ship L1x1"]
    stale = intake.import_payload("trendyol", fixture("trendyol/new_names.json"))
    assert stale["outcome"] == "stale"
    assert engine.order(order.id).lines[0].shipped == 1


def test_mapping_and_intake_log_persist_with_the_store(tmp_path: Path) -> None:
    path = tmp_path / "shop.db"
    first = ordersmith.Engine.open(path)
    intake = _intake(first)
    created = intake.import_payload("trendyol", fixture("trendyol/new_names.json"))
    assert created["outcome"] == "created" and created["unmapped"] == []
    assert intake.import_payload("trendyol", fixture("trendyol/split_packages.json"))["outcome"] == "updated"
    del intake, first
    again = ordersmith.Engine.open(path)
    # No listing given this time: the map is in the file, and so is the intake log that
    # knows the created-status delivery is older than what was applied.
    intake = ordersmith.ChannelIntake(again)
    assert "TEA-500" in intake.mapping_json()
    late = intake.import_payload("trendyol", fixture("trendyol/new_names.json"))
    assert late["outcome"] == "stale" and late["order"].id == created["order"].id
    assert len(again.list_orders()) == 1


def test_unmapped_sku_holds_the_order(engine: ordersmith.Engine) -> None:
    report = ordersmith.ChannelIntake(engine).import_payload("trendyol", fixture("trendyol/new_names.json"))
    assert report["unmapped"] == ["TEA-500", "CUP"]
    assert report["order"].hold["reason"] == "unmapped_sku"


def test_mapping_snapshot_round_trips_and_conflicts_are_typed(engine: ordersmith.Engine) -> None:
    intake = _intake(engine)
    copy = ordersmith.ChannelIntake(engine, mapping_json=intake.mapping_json())
    assert copy.mapping_json() == intake.mapping_json()
    with pytest.raises(ordersmith.MappingConflictError):
        intake.set_listing("trendyol", "MUG", sku="CUP")
    with pytest.raises(ordersmith.MappingInputError):
        ordersmith.ChannelIntake(engine, mapping_json="{\"listings\": 3}")


def test_stock_push_plan_and_acknowledge(engine: ordersmith.Engine) -> None:
    engine.add_location("WH", "Warehouse", 1, "TR-34")
    for sku in ["TEA", "CUP"]:
        engine.register_variant(sku)
        engine.receive(sku, "WH", 10)
    engine.set_channel_rule("trendyol", share_percent=100, buffer=2)
    intake = _intake(engine)
    planner = ordersmith.StockPushPlanner("trendyol_inventory", seller_id="42")
    now = datetime(2026, 11, 20, 10, tzinfo=timezone.utc)
    plan = intake.plan_stock_push(planner, now)
    [request] = plan["requests"]
    assert request["path"] == "/integration/inventory/sellers/42/products/price-and-inventory"
    assert sorted(i["quantity"] for i in request["body"]["items"]) == [8, 8]
    assert planner.in_flight() == [request["id"]]
    ack = intake.acknowledge_stock_push(planner, request["id"], ["8690000000028"])
    assert list(ack["pushed"]) == ["TEA"] and ack["failed"] == ["CUP"]
    retry = intake.plan_stock_push(planner, now)
    assert [i["external_key"] for i in retry["requests"][0]["items"]] == ["8690000000028"]
    # A 429 with Retry-After: nothing goes before the time the channel named.
    later = datetime(2026, 11, 20, 10, 5, tzinfo=timezone.utc)
    planner.throttled(later)
    assert planner.next_allowed(now) == later
    with pytest.raises(ordersmith.EngineInputError):
        planner.throttled("soon")  # type: ignore[arg-type]
    with pytest.raises(ordersmith.PushNotFoundError):
        intake.acknowledge_stock_push(planner, "nope")
    with pytest.raises(ordersmith.PushInputError):
        ordersmith.StockPushPlanner("shopify_inventory")


def test_marketplace_fulfilled_listings_are_not_pushed(engine: ordersmith.Engine) -> None:
    engine.add_location("WH", "Warehouse", 1, "TR-34")
    for sku in ["TEA", "CUP"]:
        engine.register_variant(sku)
        engine.receive(sku, "WH", 10)
    engine.set_channel_rule("ebay", share_percent=100, buffer=0)
    intake = ordersmith.ChannelIntake(engine)
    intake.set_listing("ebay", "TEA", sku="TEA-500", offer_ids=["OFFER-1"])
    intake.set_listing("ebay", "CUP", sku="CUP", fulfilled_by_marketplace=True)
    planner = ordersmith.StockPushPlanner("ebay_bulk_price_quantity")
    plan = intake.plan_stock_push(planner, datetime(2026, 11, 20, 10, tzinfo=timezone.utc))
    assert plan["marketplace_fulfilled"] == ["CUP"]
    [request] = plan["requests"]
    [item] = request["body"]["requests"]
    assert item["sku"] == "TEA-500"
    assert item["offers"] == [{"offerId": "OFFER-1", "availableQuantity": 10}]
    with pytest.raises(ordersmith.EngineInputError):
        intake.set_listing("ebay", "TEA", offer_ids="OFFER-1")  # type: ignore[arg-type]


def test_claims_become_events_reported_once(engine: ordersmith.Engine) -> None:
    events = ordersmith.parse_channel_events("hepsiburada", fixture("claims/hepsiburada_claims.json"))
    assert events[0]["external_id"] == "CLM-77" and events[0]["amount"] == Decimal("89.9")
    intake = _intake(engine)
    order = intake.import_payload("trendyol", fixture("trendyol/new_names.json"))["order"]
    [first] = intake.import_events("trendyol", fixture("claims/trendyol_claims.json"))
    assert first["order_id"] == order.id and first["new"] is True
    [again] = intake.import_events("trendyol", fixture("claims/trendyol_claims.json"))
    assert again["new"] is False


def _shopify(quantity: int, updated: str) -> bytes:
    return (
        '{"id": 7100, "name": "#7100", "created_at": "2026-11-20T09:00:00Z", "updated_at": "2026-11-20T%s:00Z",'
        ' "currency": "USD", "taxes_included": false, "test": false, "financial_status": "paid",'
        ' "fulfillment_status": null, "total_price": "%d.00", "line_items": [{"id": 1, "sku": "MUG-RED",'
        ' "quantity": %d, "price": "10.00", "discount_allocations": [], "tax_lines": []}]}' % (updated, 10 * quantity, quantity)
    ).encode()


def test_channel_line_edits_are_applied_and_reported(engine: ordersmith.Engine) -> None:
    intake = ordersmith.ChannelIntake(engine)
    intake.set_listing("shopify", "MUG", sku="MUG-RED")
    assert intake.import_payload("shopify", _shopify(3, "09:00"))["outcome"] == "created"
    edited = intake.import_payload("shopify", _shopify(1, "09:30"))
    assert edited["applied"] == ["cancel units (channel edit) L1x2"]
    assert edited["line_changes"] == [
        {
            "kind": "quantity_reduced",
            "external_line_id": "1",
            "line_id": "L1",
            "from": 3,
            "to": 1,
            "applied": True,
            "blocked": None,
        }
    ]
    assert edited["order"].totals.total == Decimal("10.00")
    again = intake.import_payload("shopify", _shopify(1, "09:30"))
    assert again["outcome"] == "unchanged" and again["line_changes"] == []


def test_trendyol_discount_basis_is_reported(engine: ordersmith.Engine) -> None:
    parsed = ordersmith.parse_channel_order("trendyol", fixture("trendyol/discount_details_per_unit.json"))
    assert parsed["discount_basis"] == "per_unit"
    assert parsed["lines"][0]["discounts"][1] == {
        "label": "trendyol discount",
        "amount": Decimal("15"),
        "funded_by": "marketplace",
    }
    report = _intake(engine).import_payload("trendyol", fixture("trendyol/discount_details_per_unit.json"))
    assert report["discount_basis"] == "per_unit" and report["mismatches"] == []
    flagged = ordersmith.parse_channel_order("trendyol", fixture("trendyol/discount_mismatch.json"))
    assert flagged["discount_basis"] == "unreconciled"
    assert [m["figure"] for m in flagged["mismatches"]] == ["total", "discount"]
