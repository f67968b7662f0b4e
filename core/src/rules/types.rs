//! The rule format as Rust types: what a shop writes in JSON, and what a rule leaves
//! on an order. The JSON Schema in `docs/rules.schema.json` is generated from these
//! types ([`super::json_schema`]); a test keeps the two the same.

use std::collections::BTreeSet;
use std::fmt;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::ids::LocationId;
use crate::money::Money;
use crate::notify::TemplateKey;
use crate::order::HoldReason;

/// The moment a rule is considered: something that just happened to an order.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Trigger {
    /// The order was placed (any channel).
    OrderPlaced,
    /// The order was confirmed (by staff, a payment, or a rule's `auto_confirm`).
    OrderConfirmed,
    /// The order was put on hold (by anyone, a rule included).
    OrderHeld,
    /// A hold was released.
    HoldReleased,
    /// Money arrived: a payment was recorded or a provider captured one.
    PaymentReceived,
    /// A payment provider refused a payment.
    PaymentFailed,
    /// Reserving stock for the order took one of its variants to or under its
    /// low-stock threshold.
    StockLow,
    /// The order's unpaid reservations lapsed (an expiry sweep).
    ReservationExpired,
    /// The customer asked to return units: an RMA's request, or units recorded as
    /// returned directly (a channel's returned units). Once per return: an RMA's receipt
    /// does not fire it again.
    ReturnRequested,
    /// A carrier reported an exception for one of the order's parcels.
    ParcelException,
    /// The order's ship-by deadline is near or past while it is still open (fired once
    /// per order by [`crate::engine::Engine::run_ship_by_risk_rules`]).
    ShipByAtRisk,
}

impl Trigger {
    /// Every trigger, in the order above.
    pub const ALL: [Trigger; 11] = [
        Trigger::OrderPlaced,
        Trigger::OrderConfirmed,
        Trigger::OrderHeld,
        Trigger::HoldReleased,
        Trigger::PaymentReceived,
        Trigger::PaymentFailed,
        Trigger::StockLow,
        Trigger::ReservationExpired,
        Trigger::ReturnRequested,
        Trigger::ParcelException,
        Trigger::ShipByAtRisk,
    ];

    /// The snake_case name used in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Trigger::OrderPlaced => "order_placed",
            Trigger::OrderConfirmed => "order_confirmed",
            Trigger::OrderHeld => "order_held",
            Trigger::HoldReleased => "hold_released",
            Trigger::PaymentReceived => "payment_received",
            Trigger::PaymentFailed => "payment_failed",
            Trigger::StockLow => "stock_low",
            Trigger::ReservationExpired => "reservation_expired",
            Trigger::ReturnRequested => "return_requested",
            Trigger::ParcelException => "parcel_exception",
            Trigger::ShipByAtRisk => "ship_by_at_risk",
        }
    }

    /// The trigger with this JSON name.
    pub fn parse(name: &str) -> Option<Trigger> {
        Trigger::ALL.into_iter().find(|t| t.as_str() == name)
    }

    pub(crate) fn index(self) -> usize {
        self as usize
    }
}

impl fmt::Display for Trigger {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A fact about the order a condition can test.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Field {
    /// The sales channel id (text).
    Channel,
    /// The shipping address's ISO 3166-1 alpha-2 country (text; no address: no value).
    Country,
    /// The order's ISO 4217 currency (text).
    Currency,
    /// The order total (money; compared only with money in the same currency).
    Total,
    /// Lines with units not cancelled (count).
    LineCount,
    /// The SKUs (variant ids) of lines with units not cancelled (a set of text).
    Sku,
    /// The order's tags (a set of text).
    Tag,
    /// How many orders the customer placed before this one (count; unknown customer:
    /// no value).
    CustomerOrderCount,
    /// The method of the latest provider payment, e.g. `card`, `bank_transfer` (text).
    PaymentMethod,
    /// The carrier service a rule chose, else the first shipping line's title (text).
    ShippingService,
    /// Total weight of active units in grams (count; a variant without a known
    /// weight: no value).
    WeightGrams,
    /// The local time of day in the shop's time zone when the trigger fired
    /// (`"HH:MM"`).
    LocalTime,
}

/// What kind of value a field holds: decides which operators and values fit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldKind {
    /// One piece of text.
    Text,
    /// A set of texts (the order has several SKUs and tags).
    TextSet,
    /// Money.
    Money,
    /// A non-negative whole number.
    Count,
    /// A time of day.
    TimeOfDay,
}

