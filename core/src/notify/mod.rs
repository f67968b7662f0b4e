//! Customer communication as data: which message, in which language, on which channel,
//! to whom, with which values, and a key that makes a retry send it once.
//!
//! The core never sends anything. It renders a [`Notification`] with a [`TemplateSet`]
//! and hands the result to the host (through the outbox), which delivers it and uses
//! [`Notification::dedupe_key`] to drop repeats.
//!
//! Templates are plain text with named variables (`{customer_name}`). Every stage
//! ([`TemplateKey`]) declares the variables it may use and those it must use; a
//! template is checked when it is loaded, so an unknown or missing variable is an
//! error naming the template, locale, channel and variable before any customer sees
//! it, never a blank in someone's inbox.
//!
//! ```
//! use std::collections::BTreeMap;
//! use ordersmith::ids::OrderId;
//! use ordersmith::notify::{Locale, Notification, NotificationChannel, TemplateKey, TemplateSet};
//! use ordersmith::pii::Redacted;
//!
//! let templates = TemplateSet::shipped()?;
//! let vars = BTreeMap::from([
//!     ("order_ref".to_string(), "#1042".to_string()),
//!     ("carrier".to_string(), "PTT Kargo".to_string()),
//!     ("tracking_url".to_string(), "https://example.com/t/RR473124829TR".to_string()),
//! ]);
//! let n = Notification::new(
//!     &OrderId::parse("o-1").unwrap(),
//!     TemplateKey::OrderShipped,
//!     Some("parcel-1"),
//!     NotificationChannel::Sms,
//!     Locale::from_tag("tr-TR"),
//!     Redacted::new("+905551112233".to_string()),
//!     vars,
//! )?;
//! let msg = n.render(&templates)?;
//! assert_eq!(
//!     msg.body,
//!     "#1042 numaralı siparişiniz PTT Kargo ile kargoya verildi. Takip: https://example.com/t/RR473124829TR"
//! );
//! assert_eq!(n.dedupe_key(), "ntf:o-1:order_shipped:parcel=parcel-1:sms");
//! # Ok::<(), ordersmith::notify::NotifyError>(())
//! ```

pub mod templates;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::ids::{OrderId, MAX_ID_LEN};
use crate::pii::Redacted;

/// Why a template, a notification or a rendering was refused. Messages name
/// templates and variables, never a variable's value or a recipient.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, serde::Serialize)]
#[serde(untagged)]
pub enum NotifyError {
    /// A template's text is malformed: an unclosed `{`, a lone `}`, or a variable name
    /// that is not lower-case letters, digits and `_`.
    #[error("template {key}/{locale}/{channel} is malformed: {reason}")]
    TemplateSyntax {
        /// The stage.
        key: TemplateKey,
        /// The language.
        locale: Locale,
        /// The channel.
        channel: NotificationChannel,
        /// What is wrong.
        reason: &'static str,
    },
    /// A template uses a variable its stage does not declare.
    #[error("template {key}/{locale}/{channel} uses {{{variable}}}, which {key} does not declare")]
    TemplateUnknownVariable {
        /// The stage.
        key: TemplateKey,
        /// The language.
        locale: Locale,
        /// The channel.
        channel: NotificationChannel,
        /// The variable.
        variable: String,
    },
    /// A template leaves out a variable its stage requires.
    #[error("template {key}/{locale}/{channel} does not use {{{variable}}}, which {key} requires")]
    TemplateMissingVariable {
        /// The stage.
        key: TemplateKey,
        /// The language.
        locale: Locale,
        /// The channel.
        channel: NotificationChannel,
        /// The variable.
        variable: &'static str,
    },
    /// An e-mail or push template without a subject (title), or an SMS template with
    /// one, or a text over the length limit.
    #[error("template {key}/{locale}/{channel} is invalid: {reason}")]
    TemplateInvalid {
        /// The stage.
        key: TemplateKey,
        /// The language.
        locale: Locale,
        /// The channel.
        channel: NotificationChannel,
        /// What is wrong.
        reason: &'static str,
    },
    /// No template for the stage and channel, in the locale or in English.
    #[error("no template for {key}/{locale}/{channel}, nor in English")]
    TemplateNotFound {
        /// The stage.
        key: TemplateKey,
        /// The language asked for.
        locale: Locale,
        /// The channel.
        channel: NotificationChannel,
    },
    /// A variable the template uses or the stage requires was not supplied.
    #[error("{key} needs {{{variable}}}, which was not supplied")]
    VariableNotSupplied {
        /// The stage.
        key: TemplateKey,
        /// The variable.
        variable: String,
    },
    /// A variable was supplied that the stage does not declare (often a typo).
    #[error("{{{variable}}} is not a variable of {key}; it declares {declared}")]
    UnknownVariable {
        /// The stage.
        key: TemplateKey,
        /// The variable supplied.
        variable: String,
        /// The variables the stage declares, comma-separated.
        declared: String,
    },
    /// A variable's value is longer than [`MAX_VALUE_LEN`] characters.
    #[error("the value of {{{variable}}} is longer than {max} characters")]
    ValueTooLong {
        /// The variable.
        variable: String,
        /// The limit.
        max: usize,
    },
    /// The recipient was empty or longer than [`MAX_RECIPIENT_LEN`].
    #[error("the recipient is invalid: {reason}")]
    InvalidRecipient {
        /// What is wrong (never the recipient).
        reason: &'static str,
    },
    /// A parcel id was empty, too long, or held control or invisible characters.
    #[error("the parcel id is invalid: {reason}")]
    InvalidParcelId {
        /// What is wrong.
        reason: String,
    },
    /// Template overrides could not be read.
    #[error("template overrides are malformed: {reason}")]
    InvalidOverrides {
        /// What is wrong.
        reason: String,
    },
}

