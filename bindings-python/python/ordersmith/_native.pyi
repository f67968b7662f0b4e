"""Type stubs for ordersmith._native (the Rust extension). Checked by mypy.stubtest."""

import datetime
import os
from decimal import Decimal

from ordersmith import Error as _Error
from typing import Any, Dict, Iterable, List, Literal, Mapping, Optional, Sequence, Tuple, Type, TypedDict, Union, final

__all__ = [
    "Engine",
    "Order",
    "OrderLine",
    "Totals",
    "ImportIds",
    "ImportResult",
    "OrderPage",
    "OrderIterator",
    "ChannelIntake",
    "StockPushPlanner",
    "parse_channel_order",
    "parse_channel_events",
    "verify_hmac_webhook",
    "verify_basic_auth",
    "verify_api_key",
    "verify_ebay_webhook",
    "allocate",
    "choose_carrier",
    "error_codes",
    "render_notification",
    "RuleSet",
    "load_rules",
    "validate_rules",
    "rules_json_schema",
    "_register_error_classes",
    "INTERNAL_PANIC",
    "__version__",
]
__version__: str
INTERNAL_PANIC: str

_Amount = Union[Decimal, int, str]
_OrderStatus = Literal["pending", "confirmed", "processing", "on_hold", "completed", "cancelled"]
_PaymentStatus = Literal["unpaid", "partially_paid", "paid", "partially_refunded", "refunded", "authorised", "voided"]
_FulfilmentStatus = Literal["unfulfilled", "partially_fulfilled", "fulfilled", "partially_returned", "returned"]
_HoldReason = Literal["fraud_review", "address_check", "payment", "insufficient_stock", "customer_request", "reservation_expired", "unmapped_sku", "other"]
_CancelReason = Literal["customer", "fraud", "inventory", "declined", "staff", "reservation_expired", "other"]
_Sourcing = Literal["priority", "fewest_shipments", "nearest_region"]
_ShortagePolicy = Literal["fail", "hold"]
_ExpiryPolicy = Literal["hold", "cancel"]
_ShortPickPolicy = Literal["resource", "backorder", "cancel_line"]
_Policy = Literal["deny", "backorder", "preorder"]
_LocationKind = Literal["warehouse", "store", "dropship"]
_AdjustmentReason = Literal["damage", "loss", "found", "correction"]
_Row = Dict[str, Any]
_Channel = Literal["shopify", "woo_commerce", "trendyol", "hepsiburada", "amazon_v0", "amazon_2026", "ebay"]
_PushTarget = Literal[
    "shopify_inventory",
    "woo_commerce_batch",
    "trendyol_inventory",
    "hepsiburada_stock_upload",
    "amazon_listings_patch",
    "amazon_listings_feed",
    "ebay_bulk_price_quantity",
]
_Verified = Literal["event", "ping"]

class _DumpStats(TypedDict):
    orders: int
    idempotency: int
    stock: int
    outbox: int
    records: int
    documents: int

class _Sweep(TypedDict):
    released: List[str]
    orders: List["Order"]
    events: List[_Row]

def parse_channel_order(channel: _Channel, body: Union[bytes, bytearray]) -> _Row: ...
def parse_channel_events(channel: _Channel, body: Union[bytes, bytearray]) -> List[_Row]: ...
def verify_hmac_webhook(
    channel: _Channel, headers: Mapping[str, str], body: Union[bytes, bytearray], secrets: Sequence[str]
) -> _Verified: ...
def verify_basic_auth(channel: _Channel, headers: Mapping[str, str], username: str, password: str) -> _Verified: ...
def verify_api_key(channel: _Channel, headers: Mapping[str, str], header: str, api_key: str) -> _Verified: ...
def verify_ebay_webhook(
    headers: Mapping[str, str], body: Union[bytes, bytearray], public_keys: Mapping[str, str]
) -> _Verified: ...
def allocate(total: _Amount, weights: Iterable[_Amount], currency: str) -> List[Decimal]: ...
def error_codes() -> List[Dict[str, str]]: ...
def choose_carrier(quotes: Iterable[Mapping[str, Any]], policy: Mapping[str, Any]) -> _Row: ...
def render_notification(notification: Mapping[str, Any], overrides: Optional[str] = None) -> _Row: ...
class _RuleProblem(TypedDict):
    rule: str
    path: str
    code: str
    message: str

