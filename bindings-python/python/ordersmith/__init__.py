"""ordersmith: an embeddable order-management engine, driven from Python.

The engine, its rules and its error codes live in the Rust core; this package is a thin
binding. Errors are :class:`Error` subclasses carrying the core's stable ``code``, its
``kind`` and ``details`` (the error's fields). Input errors are also ``ValueError``,
"not found" errors also ``LookupError``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Dict, Iterable, List, Mapping, Optional, Tuple, Type

from . import _native
from ._native import (
    ChannelIntake,
    Engine,
    ImportIds,
    ImportResult,
    Order,
    OrderIterator,
    OrderLine,
    OrderPage,
    StockPushPlanner,
    Totals,
    allocate,
    choose_carrier,
    error_codes,
    render_notification,
    RuleSet,
    load_rules,
    rules_json_schema,
    validate_rules,
    parse_channel_events,
    parse_channel_order,
    verify_api_key,
    verify_basic_auth,
    verify_ebay_webhook,
    verify_hmac_webhook,
)

if TYPE_CHECKING:  # pragma: no cover
    import pandas  # type: ignore[import-not-found,import-untyped,unused-ignore]
    import polars  # type: ignore[import-not-found,import-untyped,unused-ignore]

__version__: str = _native.__version__

#: Code of a Rust panic caught at the boundary: a bug in ordersmith, never bad input.
INTERNAL_PANIC: str = _native.INTERNAL_PANIC


class Error(Exception):
    """Base of every ordersmith error.

    ``code`` is the core's stable code (``"STOCK_INSUFFICIENT"``), ``kind`` what a caller
    can do about it (``invalid_input``, ``not_found``, ``conflict``, ``rejected``,
    ``unavailable``; ``internal`` for a caught panic), and ``details`` the error's fields.
    """

    code: str
    kind: str
    details: Dict[str, Any]

    def __init__(
        self,
        message: str,
        *,
        code: str = "",
        kind: str = "",
        details: Optional[Dict[str, Any]] = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.kind = kind
        self.details = dict(details or {})

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.code!r}, message={self.message!r})"

    def __reduce__(self) -> Any:  # keep code/kind/details through pickling
        return (_rebuild, (type(self), self.message, self.code, self.kind, self.details))


def _rebuild(cls: Type[Error], message: str, code: str, kind: str, details: Dict[str, Any]) -> Error:
    return cls(message, code=code, kind=kind, details=details)


class InternalError(Error):
    """A Rust panic caught at the boundary (code ``INTERNAL_PANIC``); please report it."""


# One class per core module.
class MoneyError(Error):
    """Money: currencies, precision, allocation."""


class IdError(Error):
    """Identifiers: empty, too long, invalid characters."""


class CatalogError(Error):
    """Catalogue: GTINs, variant options."""


class OrderError(Error):
    """The order aggregate and its state machine."""


class StockError(Error):
    """The stock ledger."""


class SourcingError(Error):
    """Sourcing: which locations fulfil which lines."""


class StoreError(Error):
    """The store: version conflicts, unavailability, corruption."""


class EngineError(Error):
    """The engine facade: conflicts, idempotency, input it could not convert."""


class DumpError(Error):
    """Exporting or importing a store as JSON lines."""


class FulfilmentError(Error):
    """The warehouse flow: fulfilment orders, picks, parcels, labels, hand-over."""


class FulfilmentInputError(FulfilmentError, ValueError):
    """A warehouse step the order cannot take (packing more than picked, a bad parcel or
    label, moving to an unknown location, ...)."""


class FulfilmentNotFoundError(FulfilmentError, LookupError):
    """No such fulfilment order or parcel on the order."""


class PaymentError(Error):
    """Payments through a provider: authorise, capture, void, refund."""


class PaymentInputError(PaymentError, ValueError):
    """A payment step with a bad amount or text."""


class PaymentNotFoundError(PaymentError, LookupError):
    """No payment with that id on the order."""


class ReturnsError(Error):
    """Returns and refund quotes."""


class ReturnsInputError(ReturnsError, ValueError):
    """A return of more than was delivered, or a bad refund policy."""


class ReturnsNotFoundError(ReturnsError, LookupError):
    """A line the order does not have."""


class NotifyError(Error):
    """Customer notifications: templates, variables, locales, channels."""


class NotifyInputError(NotifyError, ValueError):
    """A template or its variables that cannot be loaded or rendered."""


class NotifyNotFoundError(NotifyError, LookupError):
    """No template for that key, locale and channel."""


class InvoiceError(Error):
    """Invoices and credit notes: configuration, issuing, crediting, rendering."""


class InvoiceInputError(InvoiceError, ValueError):
    """A bad invoicing configuration, number format or credit amount."""


class InvoiceNotFoundError(InvoiceError, LookupError):
    """No invoice or credit note with that number."""


class KpiError(Error):
    """KPIs: facts, queries, insights and the report."""


class KpiInputError(KpiError, ValueError):
    """A KPI query or fact that cannot work: a bad time zone, an empty date range, ..."""


class KpiNotFoundError(KpiError, LookupError):
    """No such KPI table (or a fact names an order or line the KPIs do not know)."""


class RulesError(Error):
    """Automation rules: a rule set that cannot be loaded. ``details["problems"]`` lists
    every problem (``rule``, ``path``, ``code``, ``message``)."""


class RulesInputError(RulesError, ValueError):
    """A rule set with problems (``RULES_INVALID``) or not JSON (``RULES_MALFORMED_JSON``)."""


class DumpInputError(DumpError, ValueError):
    """A dump file that is not in the format (truncated, out of sequence, foreign)."""


# Input errors are also ValueError; "not found" errors are also LookupError.
class MoneyInputError(MoneyError, ValueError):
    """Invalid money input (unknown currency, too precise, negative, ...)."""


class IdInputError(IdError, ValueError):
    """An invalid identifier."""


class CatalogInputError(CatalogError, ValueError):
    """Invalid catalogue input."""


class OrderInputError(OrderError, ValueError):
    """Invalid order input (no lines, bad quantity, unknown line, ...)."""


class StockInputError(StockError, ValueError):
    """Invalid stock input (bad quantity, same location, bad parameter, ...)."""


class SourcingInputError(SourcingError, ValueError):
    """Invalid sourcing input."""


class EngineInputError(EngineError, ValueError):
    """An argument the engine could not accept or convert (code ``ENGINE_INVALID_INPUT``):
    a float amount, a naive datetime, a wrong type, an unknown field."""


class OrderNotFoundError(OrderError, LookupError):
    """No order with that id."""


class StockNotFoundError(StockError, LookupError):
    """Unknown variant, location, reservation, transfer, count or channel."""


class OrderConflictError(OrderError):
    """The order already exists."""


class StockConflictError(StockError):
    """An id was used before with different data."""


class StoreConflictError(StoreError):
    """A concurrent save won; reload and retry."""


class EngineConflictError(EngineError):
    """Concurrent changes, or an idempotency key or channel reference used differently."""


class StoreUnavailableError(StoreError):
    """The store failed; nothing was changed; retry later."""


# The channels crate (``ordersmith-channels``): one class per module, like the core.
class ChannelError(Error):
    """A channel payload that could not be read (names the channel and the JSON path)."""


class ChannelInputError(ChannelError, ValueError):
    """A malformed channel payload: missing field, wrong type, bad amount or time, ..."""


class WebhookError(Error):
    """A webhook delivery that is not authentic (``WEBHOOK_UNAUTHENTICATED``)."""


class WebhookInputError(WebhookError, ValueError):
    """A missing or malformed authentication header, or an unusable key."""


class PushError(Error):
    """Planning or acknowledging stock pushes to a channel."""


class PushInputError(PushError, ValueError):
    """Push limits or account fields that cannot work."""


class PushNotFoundError(PushError, LookupError):
    """No stock-push request with that id is in flight."""


class MappingError(Error):
    """The identifier map: a SKU already mapped elsewhere, a bad snapshot."""


class MappingInputError(MappingError, ValueError):
    """A mapping snapshot that is not in the format."""


class MappingConflictError(MappingError):
    """An external identifier already names another variant on that channel."""


class IntakeError(Error):
    """Channel intake: the intake log failed."""


_BY_MODULE: Dict[str, Type[Error]] = {
    "money": MoneyError,
    "id": IdError,
    "catalog": CatalogError,
    "order": OrderError,
    "stock": StockError,
    "sourcing": SourcingError,
    "store": StoreError,
    "engine": EngineError,
    "dump": DumpError,
    "fulfilment": FulfilmentError,
    "notify": NotifyError,
    "kpi": KpiError,
    "payment": PaymentError,
    "returns": ReturnsError,
    "invoice": InvoiceError,
    "rules": RulesError,
    "channel": ChannelError,
    "webhook": WebhookError,
    "push": PushError,
    "mapping": MappingError,
    "intake": IntakeError,
}

_BY_MODULE_AND_KIND: Dict[Tuple[str, str], Type[Error]] = {
    ("money", "invalid_input"): MoneyInputError,
    ("id", "invalid_input"): IdInputError,
    ("catalog", "invalid_input"): CatalogInputError,
    ("order", "invalid_input"): OrderInputError,
    ("stock", "invalid_input"): StockInputError,
    ("sourcing", "invalid_input"): SourcingInputError,
    ("engine", "invalid_input"): EngineInputError,
    ("dump", "invalid_input"): DumpInputError,
    ("fulfilment", "invalid_input"): FulfilmentInputError,
    ("fulfilment", "not_found"): FulfilmentNotFoundError,
    ("notify", "invalid_input"): NotifyInputError,
    ("notify", "not_found"): NotifyNotFoundError,
    ("kpi", "invalid_input"): KpiInputError,
    ("kpi", "not_found"): KpiNotFoundError,
    ("payment", "invalid_input"): PaymentInputError,
    ("payment", "not_found"): PaymentNotFoundError,
    ("returns", "invalid_input"): ReturnsInputError,
    ("returns", "not_found"): ReturnsNotFoundError,
    ("invoice", "invalid_input"): InvoiceInputError,
    ("invoice", "not_found"): InvoiceNotFoundError,
    ("rules", "invalid_input"): RulesInputError,
    ("order", "not_found"): OrderNotFoundError,
    ("stock", "not_found"): StockNotFoundError,
    ("order", "conflict"): OrderConflictError,
    ("stock", "conflict"): StockConflictError,
    ("store", "conflict"): StoreConflictError,
    ("engine", "conflict"): EngineConflictError,
    ("store", "unavailable"): StoreUnavailableError,
    ("channel", "invalid_input"): ChannelInputError,
    ("webhook", "invalid_input"): WebhookInputError,
    ("push", "invalid_input"): PushInputError,
    ("push", "not_found"): PushNotFoundError,
    ("mapping", "invalid_input"): MappingInputError,
    ("mapping", "conflict"): MappingConflictError,
}


def _error_classes() -> Dict[str, Type[Error]]:
    """code -> class, from the core's catalogue (the core classifies; we only map)."""
    classes: Dict[str, Type[Error]] = {INTERNAL_PANIC: InternalError}
    for info in error_codes():
        module, kind = info["module"], info["kind"]
        classes[info["code"]] = _BY_MODULE_AND_KIND.get((module, kind), _BY_MODULE.get(module, Error))
    return classes