impl NotifyError {
    /// Every code this enum can return.
    pub const CODES: &'static [&'static str] = &[
        "NOTIFY_TEMPLATE_SYNTAX",
        "NOTIFY_TEMPLATE_UNKNOWN_VARIABLE",
        "NOTIFY_TEMPLATE_MISSING_VARIABLE",
        "NOTIFY_TEMPLATE_INVALID",
        "NOTIFY_TEMPLATE_NOT_FOUND",
        "NOTIFY_VARIABLE_NOT_SUPPLIED",
        "NOTIFY_UNKNOWN_VARIABLE",
        "NOTIFY_VALUE_TOO_LONG",
        "NOTIFY_INVALID_RECIPIENT",
        "NOTIFY_INVALID_PARCEL_ID",
        "NOTIFY_INVALID_OVERRIDES",
    ];

    /// The stable machine-readable code of this error.
    pub fn code(&self) -> &'static str {
        match self {
            Self::TemplateSyntax { .. } => "NOTIFY_TEMPLATE_SYNTAX",
            Self::TemplateUnknownVariable { .. } => "NOTIFY_TEMPLATE_UNKNOWN_VARIABLE",
            Self::TemplateMissingVariable { .. } => "NOTIFY_TEMPLATE_MISSING_VARIABLE",
            Self::TemplateInvalid { .. } => "NOTIFY_TEMPLATE_INVALID",
            Self::TemplateNotFound { .. } => "NOTIFY_TEMPLATE_NOT_FOUND",
            Self::VariableNotSupplied { .. } => "NOTIFY_VARIABLE_NOT_SUPPLIED",
            Self::UnknownVariable { .. } => "NOTIFY_UNKNOWN_VARIABLE",
            Self::ValueTooLong { .. } => "NOTIFY_VALUE_TOO_LONG",
            Self::InvalidRecipient { .. } => "NOTIFY_INVALID_RECIPIENT",
            Self::InvalidParcelId { .. } => "NOTIFY_INVALID_PARCEL_ID",
            Self::InvalidOverrides { .. } => "NOTIFY_INVALID_OVERRIDES",
        }
    }
}

/// The longest template text (subject or body), in characters.
pub const MAX_TEMPLATE_LEN: usize = 10_000;
/// The longest variable value, in characters.
pub const MAX_VALUE_LEN: usize = 2_000;
/// The longest recipient (e-mail address, phone number, push token), in characters.
pub const MAX_RECIPIENT_LEN: usize = 512;
/// The most overrides one call to [`TemplateSet::load_overrides_json`] accepts.
pub const MAX_OVERRIDES: usize = 1_000;

/// How a message reaches the customer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NotificationChannel {
    /// E-mail: a subject and a body.
    Email,
    /// Text message: a body only.
    Sms,
    /// Mobile push: a title (the subject) and a short body.
    Push,
}

impl NotificationChannel {
    /// Every channel.
    pub const ALL: [NotificationChannel; 3] = [
        NotificationChannel::Email,
        NotificationChannel::Sms,
        NotificationChannel::Push,
    ];

    /// The snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            NotificationChannel::Email => "email",
            NotificationChannel::Sms => "sms",
            NotificationChannel::Push => "push",
        }
    }

    fn has_subject(self) -> bool {
        self != NotificationChannel::Sms
    }
}

impl fmt::Display for NotificationChannel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A language messages are written in.
///
/// Any other language falls back to English ([`Locale::from_tag`]), and so does a
/// template missing in Turkish when rendering ([`TemplateSet::render`]): a customer
/// gets an English message rather than none.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Locale {
    /// English, the fallback.
    En,
    /// Turkish.
    Tr,
}

impl Locale {
    /// Every locale.
    pub const ALL: [Locale; 2] = [Locale::En, Locale::Tr];

    /// The locale for a language tag such as `"tr"`, `"tr-TR"` or `"en_GB"`, by its
    /// language subtag, case-insensitive; anything else (or nothing) is English.
    pub fn from_tag(tag: &str) -> Locale {
        let language = tag
            .trim()
            .split(['-', '_'])
            .next()
            .unwrap_or_default()
            .to_ascii_lowercase();
        match language.as_str() {
            "tr" => Locale::Tr,
            _ => Locale::En,
        }
    }

    /// The language subtag (`"en"`, `"tr"`).
    pub fn as_str(self) -> &'static str {
        match self {
            Locale::En => "en",
            Locale::Tr => "tr",
        }
    }
}

impl fmt::Display for Locale {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A customer-visible stage of an order, each with its own message.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum TemplateKey {
    /// The order arrived.
    OrderReceived,
    /// The order was confirmed (paid, accepted).
    OrderConfirmed,
    /// The order is on hold until the customer acts (verify payment, fix an address).
    OrderOnHoldActionNeeded,
    /// A parcel left, with its tracking link.
    OrderShipped,
    /// A parcel is out for delivery.
    OutForDelivery,
    /// A parcel was delivered.
    Delivered,
    /// A delivery attempt failed.
    DeliveryFailed,
    /// The order was cancelled.
    OrderCancelled,
    /// Money was refunded.
    RefundIssued,
    /// A return was asked for.
    ReturnRequested,
    /// A return was approved.
    ReturnApproved,
    /// A return was rejected (the rule is named).
    ReturnRejected,
    /// The return label is ready.
    ReturnLabelReady,
    /// The returned goods are on their way back.
    ReturnInTransit,
    /// Returned goods arrived.
    ReturnReceived,
    /// Returned goods were inspected.
    ReturnInspected,
    /// The return was settled: refund, exchange or store credit.
    ReturnResolved,
    /// The return was closed.
    ReturnClosed,
}

impl TemplateKey {
    /// Every stage.
    pub const ALL: [TemplateKey; 18] = [
        TemplateKey::OrderReceived,
        TemplateKey::OrderConfirmed,
        TemplateKey::OrderOnHoldActionNeeded,
        TemplateKey::OrderShipped,
        TemplateKey::OutForDelivery,
        TemplateKey::Delivered,
        TemplateKey::DeliveryFailed,
        TemplateKey::OrderCancelled,
        TemplateKey::RefundIssued,
        TemplateKey::ReturnRequested,
        TemplateKey::ReturnApproved,
        TemplateKey::ReturnRejected,
        TemplateKey::ReturnLabelReady,
        TemplateKey::ReturnInTransit,
        TemplateKey::ReturnReceived,
        TemplateKey::ReturnInspected,
        TemplateKey::ReturnResolved,
        TemplateKey::ReturnClosed,
    ];

