//! Customer notifications asked of the host: every customer-visible stage an order's
//! events reach becomes one `notification.requested` event (and so one outbox record)
//! per configured channel the customer can be reached on.
//!
//! Once only: a notification's dedupe key (order, stage, subject, channel) is recorded
//! on the order, and a key already there is never asked for again — a retried call, a
//! replayed sweep or a stage reached twice sends nothing new. The subject is the parcel
//! for shipping stages, and the event's version for holds and refunds (each hold or
//! refund is its own message).

use std::collections::BTreeMap;

use crate::fulfilment::{ApplyOutcome, TrackingStatus};
use crate::notify::{Locale, Notification, NotificationChannel, TemplateKey};
use crate::order::{HoldReason, Order, OrderEvent};
use crate::pii::Redacted;

use super::{EngineConfig, NotificationConfig};

/// The customer's name, or a neutral greeting in their language.
fn customer_name(order: &Order, locale: Locale) -> String {
    match &order.customer {
        Some(c) if !c.name.expose().trim().is_empty() => c.name.expose().clone(),
        _ => match locale {
            Locale::Tr => "değerli müşterimiz".to_string(),
            _ => "customer".to_string(),
        },
    }
}

fn order_ref(order: &Order) -> String {
    order
        .external_ref
        .as_deref()
        .map_or_else(|| order.id.to_string(), str::to_string)
}

/// Where a stage's values come from: the parcel (carrier, tracking), or nothing more.
struct Stage<'a> {
    key: TemplateKey,
    subject: Option<String>,
    parcel: Option<&'a crate::fulfilment::Parcel>,
    extra: Vec<(&'static str, String)>,
}

fn parcel_of<'a>(
    order: &'a Order,
    fulfilment: &str,
    parcel: &str,
) -> Option<&'a crate::fulfilment::Parcel> {
    order.fulfilment(fulfilment).and_then(|f| f.parcel(parcel))
}

/// The stages `events` reach, in order. `first_version` is the version of the first
/// event.
fn stages<'a>(order: &'a Order, events: &[OrderEvent], first_version: u64) -> Vec<Stage<'a>> {
    let mut out = Vec::new();
    for (event, version) in events.iter().zip(first_version..) {
        let stage = match event {
            OrderEvent::Placed(_) => Some((TemplateKey::OrderReceived, None, None, vec![])),
            OrderEvent::Confirmed => Some((TemplateKey::OrderConfirmed, None, None, vec![])),
            OrderEvent::Held { reason, .. }
                if matches!(
                    reason,
                    HoldReason::Payment | HoldReason::AddressCheck | HoldReason::ReservationExpired
                ) =>
            {
                let reason = serde_json::to_value(reason)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_string))
                    .unwrap_or_default();
                Some((
                    TemplateKey::OrderOnHoldActionNeeded,
                    Some(format!("hold-v{version}")),
                    None,
                    vec![("hold_reason", reason)],
                ))
            }
            OrderEvent::ParcelHandedOver {
                fulfilment, parcel, ..
            } => parcel_of(order, fulfilment, parcel).map(|p| {
                (
                    TemplateKey::OrderShipped,
                    Some(p.id.clone()),
                    Some(p),
                    vec![],
                )
            }),
            OrderEvent::ParcelTracked(tracked) => {
                parcel_of(order, &tracked.fulfilment, &tracked.parcel).and_then(|p| {
                    let record = p
                        .tracking
                        .as_ref()?
                        .history()
                        .iter()
                        .rev()
                        .find(|r| r.event == tracked.event)?;
                    let key = match record.outcome {
                        ApplyOutcome::Advanced { to, .. } => match to {
                            TrackingStatus::OutForDelivery => TemplateKey::OutForDelivery,
                            TrackingStatus::Delivered => TemplateKey::Delivered,
                            TrackingStatus::DeliveryFailed => TemplateKey::DeliveryFailed,
                            _ => return None,
                        },
                        _ => return None,
                    };
                    Some((key, Some(p.id.clone()), Some(p), vec![]))
                })
            }
            OrderEvent::Cancelled { reason } => {
                let reason = serde_json::to_value(reason)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_string))
                    .unwrap_or_default();
                Some((
                    TemplateKey::OrderCancelled,
                    None,
                    None,
                    vec![("cancel_reason", reason)],
                ))
            }
            OrderEvent::RefundRecorded { .. } | OrderEvent::PaymentRefunded(_) => {
                event.refunded_amount().map(|amount| {
                    (
                        TemplateKey::RefundIssued,
                        Some(format!("refund-v{version}")),
                        None,
                        vec![("refund_amount", amount.to_string())],
                    )
                })
            }
            OrderEvent::Return(e) => super::returns::notification_stage(order, e, version)
                .map(|(key, subject, extra)| (key, Some(subject), None, extra)),
            _ => None,
        };
        if let Some((key, subject, parcel, extra)) = stage {
            out.push(Stage {
                key,
                subject,
                parcel,
                extra,
            });
        }
    }
    out
}