class _RuleContext(TypedDict):
    locations: Optional[List[str]]
    currencies: Optional[List[str]]
    carrier_services: Optional[List[str]]

@final
class RuleSet:
    @property
    def names(self) -> List[str]: ...
    def to_json(self) -> str: ...
    def __len__(self) -> int: ...

def load_rules(
    json: str,
    *,
    locations: Optional[Sequence[str]] = None,
    currencies: Optional[Sequence[str]] = None,
    carrier_services: Optional[Sequence[str]] = None,
) -> RuleSet: ...
def validate_rules(
    json: str,
    *,
    locations: Optional[Sequence[str]] = None,
    currencies: Optional[Sequence[str]] = None,
    carrier_services: Optional[Sequence[str]] = None,
) -> List[_RuleProblem]: ...
def rules_json_schema() -> str: ...
def _register_error_classes(mapping: Dict[str, Type[BaseException]], fallback: Type[BaseException]) -> None: ...

@final
class Totals:
    @property
    def subtotal(self) -> Decimal: ...
    @property
    def discount_total(self) -> Decimal: ...
    @property
    def shipping_total(self) -> Decimal: ...
    @property
    def tax_total(self) -> Decimal: ...
    @property
    def total(self) -> Decimal: ...
    @property
    def currency(self) -> str: ...

@final
class OrderLine:
    @property
    def id(self) -> str: ...
    @property
    def variant(self) -> str: ...
    @property
    def title(self) -> Optional[str]: ...
    @property
    def external_ref(self) -> Optional[str]: ...
    @property
    def quantity(self) -> int: ...
    @property
    def unit_price(self) -> Decimal: ...
    @property
    def cancelled(self) -> int: ...
    @property
    def allocated(self) -> int: ...
    @property
    def shipped(self) -> int: ...
    @property
    def delivered(self) -> int: ...
    @property
    def returned(self) -> int: ...
    @property
    def active_quantity(self) -> int: ...
    @property
    def open_quantity(self) -> int: ...
    @property
    def discounts(self) -> List[_Row]: ...
    @property
    def tax_lines(self) -> List[_Row]: ...
    @property
    def allocations(self) -> List[_Row]: ...
    @property
    def subtotal(self) -> Decimal: ...
    @property
    def discount(self) -> Decimal: ...
    @property
    def tax(self) -> Decimal: ...
    @property
    def total(self) -> Decimal: ...

@final
class Order:
    def __hash__(self) -> int: ...
    def __eq__(self, value: object, /) -> bool: ...
    def __reduce__(self) -> Tuple[Any, Tuple[str]]: ...
    @staticmethod
    def _from_state(state: str) -> Order: ...
    @property
    def id(self) -> str: ...
    @property
    def version(self) -> int: ...
    @property
    def channel(self) -> str: ...
    @property
    def external_ref(self) -> Optional[str]: ...
    @property
    def placed_at(self) -> datetime.datetime: ...
    @property
    def currency(self) -> str: ...
    @property
    def taxes_included(self) -> bool: ...
    @property
    def status(self) -> _OrderStatus: ...
    @property
    def payment_status(self) -> _PaymentStatus: ...
    @property
    def fulfilment_status(self) -> _FulfilmentStatus: ...
    @property
    def hold(self) -> Optional[_Row]: ...
    @property
    def cancel_reason(self) -> Optional[_CancelReason]: ...
    @property
    def reservation_ttl_minutes(self) -> Optional[int]: ...
    @property
    def fulfilments(self) -> List[_Row]: ...
    @property
    def automation(self) -> _Row: ...
    @property
    def payments(self) -> List[_Row]: ...
    @property
    def rmas(self) -> List[_Row]: ...
    @property
    def lines(self) -> Tuple[OrderLine, ...]: ...
    @property
    def tags(self) -> Tuple[str, ...]: ...
    @property
    def notes(self) -> Tuple[str, ...]: ...
    @property
    def customer(self) -> Optional[_Row]: ...
    @property
    def shipping_address(self) -> Optional[_Row]: ...
    @property
    def amount_paid(self) -> Decimal: ...
    @property
    def amount_refunded(self) -> Decimal: ...
    @property
    def totals(self) -> Totals: ...
    @property
    def balance_due(self) -> Decimal: ...
    def to_dict(self) -> _Row: ...
    def to_json(self) -> str: ...