    /// The snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            TemplateKey::OrderReceived => "order_received",
            TemplateKey::OrderConfirmed => "order_confirmed",
            TemplateKey::OrderOnHoldActionNeeded => "order_on_hold_action_needed",
            TemplateKey::OrderShipped => "order_shipped",
            TemplateKey::OutForDelivery => "out_for_delivery",
            TemplateKey::Delivered => "delivered",
            TemplateKey::DeliveryFailed => "delivery_failed",
            TemplateKey::OrderCancelled => "order_cancelled",
            TemplateKey::RefundIssued => "refund_issued",
            TemplateKey::ReturnRequested => "return_requested",
            TemplateKey::ReturnApproved => "return_approved",
            TemplateKey::ReturnRejected => "return_rejected",
            TemplateKey::ReturnLabelReady => "return_label_ready",
            TemplateKey::ReturnInTransit => "return_in_transit",
            TemplateKey::ReturnReceived => "return_received",
            TemplateKey::ReturnInspected => "return_inspected",
            TemplateKey::ReturnResolved => "return_resolved",
            TemplateKey::ReturnClosed => "return_closed",
        }
    }

    /// The variables every template of this stage must use: without them the message
    /// would be useless (which order, which link).
    pub fn required_variables(self) -> &'static [&'static str] {
        match self {
            TemplateKey::OrderOnHoldActionNeeded => &["order_ref", "action_url"],
            TemplateKey::OrderShipped => &["order_ref", "carrier", "tracking_url"],
            TemplateKey::DeliveryFailed => &["order_ref", "carrier"],
            TemplateKey::RefundIssued => &["order_ref", "refund_amount"],
            TemplateKey::ReturnRejected => &["order_ref", "rma_ref", "reject_reason"],
            TemplateKey::ReturnLabelReady => {
                &["order_ref", "rma_ref", "carrier", "tracking_number"]
            }
            TemplateKey::ReturnResolved => {
                &["order_ref", "rma_ref", "resolution", "resolution_amount"]
            }
            TemplateKey::ReturnRequested
            | TemplateKey::ReturnApproved
            | TemplateKey::ReturnInTransit
            | TemplateKey::ReturnReceived
            | TemplateKey::ReturnInspected
            | TemplateKey::ReturnClosed => &["order_ref", "rma_ref"],
            TemplateKey::OrderReceived
            | TemplateKey::OrderConfirmed
            | TemplateKey::OutForDelivery
            | TemplateKey::Delivered
            | TemplateKey::OrderCancelled => &["order_ref"],
        }
    }

    /// The variables a template of this stage may also use.
    pub fn optional_variables(self) -> &'static [&'static str] {
        match self {
            TemplateKey::OrderReceived | TemplateKey::Delivered => &["customer_name", "order_url"],
            TemplateKey::OrderConfirmed => &["customer_name", "order_url", "delivery_window"],
            TemplateKey::OrderOnHoldActionNeeded => &["customer_name", "hold_reason"],
            TemplateKey::OrderShipped => &["customer_name", "tracking_number", "delivery_window"],
            TemplateKey::OutForDelivery => &[
                "customer_name",
                "carrier",
                "tracking_url",
                "delivery_window",
            ],
            TemplateKey::DeliveryFailed => &["customer_name", "tracking_url"],
            TemplateKey::OrderCancelled => &["customer_name", "cancel_reason"],
            TemplateKey::RefundIssued => &["customer_name"],
            TemplateKey::ReturnRequested
            | TemplateKey::ReturnApproved
            | TemplateKey::ReturnRejected
            | TemplateKey::ReturnLabelReady
            | TemplateKey::ReturnInTransit
            | TemplateKey::ReturnReceived
            | TemplateKey::ReturnInspected
            | TemplateKey::ReturnResolved
            | TemplateKey::ReturnClosed => &["customer_name", "order_url"],
        }
    }

    /// Whether this stage declares `variable`.
    pub fn declares(self, variable: &str) -> bool {
        self.required_variables().contains(&variable)
            || self.optional_variables().contains(&variable)
    }

    fn declared_list(self) -> String {
        let mut all: Vec<&str> = self.required_variables().to_vec();
        all.extend_from_slice(self.optional_variables());
        all.join(", ")
    }
}

impl fmt::Display for TemplateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A piece of a parsed template.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Text(String),
    Variable(String),
}

/// Parsed template text: literal text and `{variables}`; `{{` and `}}` stand for
/// literal braces.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Text {
    segments: Vec<Segment>,
}

impl Text {
    fn parse(source: &str) -> Result<Text, &'static str> {
        let mut segments = Vec::new();
        let mut literal = String::new();
        let mut chars = source.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '{' if chars.peek() == Some(&'{') => {
                    chars.next();
                    literal.push('{');
                }
                '}' if chars.peek() == Some(&'}') => {
                    chars.next();
                    literal.push('}');
                }
                '}' => return Err("a lone '}' (write '}}' for a literal brace)"),
                '{' => {
                    let mut name = String::new();
                    loop {
                        match chars.next() {
                            Some('}') => break,
                            Some(n) if n.is_ascii_lowercase() || n.is_ascii_digit() || n == '_' => {
                                name.push(n)
                            }
                            Some(_) => {
                                return Err("a variable name must be lower-case letters, digits and '_' (write '{{' for a literal brace)")
                            }
                            None => return Err("an unclosed '{'"),
                        }
                    }
                    if name.is_empty() || name.len() > 64 {
                        return Err("a variable name must be 1 to 64 characters");
                    }
                    if !literal.is_empty() {
                        segments.push(Segment::Text(std::mem::take(&mut literal)));
                    }
                    segments.push(Segment::Variable(name));
                }
                other => literal.push(other),
            }
        }
        if !literal.is_empty() {
            segments.push(Segment::Text(literal));
        }
        Ok(Text { segments })
    }

    fn variables(&self) -> impl Iterator<Item = &str> + '_ {
        self.segments.iter().filter_map(|s| match s {
            Segment::Variable(v) => Some(v.as_str()),
            Segment::Text(_) => None,
        })
    }

    /// The text with values in place, or the name of the first variable without one.
    fn render(&self, values: &BTreeMap<String, String>) -> Result<String, String> {
        let mut out = String::new();
        for segment in &self.segments {
            match segment {
                Segment::Text(t) => out.push_str(t),
                // Values go in as they are: a '{' in a value is text, never a variable.
                Segment::Variable(v) => out.push_str(values.get(v).ok_or_else(|| v.clone())?),
            }
        }
        Ok(out)
    }
}