#: Every known code and the class its errors are raised as.
ERROR_CLASSES: Mapping[str, Type[Error]] = _error_classes()
_native._register_error_classes(dict(ERROR_CLASSES), Error)


def error_class(code: str) -> Type[Error]:
    """The class errors with ``code`` are raised as (``Error`` for an unknown code)."""
    return ERROR_CLASSES.get(code, Error)


def _rows(rows: Iterable[Mapping[str, Any]]) -> List[Dict[str, Any]]:
    return [dict(r) for r in rows]


def to_pandas(rows: Iterable[Mapping[str, Any]]) -> "pandas.DataFrame":
    """Rows (``stock_position()``, ``journal()``, ...) as a pandas DataFrame.

    pandas is optional: install it with ``pip install pandas``.
    """
    try:
        import pandas  # type: ignore[import-not-found,import-untyped,unused-ignore]
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise ImportError("ordersmith.to_pandas needs pandas: pip install pandas") from e
    return pandas.DataFrame(_rows(rows))


def to_polars(rows: Iterable[Mapping[str, Any]]) -> "polars.DataFrame":
    """Rows (``stock_position()``, ``journal()``, ...) as a polars DataFrame.

    polars is optional: install it with ``pip install polars``.
    """
    try:
        import polars  # type: ignore[import-not-found,import-untyped,unused-ignore]
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise ImportError("ordersmith.to_polars needs polars: pip install polars") from e
    return polars.DataFrame(_rows(rows))