impl FieldKind {
    /// Operators that make sense for this kind.
    pub fn operators(self) -> &'static [Op] {
        use Op::*;
        match self {
            FieldKind::Text | FieldKind::TextSet => &[Eq, Ne, In, NotIn],
            FieldKind::Money => &[Eq, Ne, Gt, Ge, Lt, Le],
            FieldKind::Count => &[Eq, Ne, Gt, Ge, Lt, Le, Between],
            FieldKind::TimeOfDay => &[Gt, Ge, Lt, Le, Between],
        }
    }

    /// How the kind is named in messages.
    pub fn describe(self) -> &'static str {
        match self {
            FieldKind::Text => "a text field",
            FieldKind::TextSet => "a set of texts",
            FieldKind::Money => "a money field",
            FieldKind::Count => "a count",
            FieldKind::TimeOfDay => "a time of day",
        }
    }
}

impl Field {
    /// Every field.
    pub const ALL: [Field; 12] = [
        Field::Channel,
        Field::Country,
        Field::Currency,
        Field::Total,
        Field::LineCount,
        Field::Sku,
        Field::Tag,
        Field::CustomerOrderCount,
        Field::PaymentMethod,
        Field::ShippingService,
        Field::WeightGrams,
        Field::LocalTime,
    ];

    /// The snake_case name used in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Field::Channel => "channel",
            Field::Country => "country",
            Field::Currency => "currency",
            Field::Total => "total",
            Field::LineCount => "line_count",
            Field::Sku => "sku",
            Field::Tag => "tag",
            Field::CustomerOrderCount => "customer_order_count",
            Field::PaymentMethod => "payment_method",
            Field::ShippingService => "shipping_service",
            Field::WeightGrams => "weight_grams",
            Field::LocalTime => "local_time",
        }
    }

    /// The field with this JSON name.
    pub fn parse(name: &str) -> Option<Field> {
        Field::ALL.into_iter().find(|f| f.as_str() == name)
    }

    /// The kind of value it holds.
    pub fn kind(self) -> FieldKind {
        match self {
            Field::Channel
            | Field::Country
            | Field::Currency
            | Field::PaymentMethod
            | Field::ShippingService => FieldKind::Text,
            Field::Sku | Field::Tag => FieldKind::TextSet,
            Field::Total => FieldKind::Money,
            Field::LineCount | Field::CustomerOrderCount | Field::WeightGrams => FieldKind::Count,
            Field::LocalTime => FieldKind::TimeOfDay,
        }
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A comparison. For sets (`sku`, `tag`): `==` "has it", `!=` "does not have it",
/// `in` "has any of them", `not_in` "has none of them". `between` takes two bounds:
/// for counts both are included; for times the first is included, the second not, and
/// `["22:00", "06:00"]` wraps past midnight.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
pub enum Op {
    /// Equal.
    #[serde(rename = "==")]
    Eq,
    /// Not equal.
    #[serde(rename = "!=")]
    Ne,
    /// Greater than.
    #[serde(rename = ">")]
    Gt,
    /// Greater than or equal.
    #[serde(rename = ">=")]
    Ge,
    /// Less than.
    #[serde(rename = "<")]
    Lt,
    /// Less than or equal.
    #[serde(rename = "<=")]
    Le,
    /// One of a list.
    #[serde(rename = "in")]
    In,
    /// None of a list.
    #[serde(rename = "not_in")]
    NotIn,
    /// Within two bounds.
    #[serde(rename = "between")]
    Between,
}

impl Op {
    /// Every operator.
    pub const ALL: [Op; 9] = [
        Op::Eq,
        Op::Ne,
        Op::Gt,
        Op::Ge,
        Op::Lt,
        Op::Le,
        Op::In,
        Op::NotIn,
        Op::Between,
    ];

    /// How it is written in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Op::Eq => "==",
            Op::Ne => "!=",
            Op::Gt => ">",
            Op::Ge => ">=",
            Op::Lt => "<",
            Op::Le => "<=",
            Op::In => "in",
            Op::NotIn => "not_in",
            Op::Between => "between",
        }
    }

    /// The operator written this way.
    pub fn parse(text: &str) -> Option<Op> {
        Op::ALL.into_iter().find(|o| o.as_str() == text)
    }
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A time of day, minutes after midnight; written `"HH:MM"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TimeOfDay(u16);

impl TimeOfDay {
    /// Parses `"HH:MM"` (00:00 to 23:59).
    pub fn parse(text: &str) -> Option<TimeOfDay> {
        let (h, m) = text.split_once(':')?;
        if h.len() != 2 || m.len() != 2 {
            return None;
        }
        let (h, m): (u16, u16) = (h.parse().ok()?, m.parse().ok()?);
        (h < 24 && m < 60).then_some(TimeOfDay(h * 60 + m))
    }

    /// From hours and minutes (`None` when out of range).
    pub fn from_hm(hours: u32, minutes: u32) -> Option<TimeOfDay> {
        (hours < 24 && minutes < 60).then(|| TimeOfDay((hours * 60 + minutes) as u16))
    }

    /// Minutes after midnight.
    pub fn minutes(self) -> u16 {
        self.0
    }
}

impl fmt::Display for TimeOfDay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02}:{:02}", self.0 / 60, self.0 % 60)
    }
}

impl Serialize for TimeOfDay {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// The value a test compares with; its shape follows the field's kind.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(untagged)]
pub enum Value {
    /// Text, for `==` and `!=` on text fields and sets.
    Text(String),
    /// Texts, for `in` and `not_in`.
    Texts(Vec<String>),
    /// A count.
    Count(u64),
    /// Two counts, for `between`.
    CountRange([u64; 2]),
    /// Money: `{"amount": "1000.00", "currency": "TRY"}`.
    Money(#[schemars(with = "MoneySchema")] Money),
    /// A time of day, `"HH:MM"`.
    Time(#[schemars(with = "String")] TimeOfDay),
    /// Two times of day, for `between`.
    TimeRange(#[schemars(with = "[String; 2]")] [TimeOfDay; 2]),
}

/// How money is written in rules (the schema's view of [`Money`]).
#[derive(JsonSchema)]
#[allow(dead_code)]
struct MoneySchema {
    /// The amount as a decimal string, e.g. `"1000.00"`.
    amount: String,
    /// ISO 4217 code, e.g. `"TRY"`.
    currency: String,
}

/// One comparison of an order fact with a value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Test {
    /// The fact.
    pub field: Field,
    /// The comparison.
    pub op: Op,
    /// What the fact is compared with.
    pub value: Value,
}

/// Conditions: tests combined with `all`, `any` and `not`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(untagged)]
pub enum Condition {
    /// Every condition holds (an empty list holds).
    All {
        /// The conditions.
        all: Vec<Condition>,
    },
    /// At least one holds (an empty list does not).
    Any {
        /// The conditions.
        any: Vec<Condition>,
    },
    /// The condition does not hold.
    Not {
        /// The condition.
        not: Box<Condition>,
    },
    /// One test.
    Test(Test),
}

/// What a rule does when it fires. Every action goes through the engine's normal
/// commands, so the order state machine and the stock ledger still guard it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Action {
    /// Put the order on hold.
    Hold {
        /// Why.
        reason: HoldReason,
        /// For staff.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        note: Option<String>,
    },
    /// Release the order's hold.
    Release,
    /// Reserve the lines with these SKUs (all lines when none are named) at this
    /// location only, when stock is reserved.
    RouteToLocation {
        /// The location.
        #[schemars(with = "String")]
        location: LocationId,
        /// The SKUs it applies to; empty: every line.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        skus: Vec<String>,
    },
    /// Never reserve stock for this order at this location.
    ExcludeLocation {
        /// The location.
        #[schemars(with = "String")]
        location: LocationId,
    },
    /// The carrier service to buy labels with.
    ChooseCarrier {
        /// The carrier's code.
        carrier: String,
        /// The service.
        service: String,
    },
    /// Add and remove tags.
    Tag {
        /// Tags to add.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        add: Vec<String>,
        /// Tags to remove.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        remove: Vec<String>,
    },
    /// Set the order's fulfilment priority (higher first).
    SetPriority {
        /// The priority.
        priority: i32,
    },
    /// Confirm the order (stock is reserved as for any confirmation).
    AutoConfirm,
    /// Ask the host to send the customer this message, through the notification
    /// model (once per rule and channel: its dedupe key names the rule).
    Notify {
        /// The message.
        template: TemplateKey,
    },
    /// Mark the order as needing a person's review before it ships.
    RequireReview {
        /// Why, for the reviewer.
        reason: String,
    },
}

impl Action {
    /// The action's `type` in JSON.
    pub fn kind(&self) -> &'static str {
        match self {
            Action::Hold { .. } => "hold",
            Action::Release => "release",
            Action::RouteToLocation { .. } => "route_to_location",
            Action::ExcludeLocation { .. } => "exclude_location",
            Action::ChooseCarrier { .. } => "choose_carrier",
            Action::Tag { .. } => "tag",
            Action::SetPriority { .. } => "set_priority",
            Action::AutoConfirm => "auto_confirm",
            Action::Notify { .. } => "notify",
            Action::RequireReview { .. } => "require_review",
        }
    }
}

/// One automation rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    /// Unique name; it names the rule in problems, on orders and in reports.
    pub name: String,
    /// For people.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// When the rule is considered.
    pub trigger: Trigger,
    /// Higher runs first; equal priorities run in file order.
    #[serde(default)]
    pub priority: i32,
    /// When it fires; absent: always.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub when: Option<Condition>,
    /// What it does, in order.
    pub actions: Vec<Action>,
    /// When it fires, later rules (lower priority) for the same trigger are skipped.
    #[serde(default)]
    pub stop_processing: bool,
}

/// An order's [`Automation`], held out of line: most orders never have a rule set
/// anything, and then it costs one pointer in the order instead of the 152 bytes of an
/// empty [`Automation`].
///
/// Reads go through `Deref<Target = Automation>` (an empty one when nothing was set);
/// the first change through `DerefMut` gives it a place of its own. Its JSON and its
/// equality are those of the [`Automation`] it holds.
///
/// ```
/// use ordersmith::rules::{Automation, AutomationBox};
/// let mut a = AutomationBox::default();
/// assert!(a.is_empty() && a.priority.is_none());
/// a.priority = Some(5);
/// assert_eq!(a.priority, Some(5));
/// assert_eq!(a, AutomationBox::from(Automation { priority: Some(5), ..Automation::default() }));
/// ```
pub type AutomationBox = crate::sparse::Sparse<Automation>;