/// A template's source text, as a host writes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TemplateSource {
    /// The e-mail subject or push title; none for SMS.
    #[serde(default)]
    pub subject: Option<String>,
    /// The body.
    pub body: String,
}

/// One host override, as read by [`TemplateSet::load_overrides_json`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TemplateOverride {
    /// The stage.
    pub key: TemplateKey,
    /// The language.
    pub locale: Locale,
    /// The channel.
    pub channel: NotificationChannel,
    /// The e-mail subject or push title; none for SMS.
    #[serde(default)]
    pub subject: Option<String>,
    /// The body.
    pub body: String,
}

/// A checked template.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Template {
    subject: Option<Text>,
    body: Text,
}

/// The templates for every (stage, locale, channel), checked when loaded.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TemplateSet {
    templates: BTreeMap<(TemplateKey, Locale, NotificationChannel), Template>,
}

/// A message ready to send.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RenderedMessage {
    /// The stage.
    pub key: TemplateKey,
    /// The language actually used (English when the one asked for had no template).
    pub locale: Locale,
    /// The channel.
    pub channel: NotificationChannel,
    /// The e-mail subject or push title; none for SMS.
    pub subject: Option<String>,
    /// The text.
    pub body: String,
}

impl TemplateSet {
    /// A set without templates.
    pub fn empty() -> Self {
        Self::default()
    }

    /// The English and Turkish templates shipped with ordersmith
    /// ([`templates::SHIPPED`]) for every stage and channel: e-mail gets the subject
    /// and the long body, SMS the short body, push the subject as title and the short
    /// body. They pass the same checks as a host's templates; a test proves this never
    /// fails.
    pub fn shipped() -> Result<Self, NotifyError> {
        let mut set = Self::empty();
        for t in templates::SHIPPED {
            let sources = [
                (NotificationChannel::Email, Some(t.subject), t.email_body),
                (NotificationChannel::Sms, None, t.short_body),
                (NotificationChannel::Push, Some(t.subject), t.short_body),
            ];
            for (channel, subject, body) in sources {
                set.insert(
                    t.key,
                    t.locale,
                    channel,
                    &TemplateSource {
                        subject: subject.map(str::to_string),
                        body: body.to_string(),
                    },
                )?;
            }
        }
        Ok(set)
    }

    /// Checks a template and adds it, replacing any for the same (stage, locale,
    /// channel): this is how a host overrides a shipped text.
    ///
    /// Refused, naming the template, locale, channel and variable: malformed text, a
    /// variable the stage does not declare, a required variable left out, a subject
    /// missing on e-mail or push or present on SMS, a text over [`MAX_TEMPLATE_LEN`].
    pub fn insert(
        &mut self,
        key: TemplateKey,
        locale: Locale,
        channel: NotificationChannel,
        source: &TemplateSource,
    ) -> Result<(), NotifyError> {
        let template = check_template(key, locale, channel, source)?;
        self.templates.insert((key, locale, channel), template);
        Ok(())
    }

    /// Reads host overrides from JSON, a list of
    /// `{"key": "order_shipped", "locale": "tr", "channel": "sms", "body": "..."}`
    /// (with `"subject"` for e-mail and push), and applies them all or none: if one is
    /// refused, the set is left unchanged. Returns how many were applied.
    pub fn load_overrides_json(&mut self, json: &str) -> Result<usize, NotifyError> {
        let overrides: Vec<TemplateOverride> =
            serde_json::from_str(json).map_err(|e| NotifyError::InvalidOverrides {
                reason: e.to_string(),
            })?;
        if overrides.len() > MAX_OVERRIDES {
            return Err(NotifyError::InvalidOverrides {
                reason: format!("more than {MAX_OVERRIDES} overrides"),
            });
        }
        let mut checked = Vec::with_capacity(overrides.len());
        for o in &overrides {
            let source = TemplateSource {
                subject: o.subject.clone(),
                body: o.body.clone(),
            };
            checked.push((
                (o.key, o.locale, o.channel),
                check_template(o.key, o.locale, o.channel, &source)?,
            ));
        }
        let count = checked.len();
        self.templates.extend(checked);
        Ok(count)
    }

    /// Whether a template exists for exactly this (stage, locale, channel).
    pub fn contains(&self, key: TemplateKey, locale: Locale, channel: NotificationChannel) -> bool {
        self.templates.contains_key(&(key, locale, channel))
    }

    /// Renders a message. The template for the locale is used, or the English one if
    /// the locale has none. Refused if a variable the template uses or the stage
    /// requires is not supplied, if a supplied variable is not declared by the stage
    /// (a typo would otherwise go unnoticed), or if a value is longer than
    /// [`MAX_VALUE_LEN`].
    pub fn render(
        &self,
        key: TemplateKey,
        locale: Locale,
        channel: NotificationChannel,
        variables: &BTreeMap<String, String>,
    ) -> Result<RenderedMessage, NotifyError> {
        check_variables(key, variables)?;
        let (used_locale, template) = [locale, Locale::En]
            .into_iter()
            .find_map(|l| self.templates.get(&(key, l, channel)).map(|t| (l, t)))
            .ok_or(NotifyError::TemplateNotFound {
                key,
                locale,
                channel,
            })?;
        let render = |t: &Text| {
            t.render(variables)
                .map_err(|variable| NotifyError::VariableNotSupplied { key, variable })
        };
        Ok(RenderedMessage {
            key,
            locale: used_locale,
            channel,
            subject: template.subject.as_ref().map(render).transpose()?,
            body: render(&template.body)?,
        })
    }
}