__all__ = [
    "ChannelIntake",
    "StockPushPlanner",
    "parse_channel_order",
    "parse_channel_events",
    "verify_hmac_webhook",
    "verify_basic_auth",
    "verify_api_key",
    "verify_ebay_webhook",
    "ChannelError",
    "ChannelInputError",
    "WebhookError",
    "WebhookInputError",
    "PushError",
    "PushInputError",
    "PushNotFoundError",
    "MappingError",
    "MappingInputError",
    "MappingConflictError",
    "IntakeError",
    "Engine",
    "ImportIds",
    "ImportResult",
    "Order",
    "OrderIterator",
    "OrderLine",
    "OrderPage",
    "Totals",
    "allocate",
    "choose_carrier",
    "render_notification",
    "error_codes",
    "error_class",
    "to_pandas",
    "to_polars",
    "ERROR_CLASSES",
    "INTERNAL_PANIC",
    "Error",
    "InternalError",
    "MoneyError",
    "IdError",
    "CatalogError",
    "OrderError",
    "StockError",
    "SourcingError",
    "StoreError",
    "EngineError",
    "DumpError",
    "DumpInputError",
    "FulfilmentError",
    "FulfilmentInputError",
    "FulfilmentNotFoundError",
    "NotifyError",
    "NotifyInputError",
    "NotifyNotFoundError",
    "KpiError",
    "KpiInputError",
    "KpiNotFoundError",
    "PaymentError",
    "PaymentInputError",
    "PaymentNotFoundError",
    "ReturnsError",
    "ReturnsInputError",
    "ReturnsNotFoundError",
    "InvoiceError",
    "InvoiceInputError",
    "InvoiceNotFoundError",
    "RuleSet",
    "load_rules",
    "validate_rules",
    "rules_json_schema",
    "RulesError",
    "RulesInputError",
    "MoneyInputError",
    "IdInputError",
    "CatalogInputError",
    "OrderInputError",
    "StockInputError",
    "SourcingInputError",
    "EngineInputError",
    "OrderNotFoundError",
    "StockNotFoundError",
    "OrderConflictError",
    "StockConflictError",
    "StoreConflictError",
    "EngineConflictError",
    "StoreUnavailableError",
]