@final
class ImportResult:
    @property
    def orders(self) -> List[Order]: ...
    @property
    def errors(self) -> List[Tuple[int, _Error]]: ...

@final
class ImportIds:
    @property
    def placed(self) -> List[Tuple[int, str]]: ...
    @property
    def errors(self) -> List[Tuple[int, _Error]]: ...

@final
class OrderPage:
    @property
    def orders(self) -> List[Order]: ...
    @property
    def next_cursor(self) -> Optional[str]: ...
    def __len__(self) -> int: ...

@final
class OrderIterator:
    def __iter__(self) -> OrderIterator: ...
    def __next__(self) -> Order: ...

@final
class Engine:
    def close(self) -> None: ...
    @property
    def closed(self) -> bool: ...
    def __enter__(self) -> Engine: ...
    def __exit__(self, _exc_type: object = None, _exc: object = None, _traceback: object = None) -> bool: ...
    @staticmethod
    def in_memory(
        *,
        reserve_on_confirm: bool = True,
        sourcing: _Sourcing = "priority",
        allow_split: bool = True,
        on_shortage: _ShortagePolicy = "fail",
        reservation_ttl: Optional[datetime.timedelta] = None,
        reservation_ttl_by_channel: Optional[Mapping[str, Optional[datetime.timedelta]]] = None,
        on_reservation_expiry: _ExpiryPolicy = "hold",
        payment_stops_reservation_clock: bool = True,
        short_pick: _ShortPickPolicy = "resource",
        sscc: Optional[Mapping[str, Any]] = None,
        shipping_calendar: Optional[Mapping[str, Any]] = None,
        transit_days: Tuple[int, int] = (1, 3),
        notifications: Optional[Mapping[str, Any]] = None,
        returns: Optional[Mapping[str, Any]] = None,
    ) -> Engine: ...
    @staticmethod
    def open(
        path: Union[str, "os.PathLike[str]"],
        *,
        synchronous: Literal["full", "normal"] = "full",
        reserve_on_confirm: bool = True,
        sourcing: _Sourcing = "priority",
        allow_split: bool = True,
        on_shortage: _ShortagePolicy = "fail",
        reservation_ttl: Optional[datetime.timedelta] = None,
        reservation_ttl_by_channel: Optional[Mapping[str, Optional[datetime.timedelta]]] = None,
        on_reservation_expiry: _ExpiryPolicy = "hold",
        payment_stops_reservation_clock: bool = True,
        short_pick: _ShortPickPolicy = "resource",
        sscc: Optional[Mapping[str, Any]] = None,
        shipping_calendar: Optional[Mapping[str, Any]] = None,
        transit_days: Tuple[int, int] = (1, 3),
        notifications: Optional[Mapping[str, Any]] = None,
        returns: Optional[Mapping[str, Any]] = None,
    ) -> Engine: ...
    @staticmethod
    def connect(
        url: str,
        *,
        schema: Optional[str] = None,
        pool_size: int = 4,
        reserve_on_confirm: bool = True,
        sourcing: _Sourcing = "priority",
        allow_split: bool = True,
        on_shortage: _ShortagePolicy = "fail",
        reservation_ttl: Optional[datetime.timedelta] = None,
        reservation_ttl_by_channel: Optional[Mapping[str, Optional[datetime.timedelta]]] = None,
        on_reservation_expiry: _ExpiryPolicy = "hold",
        payment_stops_reservation_clock: bool = True,
        short_pick: _ShortPickPolicy = "resource",
        sscc: Optional[Mapping[str, Any]] = None,
        shipping_calendar: Optional[Mapping[str, Any]] = None,
        transit_days: Tuple[int, int] = (1, 3),
        notifications: Optional[Mapping[str, Any]] = None,
        returns: Optional[Mapping[str, Any]] = None,
    ) -> Engine: ...
    # orders
    def place_order(
        self, order: Mapping[str, Any], *, actor: Optional[str] = None, idempotency_key: Optional[str] = None
    ) -> Order: ...
    def place_order_then(
        self,
        order: Mapping[str, Any],
        then: Sequence[Mapping[str, Any]],
        *,
        actor: Optional[str] = None,
        idempotency_key: Optional[str] = None,
    ) -> Tuple[Order, bool]: ...
    def import_orders(self, orders: Iterable[Mapping[str, Any]], *, actor: Optional[str] = None) -> ImportResult: ...
    def import_orders_jsonl(self, data: Union[bytes, bytearray, str], *, actor: Optional[str] = None) -> ImportResult: ...
    def import_orders_jsonl_ids(self, data: Union[bytes, bytearray, str], *, actor: Optional[str] = None) -> ImportIds: ...
    # moving a shop between stores
    def export_dump(self, path: Union[str, "os.PathLike[str]"]) -> _DumpStats: ...
    def import_dump(self, path: Union[str, "os.PathLike[str]"]) -> _DumpStats: ...
    def confirm_orders(self, order_ids: Sequence[str], *, actor: Optional[str] = None) -> ImportResult: ...
    def execute_many(
        self, items: Iterable[Tuple[str, Mapping[str, Any]]], *, actor: Optional[str] = None
    ) -> ImportResult: ...
    def confirm(self, order_id: str, *, actor: Optional[str] = None, idempotency_key: Optional[str] = None) -> Order: ...
    def hold(
        self,
        order_id: str,
        reason: _HoldReason,
        note: Optional[str] = None,
        *,
        actor: Optional[str] = None,
        idempotency_key: Optional[str] = None,
    ) -> Order: ...
    def release_hold(self, order_id: str, *, actor: Optional[str] = None, idempotency_key: Optional[str] = None) -> Order: ...
    def cancel(
        self,
        order_id: str,
        reason: _CancelReason = "customer",
        *,
        actor: Optional[str] = None,
        idempotency_key: Optional[str] = None,
    ) -> Order: ...
    def cancel_lines(
        self,
        order_id: str,
        lines: Mapping[str, int],
        reason: _CancelReason = "customer",
        *,
        actor: Optional[str] = None,
        idempotency_key: Optional[str] = None,
    ) -> Order: ...
    def edit(
        self,
        order_id: str,
        edits: Sequence[Mapping[str, Any]],
        *,
        actor: Optional[str] = None,
        idempotency_key: Optional[str] = None,
    ) -> Order: ...
    def record_payment(
        self, order_id: str, amount: _Amount, *, actor: Optional[str] = None, idempotency_key: Optional[str] = None
    ) -> Order: ...
    def mark_paid(self, order_id: str, *, actor: Optional[str] = None, idempotency_key: Optional[str] = None) -> Order: ...
    def record_refund(
        self, order_id: str, amount: _Amount, *, actor: Optional[str] = None, idempotency_key: Optional[str] = None
    ) -> Order: ...
    def record_shipment(
        self, order_id: str, lines: Mapping[str, int], *, actor: Optional[str] = None, idempotency_key: Optional[str] = None
    ) -> Order: ...
    def record_delivery(
        self, order_id: str, lines: Mapping[str, int], *, actor: Optional[str] = None, idempotency_key: Optional[str] = None
    ) -> Order: ...
    def record_return(
        self, order_id: str, lines: Mapping[str, int], *, actor: Optional[str] = None, idempotency_key: Optional[str] = None
    ) -> Order: ...
    def complete(self, order_id: str, *, actor: Optional[str] = None, idempotency_key: Optional[str] = None) -> Order: ...
    def tag(
        self,
        order_id: str,
        add: Sequence[str] = ...,
        remove: Sequence[str] = ...,
        *,
        actor: Optional[str] = None,
        idempotency_key: Optional[str] = None,
    ) -> Order: ...
    def add_note(
        self, order_id: str, note: str, *, actor: Optional[str] = None, idempotency_key: Optional[str] = None
    ) -> Order: ...
    def order(self, order_id: str) -> Order: ...
    def history(self, order_id: str) -> List[_Row]: ...
    def list_orders(
        self,
        status: Optional[_OrderStatus] = None,
        channel: Optional[str] = None,
        placed_from: Optional[datetime.datetime] = None,
        placed_to: Optional[datetime.datetime] = None,
        limit: Optional[int] = None,
    ) -> List[Order]: ...
    def list_orders_page(
        self,
        status: Optional[_OrderStatus] = None,
        channel: Optional[str] = None,
        placed_from: Optional[datetime.datetime] = None,
        placed_to: Optional[datetime.datetime] = None,
        *,
        after: Optional[str] = None,
        limit: int = 100,
    ) -> OrderPage: ...
    def iter_orders(
        self,
        status: Optional[_OrderStatus] = None,
        channel: Optional[str] = None,
        placed_from: Optional[datetime.datetime] = None,
        placed_to: Optional[datetime.datetime] = None,
        *,
        page_size: int = 100,
    ) -> OrderIterator: ...
    def pending_effects(self, limit: int = 100) -> List[_Row]: ...
    def acknowledge_effect(self, id: str) -> bool: ...
    def sourcing_plan(self, order_id: str) -> Optional[_Row]: ...
    # automation rules
    def rule_context(self) -> _RuleContext: ...
    def load_rules(self, json: str) -> RuleSet: ...
    def set_rules(self, live: Optional[RuleSet], shadow: Optional[RuleSet] = None) -> None: ...
    def set_rule_facts(
        self,
        *,
        weights_grams: Optional[Mapping[str, int]] = None,
        currencies: Optional[Sequence[str]] = None,
        carrier_services: Optional[Sequence[str]] = None,
        max_chain_depth: Optional[int] = None,
    ) -> None: ...
    def dry_run_rules(
        self,
        rules: RuleSet,
        *,
        status: Optional[_OrderStatus] = None,
        channel: Optional[str] = None,
        placed_from: Optional[datetime.datetime] = None,
        placed_to: Optional[datetime.datetime] = None,
    ) -> _Row: ...
    def shadow_report(
        self,
        *,
        status: Optional[_OrderStatus] = None,
        channel: Optional[str] = None,
        placed_from: Optional[datetime.datetime] = None,
        placed_to: Optional[datetime.datetime] = None,
    ) -> _Row: ...
    def run_ship_by_risk_rules(self, margin: datetime.timedelta) -> List[str]: ...
    def refund_quote(
        self,
        order_id: str,
        lines: Mapping[str, int],
        *,
        refund_shipping: bool = False,
        restocking_fee_rate: Optional[_Amount] = None,
    ) -> _Row: ...
    # KPIs (rows ready for pandas / polars; decimals as exact strings)
    def kpi_tables(self, time_zone: str, query: Optional[Mapping[str, Any]] = None) -> Dict[str, List[_Row]]: ...
    def kpi_csv(self, table: str, time_zone: str, query: Optional[Mapping[str, Any]] = None) -> str: ...
    def kpi_json(self, time_zone: str, query: Optional[Mapping[str, Any]] = None) -> str: ...
    def kpi_insights(
        self, time_zone: str, query: Optional[Mapping[str, Any]] = None, threshold: float = 0.1
    ) -> List[_Row]: ...
    def kpi_report_html(
        self,
        time_zone: str,
        *,
        title: Optional[str] = None,
        query: Optional[Mapping[str, Any]] = None,
        insight_grain: str = "iso_week",
        threshold: float = 0.1,
    ) -> str: ...
    # returns: the RMA workflow and store credit
    def request_return(
        self,
        order_id: str,
        lines: Sequence[Mapping[str, Any]],
        *,
        note: Optional[str] = None,
        exchange: Optional[Sequence[Mapping[str, Any]]] = None,
        actor: Optional[str] = None,
        idempotency_key: Optional[str] = None,
    ) -> Order: ...
    def override_return(
        self, order_id: str, rma: str, reason: str, *, actor: Optional[str] = None, idempotency_key: Optional[str] = None
    ) -> Order: ...
    def reject_return(
        self, order_id: str, rma: str, reason: str, *, actor: Optional[str] = None, idempotency_key: Optional[str] = None
    ) -> Order: ...
    def request_return_label(
        self, order_id: str, rma: str, service: str, *, actor: Optional[str] = None, idempotency_key: Optional[str] = None
    ) -> Order: ...
    def record_return_label(
        self, order_id: str, rma: str, carrier: str, tracking_number: str, *, actor: Optional[str] = None, idempotency_key: Optional[str] = None
    ) -> Order: ...
    def mark_return_in_transit(
        self, order_id: str, rma: str, *, actor: Optional[str] = None, idempotency_key: Optional[str] = None
    ) -> Order: ...
    def receive_return(
        self, order_id: str, rma: str, location: str, lines: Mapping[str, int], *, actor: Optional[str] = None, idempotency_key: Optional[str] = None
    ) -> Order: ...
    def inspect_return(
        self, order_id: str, rma: str, units: Sequence[Mapping[str, Any]], *, actor: Optional[str] = None, idempotency_key: Optional[str] = None
    ) -> Order: ...
    def resolve_return(
        self,
        order_id: str,
        rma: str,
        resolution: Literal["refund", "store_credit", "exchange"],
        *,
        actor: Optional[str] = None,
        idempotency_key: Optional[str] = None,
    ) -> Order: ...
    def close_return(
        self, order_id: str, rma: str, *, actor: Optional[str] = None, idempotency_key: Optional[str] = None
    ) -> Order: ...
    def return_value(self, order_id: str, rma: str) -> _Row: ...
    def store_credit(self, customer_id: str) -> Optional[_Row]: ...
    def spend_store_credit(
        self, order_id: str, amount: _Amount, *, actor: Optional[str] = None, idempotency_key: Optional[str] = None
    ) -> Order: ...
    # payments through a provider
    def authorise_payment(
        self, order_id: str, provider: str, amount: _Amount, method: Optional[str] = None, *, actor: Optional[str] = None, idempotency_key: Optional[str] = None
    ) -> Order: ...
    def confirm_authorisation(
        self, order_id: str, payment: str, provider_ref: str, amount: _Amount, *, actor: Optional[str] = None, idempotency_key: Optional[str] = None
    ) -> Order: ...
    def fail_authorisation(
        self, order_id: str, payment: str, reason: str, *, actor: Optional[str] = None, idempotency_key: Optional[str] = None
    ) -> Order: ...
    def capture_payment(
        self, order_id: str, payment: str, amount: _Amount, *, actor: Optional[str] = None, idempotency_key: Optional[str] = None
    ) -> Order: ...
    def confirm_capture(
        self, order_id: str, payment: str, provider_ref: str, amount: _Amount, *, actor: Optional[str] = None, idempotency_key: Optional[str] = None
    ) -> Order: ...
    def void_payment(
        self, order_id: str, payment: str, *, actor: Optional[str] = None, idempotency_key: Optional[str] = None
    ) -> Order: ...
    def refund_payment(
        self, order_id: str, payment: str, amount: _Amount, *, actor: Optional[str] = None, idempotency_key: Optional[str] = None
    ) -> Order: ...
    def confirm_refund(
        self, order_id: str, payment: str, provider_ref: str, amount: _Amount, *, actor: Optional[str] = None, idempotency_key: Optional[str] = None
    ) -> Order: ...
    def fail_capture(
        self, order_id: str, payment: str, reason: str, *, actor: Optional[str] = None, idempotency_key: Optional[str] = None
    ) -> Order: ...
    def fail_refund(
        self, order_id: str, payment: str, reason: str, *, actor: Optional[str] = None, idempotency_key: Optional[str] = None
    ) -> Order: ...
    # fulfilment: the warehouse flow
    def fulfilment_orders(self, order_id: str) -> List[_Row]: ...
    def pick_list(self, order_id: str, fulfilment: str) -> List[_Row]: ...
    def pick(
        self,
        order_id: str,
        fulfilment: str,
        picked: Mapping[str, int],
        short: Optional[Mapping[str, int]] = None,
        *,
        actor: Optional[str] = None,
        idempotency_key: Optional[str] = None,
    ) -> Order: ...
    def pack(
        self,
        order_id: str,
        fulfilment: str,
        units: Mapping[str, int],
        *,
        weight_grams: int,
        length_mm: int,
        width_mm: int,
        height_mm: int,
        actor: Optional[str] = None,
        idempotency_key: Optional[str] = None,
    ) -> Order: ...
    def request_label(
        self,
        order_id: str,
        fulfilment: str,
        parcel: str,
        service: str,
        *,
        actor: Optional[str] = None,
        idempotency_key: Optional[str] = None,
    ) -> Order: ...
    def record_label(
        self,
        order_id: str,
        fulfilment: str,
        parcel: str,
        *,
        carrier: str,
        service: str,
        tracking_number: str,
        label_ref: Optional[str] = None,
        actor: Optional[str] = None,
        idempotency_key: Optional[str] = None,
    ) -> Order: ...
    def hand_over(
        self, order_id: str, fulfilment: str, parcel: str, *, actor: Optional[str] = None, idempotency_key: Optional[str] = None
    ) -> Order: ...
    def hold_fulfilment(
        self, order_id: str, fulfilment: str, reason: str, *, actor: Optional[str] = None, idempotency_key: Optional[str] = None
    ) -> Order: ...
    def release_fulfilment(
        self, order_id: str, fulfilment: str, *, actor: Optional[str] = None, idempotency_key: Optional[str] = None
    ) -> Order: ...
    def move_fulfilment(
        self, order_id: str, fulfilment: str, to: str, *, actor: Optional[str] = None, idempotency_key: Optional[str] = None
    ) -> Order: ...
    def record_tracking_event(
        self,
        order_id: str,
        fulfilment: str,
        parcel: str,
        code: str,
        occurred_at: datetime.datetime,
        location: Optional[str] = None,
        *,
        actor: Optional[str] = None,
        idempotency_key: Optional[str] = None,
    ) -> Order: ...
    def timeline(self, order_id: str, locale: Optional[str] = None) -> _Row: ...
    def ship_by(self, order_id: str) -> Optional[datetime.datetime]: ...
    # invoices and credit notes
    def configure_invoicing(self, config: Mapping[str, Any]) -> None: ...
    def invoicing(self) -> Optional[_Row]: ...
    def issue_invoice(self, order_id: str, *, shipment: Optional[str] = None, actor: Optional[str] = None) -> _Row: ...
    def issue_credit_note(self, number: str, amount: _Amount, reason: str, *, actor: Optional[str] = None) -> _Row: ...
    def document(self, number: str) -> _Row: ...
    def document_json(self, number: str) -> str: ...
    def order_documents(self, order_id: str) -> List[_Row]: ...
    def document_html(self, number: str, locale: Optional[str] = None) -> str: ...
    def document_cii(self, number: str) -> str: ...
    def fulfilments_due(self, margin: datetime.timedelta) -> List[_Row]: ...
    def cancel_fulfilment(
        self,
        order_id: str,
        fulfilment: str,
        reason: _CancelReason = "staff",
        *,
        actor: Optional[str] = None,
        idempotency_key: Optional[str] = None,
    ) -> Order: ...
    # stock setup
    def add_location(self, id: str, name: str, priority: int, region: str, kind: _LocationKind = "warehouse") -> List[_Row]: ...
    def register_variant(self, sku: str, policy: _Policy = "deny", backorder_limit: Optional[int] = None) -> List[_Row]: ...
    def set_policy(self, sku: str, policy: _Policy, backorder_limit: Optional[int] = None) -> List[_Row]: ...
    def set_safety_stock(self, sku: str, location: str, units: int) -> List[_Row]: ...
    def set_low_stock_threshold(self, sku: str, threshold: Optional[int]) -> List[_Row]: ...
    def define_bundle(self, bundle: str, components: Mapping[str, int]) -> List[_Row]: ...
    def set_channel_rule(
        self, channel: str, share_percent: int = 100, buffer: int = 0, locations: Optional[Sequence[str]] = None
    ) -> List[_Row]: ...
    def mark_pushed(self, channel: str, quantities: Mapping[str, int]) -> List[_Row]: ...
    # goods movements
    def receive(self, sku: str, location: str, quantity: int, reference: Optional[str] = None) -> List[_Row]: ...
    def receive_many(
        self, items: Iterable[Union[Mapping[str, Any], Tuple[str, str, int], Tuple[str, str, int, Optional[str]]]]
    ) -> int: ...
    def expect_incoming(self, sku: str, location: str, quantity: int, reference: Optional[str] = None) -> List[_Row]: ...
    def cancel_incoming(self, sku: str, location: str, quantity: int, reference: Optional[str] = None) -> List[_Row]: ...
    def adjust(
        self, sku: str, location: str, delta: int, reason: _AdjustmentReason, reference: Optional[str] = None
    ) -> List[_Row]: ...
    def transfer(self, id: str, sku: str, from_: str, to: str, quantity: int) -> List[_Row]: ...
    def receive_transfer(self, id: str) -> List[_Row]: ...
    def restock_return(self, sku: str, location: str, quantity: int, reference: Optional[str] = None) -> List[_Row]: ...
    def quarantine(self, sku: str, location: str, quantity: int, reference: Optional[str] = None) -> List[_Row]: ...
    def release_quarantine(self, sku: str, location: str, quantity: int, reference: Optional[str] = None) -> List[_Row]: ...
    def write_off(
        self,
        sku: str,
        location: str,
        quantity: int,
        from_: Literal["on_hand", "quarantine"] = "on_hand",
        reference: Optional[str] = None,
    ) -> List[_Row]: ...
    # reservations and counts
    def reserve(
        self,
        id: str,
        sku: str,
        location: str,
        quantity: int,
        expires_at: Optional[datetime.datetime] = None,
        reference: Optional[str] = None,
    ) -> List[_Row]: ...
    def commit(self, id: str, quantity: Optional[int] = None) -> List[_Row]: ...
    def release(self, id: str, quantity: Optional[int] = None) -> List[_Row]: ...
    def set_reservation_expiry(
        self, id: str, expires_at: Optional[datetime.datetime] = None
    ) -> List[_Row]: ...
    def expire_reservations(self) -> List[_Row]: ...
    def sweep_expired_reservations(self) -> _Sweep: ...
    def reservations(
        self,
        *,
        sku: Optional[str] = None,
        location: Optional[str] = None,
        order_id: Optional[str] = None,
        expiring_before: Optional[datetime.datetime] = None,
    ) -> List[_Row]: ...
    def open_count(self, id: str, location: str, skus: Sequence[str]) -> _Row: ...
    def record_count(self, id: str, sku: str, counted: int) -> List[_Row]: ...
    def close_count(
        self, id: str, unit_costs: Optional[Mapping[str, _Amount]] = None, currency: Optional[str] = None
    ) -> _Row: ...
    # reads
    def level(self, sku: str, location: str) -> _Row: ...
    def levels(self, sku: str) -> _Row: ...
    def stock_position(self) -> List[_Row]: ...
    def journal(self, since: int = 0) -> List[_Row]: ...
    def forecast(self, sku: str, window_days: int = 30, lead_time_days: int = 7, review_period_days: int = 14) -> _Row: ...
    def sales_velocity(self, sku: str, window_days: int = 30) -> Decimal: ...
    def channel_quantities(self, channel: str) -> Dict[str, int]: ...
    def changed_since_last_push(self, channel: str) -> Dict[str, int]: ...