fn check_template(
    key: TemplateKey,
    locale: Locale,
    channel: NotificationChannel,
    source: &TemplateSource,
) -> Result<Template, NotifyError> {
    let invalid = |reason| NotifyError::TemplateInvalid {
        key,
        locale,
        channel,
        reason,
    };
    match (&source.subject, channel.has_subject()) {
        (None, true) => return Err(invalid("e-mail and push templates need a subject")),
        (Some(_), false) => return Err(invalid("SMS templates have no subject")),
        (Some(s), true) if s.trim().is_empty() => return Err(invalid("the subject is empty")),
        _ => {}
    }
    if source.body.trim().is_empty() {
        return Err(invalid("the body is empty"));
    }
    let too_long = |s: &str| s.chars().count() > MAX_TEMPLATE_LEN;
    if too_long(&source.body) || source.subject.as_deref().is_some_and(too_long) {
        return Err(invalid("a text is longer than 10000 characters"));
    }
    let parse = |s: &str| {
        Text::parse(s).map_err(|reason| NotifyError::TemplateSyntax {
            key,
            locale,
            channel,
            reason,
        })
    };
    let template = Template {
        subject: source.subject.as_deref().map(parse).transpose()?,
        body: parse(&source.body)?,
    };
    let mut used = BTreeSet::new();
    for text in template
        .subject
        .iter()
        .chain(std::iter::once(&template.body))
    {
        for v in text.variables() {
            if !key.declares(v) {
                return Err(NotifyError::TemplateUnknownVariable {
                    key,
                    locale,
                    channel,
                    variable: v.to_string(),
                });
            }
            used.insert(v.to_string());
        }
    }
    if let Some(missing) = key
        .required_variables()
        .iter()
        .find(|v| !used.contains(**v))
    {
        return Err(NotifyError::TemplateMissingVariable {
            key,
            locale,
            channel,
            variable: missing,
        });
    }
    Ok(template)
}

fn check_variables(
    key: TemplateKey,
    variables: &BTreeMap<String, String>,
) -> Result<(), NotifyError> {
    for (name, value) in variables {
        if !key.declares(name) {
            return Err(NotifyError::UnknownVariable {
                key,
                variable: crate::pii::key_for_message(name).to_string(),
                declared: key.declared_list(),
            });
        }
        if value.chars().count() > MAX_VALUE_LEN {
            return Err(NotifyError::ValueTooLong {
                variable: name.clone(),
                max: MAX_VALUE_LEN,
            });
        }
    }
    if let Some(missing) = key
        .required_variables()
        .iter()
        .find(|v| !variables.contains_key(**v))
    {
        return Err(NotifyError::VariableNotSupplied {
            key,
            variable: (*missing).to_string(),
        });
    }
    Ok(())
}

/// Escapes the characters that separate the parts of a dedupe key, so that distinct
/// parts never produce the same key.
fn key_part(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '%' => out.push_str("%25"),
            ':' => out.push_str("%3A"),
            '=' => out.push_str("%3D"),
            other => out.push(other),
        }
    }
    out
}

/// One message to send: what, in which language, on which channel, to whom, with which
/// values, and the key that makes it once-only.
///
/// `Debug` shows neither the recipient nor the variables' values (names may appear in
/// them); serialising keeps them, because the host must send the message.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notification {
    order_id: OrderId,
    key: TemplateKey,
    parcel_id: Option<String>,
    channel: NotificationChannel,
    locale: Locale,
    recipient: Redacted<String>,
    variables: BTreeMap<String, String>,
    dedupe_key: String,
}

impl fmt::Debug for Notification {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Notification")
            .field("order_id", &self.order_id)
            .field("key", &self.key)
            .field("parcel_id", &self.parcel_id)
            .field("channel", &self.channel)
            .field("locale", &self.locale)
            .field("recipient", &self.recipient)
            .field("variables", &self.variables.keys().collect::<Vec<_>>())
            .field("dedupe_key", &self.dedupe_key)
            .finish()
    }
}

impl Notification {
    /// A notification for a stage of an order, about one parcel (shipping stages) or
    /// the order as a whole (`parcel_id` none).
    ///
    /// Its dedupe key is derived from (order id, stage, parcel id or "order",
    /// channel) only, so building it again for a retry gives the same key, and two
    /// different stages, parcels or channels never share one. The locale, recipient and
    /// values do not enter the key: re-rendering in another language is still the same
    /// message.
    ///
    /// Refused: a supplied variable the stage does not declare, a required one missing,
    /// a value over [`MAX_VALUE_LEN`], an empty or over-long recipient, an invalid parcel
    /// id (the rules of [`crate::ids`]).
    pub fn new(
        order_id: &OrderId,
        key: TemplateKey,
        parcel_id: Option<&str>,
        channel: NotificationChannel,
        locale: Locale,
        recipient: Redacted<String>,
        variables: BTreeMap<String, String>,
    ) -> Result<Notification, NotifyError> {
        if let Some(p) = parcel_id {
            crate::ids::validate_text("parcel id", p, MAX_ID_LEN).map_err(|e| {
                NotifyError::InvalidParcelId {
                    reason: e.to_string(),
                }
            })?;
        }
        let r = recipient.expose();
        if r.trim().is_empty() {
            return Err(NotifyError::InvalidRecipient {
                reason: "it is empty",
            });
        }
        if r.chars().count() > MAX_RECIPIENT_LEN {
            return Err(NotifyError::InvalidRecipient {
                reason: "it is longer than 512 characters",
            });
        }
        check_variables(key, &variables)?;
        Ok(Notification {
            dedupe_key: Self::dedupe_key_for(order_id, key, parcel_id, channel),
            order_id: order_id.clone(),
            key,
            parcel_id: parcel_id.map(str::to_string),
            channel,
            locale,
            recipient,
            variables,
        })
    }

