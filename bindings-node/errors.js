'use strict'
// The one place where native failures become JavaScript errors.
//
// The addon throws (or rejects with) an Error whose message is ERROR_MARKER followed by
// JSON {code, kind, message, details}; `toError` turns it into an instance of the
// class of the code's module (OrderError, StockError, ...), all subclasses of
// OrdersmithError, with `.code` (the core's stable code), `.kind` (what a caller can do:
// invalid_input, not_found, conflict, rejected, unavailable, internal) and `.details`
// (the core error's fields). The module of a code is the core's own classification
// (`errorCodes()`), never decided here.

class OrdersmithError extends Error {
  constructor(message, { code, kind, details } = {}) {
    super(message)
    this.name = new.target.name
    this.code = code
    this.kind = kind
    this.details = details ?? {}
  }
}

/** Module prefix of a code (ORDER_NOT_FOUND -> order) -> class. */
const MODULE_CLASSES = {}
function moduleClass(name, module) {
  const cls = { [name]: class extends OrdersmithError {} }[name]
  MODULE_CLASSES[module] = cls
  return cls
}

const MoneyError = moduleClass('MoneyError', 'money')
const IdError = moduleClass('IdError', 'id')
const CatalogError = moduleClass('CatalogError', 'catalog')
const OrderError = moduleClass('OrderError', 'order')
const StockError = moduleClass('StockError', 'stock')
const SourcingError = moduleClass('SourcingError', 'sourcing')
const StoreError = moduleClass('StoreError', 'store')
const EngineError = moduleClass('EngineError', 'engine')
const DumpError = moduleClass('DumpError', 'dump')
const FulfilmentError = moduleClass('FulfilmentError', 'fulfilment')
const NotifyError = moduleClass('NotifyError', 'notify')
const PaymentError = moduleClass('PaymentError', 'payment')
const ReturnsError = moduleClass('ReturnsError', 'returns')
const ChannelError = moduleClass('ChannelError', 'channel')
const WebhookError = moduleClass('WebhookError', 'webhook')
const PushError = moduleClass('PushError', 'push')
const MappingError = moduleClass('MappingError', 'mapping')
const IntakeError = moduleClass('IntakeError', 'intake')
const InvoiceError = moduleClass('InvoiceError', 'invoice')
const KpiError = moduleClass('KpiError', 'kpi')
const RulesError = moduleClass('RulesError', 'rules')
const InternalError = moduleClass('InternalError', 'internal')

/** The class errors with `code` are thrown as (OrdersmithError for unknown modules). */
function errorClass(code) {
  if (code === 'INTERNAL_PANIC') return InternalError
  const module = String(code).split('_')[0].toLowerCase()
  return MODULE_CLASSES[module] ?? OrdersmithError
}

/** An error from its JSON form ({code, kind, message, details}). */
function fromJson(info) {
  const cls = errorClass(info.code)
  return new cls(info.message, { code: info.code, kind: info.kind, details: info.details })
}

/** A native failure as its OrdersmithError; anything else unchanged. */
function toError(marker, err) {
  if (err instanceof Error && typeof err.message === 'string' && err.message.startsWith(marker)) {
    let info
    try {
      info = JSON.parse(err.message.slice(marker.length))
    } catch {
      return err
    }
    const out = fromJson(info)
    if (err.stack) out.stack = `${out.name}: ${out.message}\n${err.stack.split('\n').slice(1).join('\n')}`
    return out
  }
  return err
}

module.exports = {
  OrdersmithError,
  MoneyError,
  IdError,
  CatalogError,
  OrderError,
  StockError,
  SourcingError,
  StoreError,
  EngineError,
  DumpError,
  FulfilmentError,
  NotifyError,
  PaymentError,
  ReturnsError,
  ChannelError,
  WebhookError,
  PushError,
  MappingError,
  IntakeError,
  InvoiceError,
  KpiError,
  RulesError,
  InternalError,
  MODULE_CLASSES,
  errorClass,
  fromJson,
  toError,
}