@final
class StockPushPlanner:
    def __new__(
        cls,
        target: _PushTarget,
        *,
        seller_id: Optional[str] = None,
        marketplace_id: Optional[str] = None,
        location_id: Optional[str] = None,
    ) -> StockPushPlanner: ...
    @property
    def target(self) -> _PushTarget: ...
    def in_flight(self) -> List[str]: ...
    def throttled(self, until: datetime.datetime) -> None: ...
    def next_allowed(self, now: datetime.datetime) -> datetime.datetime: ...

@final
class ChannelIntake:
    def __new__(
        cls,
        engine: Engine,
        *,
        mapping_json: Optional[str] = None,
        import_test_orders: bool = False,
        import_marketplace_fulfilled: bool = False,
    ) -> ChannelIntake: ...
    def set_listing(
        self,
        channel: str,
        variant: str,
        *,
        sku: Optional[str] = None,
        barcode: Optional[str] = None,
        variant_id: Optional[str] = None,
        inventory_item_id: Optional[str] = None,
        product_type: Optional[str] = None,
        offer_ids: Optional[Sequence[str]] = None,
        fulfilled_by_marketplace: bool = False,
    ) -> None: ...
    def mapping_json(self) -> str: ...
    def import_payload(self, channel: _Channel, body: Union[bytes, bytearray]) -> _Row: ...
    def import_events(self, channel: _Channel, body: Union[bytes, bytearray]) -> List[_Row]: ...
    def plan_stock_push(self, planner: StockPushPlanner, now: datetime.datetime) -> _Row: ...
    def acknowledge_stock_push(
        self, planner: StockPushPlanner, request_id: str, failed_keys: Optional[Sequence[str]] = None
    ) -> _Row: ...