    /// The dedupe key for (order, stage, parcel or the whole order, channel):
    /// `ntf:{order}:{stage}:{parcel=ID | order}:{channel}`, with `%`, `:` and `=` in ids
    /// escaped so distinct inputs never give the same key.
    pub fn dedupe_key_for(
        order_id: &OrderId,
        key: TemplateKey,
        parcel_id: Option<&str>,
        channel: NotificationChannel,
    ) -> String {
        let scope = match parcel_id {
            Some(p) => format!("parcel={}", key_part(p)),
            None => "order".to_string(),
        };
        format!(
            "ntf:{}:{}:{}:{}",
            key_part(order_id.as_str()),
            key.as_str(),
            scope,
            channel.as_str()
        )
    }

    /// The order.
    pub fn order_id(&self) -> &OrderId {
        &self.order_id
    }

    /// The stage (template key).
    pub fn key(&self) -> TemplateKey {
        self.key
    }

    /// The parcel, for parcel stages.
    pub fn parcel_id(&self) -> Option<&str> {
        self.parcel_id.as_deref()
    }

    /// The channel.
    pub fn channel(&self) -> NotificationChannel {
        self.channel
    }

    /// The language.
    pub fn locale(&self) -> Locale {
        self.locale
    }

    /// The recipient (e-mail address, phone number or push token): personal data.
    pub fn recipient(&self) -> &Redacted<String> {
        &self.recipient
    }

    /// The variables' values by name (may hold personal data, such as a name).
    pub fn variables(&self) -> &BTreeMap<String, String> {
        &self.variables
    }

    /// The key the host deduplicates sends by.
    pub fn dedupe_key(&self) -> &str {
        &self.dedupe_key
    }

    /// Renders this notification with `templates` (see [`TemplateSet::render`]).
    pub fn render(&self, templates: &TemplateSet) -> Result<RenderedMessage, NotifyError> {
        templates.render(self.key, self.locale, self.channel, &self.variables)
    }
}

/// A customer's channel choices: every channel is allowed unless opted out.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Preferences {
    #[serde(default)]
    opted_out: BTreeSet<NotificationChannel>,
}

impl Preferences {
    /// Every channel allowed.
    pub fn allow_all() -> Self {
        Self::default()
    }

    /// Opts out of a channel.
    pub fn opt_out(mut self, channel: NotificationChannel) -> Self {
        self.opted_out.insert(channel);
        self
    }

    /// Opts back in to a channel.
    pub fn opt_in(mut self, channel: NotificationChannel) -> Self {
        self.opted_out.remove(&channel);
        self
    }

    /// Whether messages may be sent on this channel.
    pub fn allows(&self, channel: NotificationChannel) -> bool {
        !self.opted_out.contains(&channel)
    }