fn recipient(order: &Order, channel: NotificationChannel) -> Option<String> {
    let c = order.customer.as_ref()?;
    let to = match channel {
        NotificationChannel::Email => c.email.as_ref().map(|e| e.expose().clone()),
        NotificationChannel::Sms => c.phone.as_ref().map(|p| p.expose().clone()),
        NotificationChannel::Push => c.id.as_ref().map(ToString::to_string),
    }?;
    (!to.trim().is_empty()).then_some(to)
}

fn fill(template: &str, pairs: &[(&str, &str)]) -> String {
    let mut out = template.to_string();
    for (name, value) in pairs {
        out = out.replace(&format!("{{{name}}}"), value);
    }
    out
}

fn variables(
    config: &NotificationConfig,
    order: &Order,
    stage: &Stage<'_>,
    locale: Locale,
) -> BTreeMap<String, String> {
    let mut vars = BTreeMap::new();
    let reference = order_ref(order);
    vars.insert("order_ref".to_string(), reference.clone());
    vars.insert("customer_name".to_string(), customer_name(order, locale));
    if let (Some(url), true) = (&config.order_url, stage.key.declares("order_url")) {
        vars.insert("order_url".into(), fill(url, &[("order_ref", &reference)]));
    }
    if let (Some(url), true) = (&config.action_url, stage.key.declares("action_url")) {
        vars.insert("action_url".into(), fill(url, &[("order_ref", &reference)]));
    }
    if let Some(label) = stage.parcel.and_then(|p| p.label.as_ref()) {
        if stage.key.declares("carrier") {
            vars.insert("carrier".into(), label.carrier.to_uppercase());
        }
        if stage.key.declares("tracking_number") {
            vars.insert("tracking_number".into(), label.tracking_number.clone());
        }
        if stage.key.declares("tracking_url") {
            let url = match &config.tracking_url {
                Some(t) => fill(
                    t,
                    &[
                        ("tracking_number", &label.tracking_number),
                        ("carrier", &label.carrier),
                    ],
                ),
                None => label.tracking_number.clone(),
            };
            vars.insert("tracking_url".into(), url);
        }
    }
    for (name, value) in &stage.extra {
        vars.insert((*name).to_string(), value.clone());
    }
    vars
}

/// The `notification.requested` events a rule's `notify` action asks for: the
/// template's message for the order as a whole, on every configured channel the
/// customer can be reached on, once per (rule, channel): the dedupe key's subject is
/// `rule-<name>`, so a rule firing again never messages the customer twice.
pub(crate) fn rule_requests(
    config: &EngineConfig,
    order: &Order,
    key: TemplateKey,
    rule: &str,
) -> Vec<OrderEvent> {
    let stage = Stage {
        key,
        subject: Some(format!("rule-{rule}")),
        parcel: None,
        extra: Vec::new(),
    };
    requests_for(config, order, vec![stage])
}

/// The `notification.requested` events for the stages `events` reached on `order`
/// (which already has them applied).
pub(crate) fn requests(
    config: &EngineConfig,
    order: &Order,
    events: &[OrderEvent],
) -> Vec<OrderEvent> {
    // Without a notification setup there is nothing to ask for: skip listing the
    // stages (an allocation on every write).
    if config.notifications.is_none() {
        return Vec::new();
    }
    let first_version = order
        .version
        .saturating_sub(events.len() as u64)
        .saturating_add(1);
    requests_for(config, order, stages(order, events, first_version))
}

fn requests_for(config: &EngineConfig, order: &Order, stages: Vec<Stage<'_>>) -> Vec<OrderEvent> {
    let Some(notify) = &config.notifications else {
        return Vec::new();
    };
    let locale = order
        .customer
        .as_ref()
        .and_then(|c| c.locale.as_deref())
        .map_or(Locale::En, Locale::from_tag);
    let mut out = Vec::new();
    let mut seen = order.notified.clone();
    for stage in stages {
        if stage.key == TemplateKey::OrderOnHoldActionNeeded && notify.action_url.is_none() {
            continue;
        }
        for &channel in &notify.channels {
            if order.notification_opt_outs.contains(&channel) {
                continue;
            }
            let Some(to) = recipient(order, channel) else {
                continue;
            };
            let key = Notification::dedupe_key_for(
                &order.id,
                stage.key,
                stage.subject.as_deref(),
                channel,
            );
            if seen.contains(&key) {
                continue;
            }
            let vars = variables(notify, order, &stage, locale);
            // Values the engine cannot supply (a stage needing a link nobody
            // configured) leave the notification out rather than blank in an inbox.
            let Ok(notification) = Notification::new(
                &order.id,
                stage.key,
                stage.subject.as_deref(),
                channel,
                locale,
                Redacted::new(to),
                vars,
            ) else {
                continue;
            };
            seen.insert(key);
            out.push(OrderEvent::NotificationRequested {
                notification: Box::new(notification),
            });
        }
    }
    out
}
