//! Customer notifications (the core's `notify` module): the message a
//! `notification.requested` effect asks for, rendered with the shipped English and
//! Turkish templates or the shop's overrides, so a host that sends its own messages
//! (SMS, push, e-mail) has the text and the address.

use ordersmith::notify::TemplateSet;
use ordersmith::order::OrderEvent;
use serde::Deserialize;

use crate::errors::OrdersmithError;
use crate::options::core_json;
use crate::ports::Effect;

/// A customer message ready to send.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct RenderedNotification {
    /// The order it is about.
    pub order_id: String,
    /// The stage (`order_received`, `shipped`, `delivered`, ...).
    pub key: String,
    /// The language used (`en`, `tr`; English when the customer's had no template).
    pub locale: String,
    /// How it reaches the customer: `email`, `sms` or `push`.
    pub channel: String,
    /// The customer's address on that channel (e-mail address, phone number, device).
    pub recipient: String,
    /// The e-mail subject or push title; `None` for SMS.
    pub subject: Option<String>,
    /// The text.
    pub body: String,
    /// Sending twice under the same key is one message to the customer.
    pub dedupe_key: String,
}

/// The part of an order event record the effect's payload is read for.
#[derive(Deserialize)]
struct Payload {
    event: OrderEvent,
}

/// The text of serialisable `value` (a snake-case enum), or empty.
fn name(value: impl serde::Serialize) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

/// Renders the message a `notification.requested` effect asks for (from
/// `drain_effects` or `pending_effects`), after applying `overrides_json` (the shop's
/// templates: `[{"key", "locale", "channel", "subject"?, "body"}]`, checked when
/// loaded). Any other effect is `ENGINE_INVALID_INPUT`.
#[uniffi::export(default(overrides_json = None))]
pub fn render_notification(
    effect: Effect,
    overrides_json: Option<String>,
) -> Result<RenderedNotification, OrdersmithError> {
    let payload: Payload = core_json(&effect.payload_json, "effect.payload_json")?;
    let OrderEvent::NotificationRequested { notification } = payload.event else {
        return Err(OrdersmithError::invalid(
            "effect",
            "is not a notification.requested effect",
        ));
    };
    let mut templates = TemplateSet::shipped()?;
    if let Some(json) = overrides_json {
        templates.load_overrides_json(&json)?;
    }
    let message = notification.render(&templates)?;
    Ok(RenderedNotification {
        order_id: notification.order_id().to_string(),
        key: name(message.key),
        locale: name(message.locale),
        channel: name(message.channel),
        recipient: notification.recipient().expose().clone(),
        subject: message.subject,
        body: message.body,
        dedupe_key: notification.dedupe_key().to_string(),
    })
}