    /// The channels allowed, in [`NotificationChannel::ALL`] order.
    pub fn allowed_channels(&self) -> Vec<NotificationChannel> {
        NotificationChannel::ALL
            .into_iter()
            .filter(|c| self.allows(*c))
            .collect()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn sample(key: TemplateKey) -> BTreeMap<String, String> {
        let all = [
            ("customer_name", "Ayşe Yılmaz"),
            ("order_ref", "#1042"),
            ("order_url", "https://shop.example/o/1042"),
            ("action_url", "https://shop.example/o/1042/verify"),
            ("hold_reason", "payment verification"),
            ("carrier", "PTT Kargo"),
            ("tracking_number", "RR473124829TR"),
            ("tracking_url", "https://shop.example/t/RR473124829TR"),
            ("delivery_window", "3–5 March"),
            ("cancel_reason", "out of stock"),
            ("refund_amount", "249,90 TL"),
            ("rma_ref", "R1"),
            ("reject_reason", "return window: 40 days since delivery"),
            ("resolution", "refund"),
            ("resolution_amount", "249,90 TL"),
        ];
        all.iter()
            .filter(|(k, _)| key.declares(k))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn order() -> OrderId {
        OrderId::parse("o-1").unwrap()
    }

    #[test]
    fn every_shipped_template_renders_in_both_locales_without_leftover_braces() {
        let set = TemplateSet::shipped().unwrap();
        let mut rendered = 0;
        for key in TemplateKey::ALL {
            for locale in Locale::ALL {
                for channel in NotificationChannel::ALL {
                    assert!(
                        set.contains(key, locale, channel),
                        "{key}/{locale}/{channel}"
                    );
                    let m = set.render(key, locale, channel, &sample(key)).unwrap();
                    assert_eq!(m.locale, locale);
                    let all = format!("{}\n{}", m.subject.clone().unwrap_or_default(), m.body);
                    assert!(
                        !all.contains('{') && !all.contains('}'),
                        "{key}/{locale}/{channel}: {all}"
                    );
                    assert!(all.contains("#1042"));
                    assert_eq!(m.subject.is_some(), channel != NotificationChannel::Sms);
                    rendered += 1;
                }
            }
        }
        assert_eq!(rendered, 18 * 2 * 3);
        // Turkish is Turkish, UTF-8 intact.
        let m = set
            .render(
                TemplateKey::Delivered,
                Locale::Tr,
                NotificationChannel::Email,
                &sample(TemplateKey::Delivered),
            )
            .unwrap();
        assert_eq!(
            m.subject.as_deref(),
            Some("#1042 numaralı siparişiniz teslim edildi")
        );
        assert!(m.body.starts_with("Merhaba Ayşe Yılmaz,"));
    }

    #[test]
    fn load_time_errors_name_template_locale_channel_and_variable() {
        let mut set = TemplateSet::empty();
        let sms = |body: &str| TemplateSource {
            subject: None,
            body: body.to_string(),
        };
        let err = set
            .insert(
                TemplateKey::OrderShipped,
                Locale::Tr,
                NotificationChannel::Sms,
                &sms("{order_ref} {carrier} {tracking_url} {trackng_number}"),
            )
            .unwrap_err();
        assert_eq!(err.code(), "NOTIFY_TEMPLATE_UNKNOWN_VARIABLE");
        let msg = err.to_string();
        assert!(
            msg.contains("order_shipped/tr/sms") && msg.contains("{trackng_number}"),
            "{msg}"
        );

        let err = set
            .insert(
                TemplateKey::OrderShipped,
                Locale::En,
                NotificationChannel::Sms,
                &sms("Order {order_ref} shipped with {carrier}"),
            )
            .unwrap_err();
        assert_eq!(
            err,
            NotifyError::TemplateMissingVariable {
                key: TemplateKey::OrderShipped,
                locale: Locale::En,
                channel: NotificationChannel::Sms,
                variable: "tracking_url"
            }
        );
        assert!(err.to_string().contains("{tracking_url}"));

        for (body, what) in [
            ("{order_ref", "unclosed"),
            ("} {order_ref}", "lone"),
            ("{Order_Ref}", "lower-case"),
            ("{} {order_ref}", "1 to 64"),
        ] {
            let err = set
                .insert(
                    TemplateKey::Delivered,
                    Locale::En,
                    NotificationChannel::Sms,
                    &sms(body),
                )
                .unwrap_err();
            assert_eq!(err.code(), "NOTIFY_TEMPLATE_SYNTAX", "{body}");
            assert!(err.to_string().contains(what), "{err}");
        }
        // Subjects: needed on e-mail and push, refused on SMS.
        assert_eq!(
            set.insert(
                TemplateKey::Delivered,
                Locale::En,
                NotificationChannel::Email,
                &sms("{order_ref}")
            )
            .unwrap_err()
            .code(),
            "NOTIFY_TEMPLATE_INVALID"
        );
        let with_subject = TemplateSource {
            subject: Some("Hi".into()),
            body: "{order_ref}".into(),
        };
        assert_eq!(
            set.insert(
                TemplateKey::Delivered,
                Locale::En,
                NotificationChannel::Sms,
                &with_subject
            )
            .unwrap_err()
            .code(),
            "NOTIFY_TEMPLATE_INVALID"
        );
        // A required variable in the subject counts; literal braces are allowed.
        let ok = TemplateSource {
            subject: Some("{order_ref} {{ok}}".into()),
            body: "Delivered.".into(),
        };
        set.insert(
            TemplateKey::Delivered,
            Locale::En,
            NotificationChannel::Push,
            &ok,
        )
        .unwrap();
        let m = set
            .render(
                TemplateKey::Delivered,
                Locale::En,
                NotificationChannel::Push,
                &sample(TemplateKey::Delivered),
            )
            .unwrap();
        assert_eq!(m.subject.as_deref(), Some("#1042 {ok}"));
        // Nothing refused was stored.
        assert!(!set.contains(
            TemplateKey::OrderShipped,
            Locale::Tr,
            NotificationChannel::Sms
        ));
    }

    #[test]
    fn host_overrides_replace_shipped_all_or_nothing() {
        let mut set = TemplateSet::shipped().unwrap();
        let good = r#"[{"key":"order_shipped","locale":"tr","channel":"sms","body":"Kargoda: {order_ref} {carrier} {tracking_url}"}]"#;
        assert_eq!(set.load_overrides_json(good).unwrap(), 1);
        let m = set
            .render(
                TemplateKey::OrderShipped,
                Locale::Tr,
                NotificationChannel::Sms,
                &sample(TemplateKey::OrderShipped),
            )
            .unwrap();
        assert!(m.body.starts_with("Kargoda: #1042"));
        let before = set.clone();
        let mixed = r#"[
            {"key":"delivered","locale":"en","channel":"sms","body":"Done {order_ref}"},
            {"key":"delivered","locale":"tr","channel":"sms","body":"Tamam {siparis}"}
        ]"#;
        let err = set.load_overrides_json(mixed).unwrap_err();
        assert_eq!(err.code(), "NOTIFY_TEMPLATE_UNKNOWN_VARIABLE");
        assert_eq!(set, before);
        assert_eq!(
            set.load_overrides_json(r#"[{"key":"nope","locale":"en","channel":"sms","body":"x"}]"#)
                .unwrap_err()
                .code(),
            "NOTIFY_INVALID_OVERRIDES"
        );
    }

    #[test]
    fn render_refuses_missing_and_unknown_values_and_falls_back_to_english() {
        let set = TemplateSet::shipped().unwrap();
        let mut vars = sample(TemplateKey::OrderShipped);
        vars.remove("customer_name");
        // SMS does not use the name: fine. E-mail does: refused, naming the variable.
        assert!(set
            .render(
                TemplateKey::OrderShipped,
                Locale::En,
                NotificationChannel::Sms,
                &vars
            )
            .is_ok());
        let err = set
            .render(
                TemplateKey::OrderShipped,
                Locale::En,
                NotificationChannel::Email,
                &vars,
            )
            .unwrap_err();
        assert_eq!(
            err,
            NotifyError::VariableNotSupplied {
                key: TemplateKey::OrderShipped,
                variable: "customer_name".into()
            }
        );
        vars.insert("tracking_ur".into(), "x".into());
        assert_eq!(
            set.render(
                TemplateKey::OrderShipped,
                Locale::En,
                NotificationChannel::Sms,
                &vars
            )
            .unwrap_err()
            .code(),
            "NOTIFY_UNKNOWN_VARIABLE"
        );
        // A value over the limit, never echoed.
        let mut long = sample(TemplateKey::Delivered);
        long.insert("customer_name".into(), "A".repeat(MAX_VALUE_LEN + 1));
        assert_eq!(
            set.render(
                TemplateKey::Delivered,
                Locale::En,
                NotificationChannel::Email,
                &long
            )
            .unwrap_err()
            .code(),
            "NOTIFY_VALUE_TOO_LONG"
        );
        // Fallback: a set with only English answers a Turkish request in English.
        let mut en_only = TemplateSet::empty();
        en_only
            .insert(
                TemplateKey::Delivered,
                Locale::En,
                NotificationChannel::Sms,
                &TemplateSource {
                    subject: None,
                    body: "Delivered {order_ref}".into(),
                },
            )
            .unwrap();
        let m = en_only
            .render(
                TemplateKey::Delivered,
                Locale::Tr,
                NotificationChannel::Sms,
                &sample(TemplateKey::Delivered),
            )
            .unwrap();
        assert_eq!(m.locale, Locale::En);
        assert_eq!(
            en_only
                .render(
                    TemplateKey::Delivered,
                    Locale::Tr,
                    NotificationChannel::Push,
                    &sample(TemplateKey::Delivered)
                )
                .unwrap_err()
                .code(),
            "NOTIFY_TEMPLATE_NOT_FOUND"
        );
        assert_eq!(Locale::from_tag("tr-TR"), Locale::Tr);
        assert_eq!(Locale::from_tag("TR_tr"), Locale::Tr);
        assert_eq!(Locale::from_tag("de-DE"), Locale::En);
        assert_eq!(Locale::from_tag(""), Locale::En);
    }

    #[test]
    fn notification_keeps_personal_data_out_of_debug_and_errors() {
        let vars = sample(TemplateKey::Delivered);
        let n = Notification::new(
            &order(),
            TemplateKey::Delivered,
            Some("p-1"),
            NotificationChannel::Email,
            Locale::Tr,
            Redacted::new("ayse@example.com".into()),
            vars.clone(),
        )
        .unwrap();
        let dbg = format!("{n:?}");
        assert!(!dbg.contains("ayse@") && !dbg.contains("Ayşe"), "{dbg}");
        assert!(dbg.contains("customer_name"));
        let json = serde_json::to_string(&n).unwrap();
        assert_eq!(serde_json::from_str::<Notification>(&json).unwrap(), n);
        let m = n.render(&TemplateSet::shipped().unwrap()).unwrap();
        assert!(m.body.contains("Ayşe"));
        // Refusals.
        let mk = |parcel: Option<&str>, recipient: &str, vars: BTreeMap<String, String>| {
            Notification::new(
                &order(),
                TemplateKey::Delivered,
                parcel,
                NotificationChannel::Sms,
                Locale::En,
                Redacted::new(recipient.into()),
                vars,
            )
            .unwrap_err()
            .code()
        };
        assert_eq!(mk(None, " ", vars.clone()), "NOTIFY_INVALID_RECIPIENT");
        assert_eq!(
            mk(Some(""), "+90", vars.clone()),
            "NOTIFY_INVALID_PARCEL_ID"
        );
        assert_eq!(
            mk(None, "+90", BTreeMap::new()),
            "NOTIFY_VARIABLE_NOT_SUPPLIED"
        );
        let mut odd = vars.clone();
        odd.insert("ayse@example.com".into(), "x".into());
        let err = Notification::new(
            &order(),
            TemplateKey::Delivered,
            None,
            NotificationChannel::Sms,
            Locale::En,
            Redacted::new("+90".into()),
            odd,
        )
        .unwrap_err();
        assert_eq!(err.code(), "NOTIFY_UNKNOWN_VARIABLE");
        assert!(!err.to_string().contains("ayse@"), "{err}");
    }

    #[test]
    fn opt_outs() {
        let p = Preferences::allow_all().opt_out(NotificationChannel::Sms);
        assert!(!p.allows(NotificationChannel::Sms));
        assert!(p.allows(NotificationChannel::Email));
        assert_eq!(
            p.allowed_channels(),
            vec![NotificationChannel::Email, NotificationChannel::Push]
        );
        let p = p
            .opt_in(NotificationChannel::Sms)
            .opt_out(NotificationChannel::Push)
            .opt_out(NotificationChannel::Email);
        assert_eq!(p.allowed_channels(), vec![NotificationChannel::Sms]);
        let json = serde_json::to_string(&p).unwrap();
        assert_eq!(serde_json::from_str::<Preferences>(&json).unwrap(), p);
    }

    #[test]
    fn dedupe_key_shapes() {
        let k = |o: &str, p: Option<&str>| {
            Notification::dedupe_key_for(
                &OrderId::parse(o).unwrap(),
                TemplateKey::OrderShipped,
                p,
                NotificationChannel::Email,
            )
        };
        assert_eq!(k("o-1", None), "ntf:o-1:order_shipped:order:email");
        assert_eq!(
            k("o-1", Some("order")),
            "ntf:o-1:order_shipped:parcel=order:email"
        );
        // Separators in ids are escaped: these would collide otherwise.
        assert_ne!(k("a:order_shipped:order", None), k("a", Some("x")));
        assert_eq!(
            k("a:b%", Some("p=1")),
            "ntf:a%3Ab%25:order_shipped:parcel=p%3D1:email"
        );
    }

    fn id_text() -> impl Strategy<Value = String> {
        // Ids with the separators and escape character in them.
        "[a-z0-9:%=/]{1,6}"
    }

    proptest! {
        #[test]
        fn dedupe_keys_are_unique_and_stable(
            o1 in id_text(), o2 in id_text(),
            k1 in 0usize..18, k2 in 0usize..18,
            p1 in proptest::option::of(id_text()), p2 in proptest::option::of(id_text()),
            c1 in 0usize..3, c2 in 0usize..3,
        ) {
            let a = (OrderId::parse(o1.clone()).unwrap(), TemplateKey::ALL[k1], p1.clone(), NotificationChannel::ALL[c1]);
            let b = (OrderId::parse(o2.clone()).unwrap(), TemplateKey::ALL[k2], p2.clone(), NotificationChannel::ALL[c2]);
            let key = |t: &(OrderId, TemplateKey, Option<String>, NotificationChannel)| {
                Notification::dedupe_key_for(&t.0, t.1, t.2.as_deref(), t.3)
            };
            prop_assert_eq!(key(&a) == key(&b), a == b);
            // Stable: the same inputs, built again, through the constructor too.
            prop_assert_eq!(key(&a), key(&a.clone()));
            let n = Notification::new(
                &a.0, a.1, a.2.as_deref(), a.3, Locale::Tr,
                Redacted::new("x@example.com".into()), sample(a.1),
            ).unwrap();
            let expected = key(&a);
            prop_assert_eq!(n.dedupe_key(), expected.as_str());
        }
    }
}
