// The ES module entry of `ordersmith`: the same objects as the CommonJS entry.
import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)
const ordersmith = require('./index.js')

export default ordersmith
export const {
  Engine,
  OrderIterator,
  ChannelIntake,
  StockPushPlanner,
  parseChannelOrder,
  parseChannelEvents,
  verifyHmacWebhook,
  verifyBasicAuth,
  verifyApiKey,
  verifyEbayWebhook,
  chooseCarrier,
  renderNotification,
  allocate,
  errorCodes,
  errorClass,
  INTERNAL_PANIC,
  ERROR_MARKER,
  VERSION,
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
  InternalError,
} = ordersmith