impl crate::sparse::SparseValue for Automation {
    fn empty() -> &'static Self {
        static NO_AUTOMATION: Automation = Automation::EMPTY;
        &NO_AUTOMATION
    }
    fn is_empty(&self) -> bool {
        Automation::is_empty(self)
    }
}

/// A carrier service chosen by a rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CarrierService {
    /// The carrier.
    pub carrier: String,
    /// The service.
    pub service: String,
}

/// A routing constraint for sourcing: these lines reserve only at this location.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Route {
    /// The location.
    pub location: LocationId,
    /// SKUs it applies to; empty: every line.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub skus: Vec<String>,
}

impl Route {
    /// Whether the route applies to a line of this SKU.
    pub fn covers(&self, sku: &str) -> bool {
        self.skus.is_empty() || self.skus.iter().any(|s| s == sku)
    }
}

/// What rules set on an order besides the normal commands' effects: the fold of its
/// `rule.applied` events (ADR 0010).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Automation {
    /// Fulfilment priority (higher first); `None`: never set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<i32>,
    /// The carrier service to buy labels with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub carrier: Option<CarrierService>,
    /// Sourcing routes, first matching wins.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub routes: Vec<Route>,
    /// Locations sourcing must not use for this order.
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub excluded_locations: BTreeSet<LocationId>,
    /// Why a person must review the order, when a rule asked for it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub review: Option<String>,
    /// One-shot triggers that already ran rules on this order (`ship_by_at_risk`).
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub fired: BTreeSet<Trigger>,
}

impl Automation {
    /// Nothing set: what every order starts with.
    pub const EMPTY: Automation = Automation {
        priority: None,
        carrier: None,
        routes: Vec::new(),
        excluded_locations: BTreeSet::new(),
        review: None,
        fired: BTreeSet::new(),
    };

    /// True when no rule has set anything.
    pub fn is_empty(&self) -> bool {
        self == &Automation::EMPTY
    }

    /// The only location a line of `sku` may reserve at, if a route says so.
    pub fn route_for(&self, sku: &str) -> Option<&LocationId> {
        self.routes
            .iter()
            .find(|r| r.covers(sku))
            .map(|r| &r.location)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_order_without_automation_holds_a_pointer_and_nothing_else() {
        assert_eq!(std::mem::size_of::<AutomationBox>(), 8);
        let empty = AutomationBox::default();
        assert!(!empty.is_boxed() && empty.is_empty());
        assert_eq!(empty, AutomationBox::from(Automation::default()));
        assert!(!AutomationBox::from(Automation::default()).is_boxed());
        // Read as an empty automation; JSON as an empty object.
        assert_eq!(empty.route_for("SKU-1"), None);
        assert_eq!(serde_json::to_string(&empty).ok().as_deref(), Some("{}"));
        let back: AutomationBox = serde_json::from_str("{}").unwrap_or_else(|e| panic!("{e}"));
        assert!(!back.is_boxed());
    }

    #[test]
    fn the_first_change_gives_it_a_place_and_the_json_is_the_automation() {
        let mut a = AutomationBox::default();
        a.fired.insert(Trigger::ShipByAtRisk);
        a.review = Some("fraud score".into());
        assert!(!a.is_empty() && a.is_boxed());
        let json = serde_json::to_value(&a).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            json,
            serde_json::to_value(a.clone().into_inner()).unwrap_or_else(|e| panic!("{e}"))
        );
        let back: AutomationBox = serde_json::from_value(json).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(back, a);
        assert_eq!(back.review.as_deref(), Some("fraud score"));
        assert_ne!(back, AutomationBox::default());
    }
}
