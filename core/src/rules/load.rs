//! Loading: JSON in, a checked [`RuleSet`] or every problem out.
//!
//! The loader walks the JSON itself instead of stopping at serde's first error, so a
//! shop sees every mistake at once, each with the rule's name and the JSON path.

use std::collections::BTreeSet;

use serde_json::{Map, Value as Json};

use crate::ids::LocationId;
use crate::money::{Currency, Money};
use crate::notify::TemplateKey;
use crate::order::HoldReason;

use super::types::{
    Action, Condition, Field, FieldKind, Op, Rule, Test, TimeOfDay, Trigger, Value,
};
use super::{limits, Problem, RuleSet, RulesError};

/// What the loader checks names against. `None` in a field: not checked (validation
/// without an engine, e.g. in an editor).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RuleContext {
    /// Stock locations that exist.
    pub locations: Option<BTreeSet<String>>,
    /// Currencies the shop's orders come in.
    pub currencies: Option<BTreeSet<Currency>>,
    /// Carrier services the shop can buy, as (carrier, service).
    pub carrier_services: Option<BTreeSet<(String, String)>>,
}

/// Templates a rule may ask for: those whose values the engine can fill for the order
/// as a whole (no parcel, no refund amount).
pub const RULE_TEMPLATES: [TemplateKey; 6] = [
    TemplateKey::OrderReceived,
    TemplateKey::OrderConfirmed,
    TemplateKey::OrderOnHoldActionNeeded,
    TemplateKey::OutForDelivery,
    TemplateKey::Delivered,
    TemplateKey::OrderCancelled,
];

/// Whether `action` (its JSON `type`) may run at `trigger`; the reason when not.
pub fn action_allowed(trigger: Trigger, action: &str) -> Result<(), &'static str> {
    use Trigger::*;
    match action {
        "hold" if trigger == OrderHeld => Err("the order is already on hold at that moment"),
        "release" if matches!(trigger, OrderPlaced | OrderConfirmed | HoldReleased) => {
            Err("the order is never on hold at that moment")
        }
        "route_to_location" | "exclude_location"
            if !matches!(
                trigger,
                OrderPlaced | OrderHeld | PaymentFailed | ReservationExpired
            ) =>
        {
            Err("routing takes effect when stock is reserved, and at this trigger the order's stock is already reserved or shipped")
        }
        "auto_confirm" if !matches!(trigger, OrderPlaced | PaymentReceived | HoldReleased) => {
            Err("only a pending order can be confirmed, and at this trigger it is on hold, already confirmed or past it")
        }
        "choose_carrier" if matches!(trigger, ReturnRequested | ParcelException) => {
            Err("the order's parcels have already left with their carrier")
        }
        _ => Ok(()),
    }
}

const RULE_FIELDS: &[&str] = &[
    "name",
    "description",
    "trigger",
    "priority",
    "when",
    "actions",
    "stop_processing",
];
const TEST_FIELDS: &[&str] = &["field", "op", "value"];
const ACTION_TYPES: &[&str] = &[
    "hold",
    "release",
    "route_to_location",
    "exclude_location",
    "choose_carrier",
    "tag",
    "set_priority",
    "auto_confirm",
    "notify",
    "require_review",
];

fn action_fields(kind: &str) -> (&'static [&'static str], &'static [&'static str]) {
    // (allowed besides `type`, required)
    match kind {
        "hold" => (&["reason", "note"], &["reason"]),
        "route_to_location" => (&["location", "skus"], &["location"]),
        "exclude_location" => (&["location"], &["location"]),
        "choose_carrier" => (&["carrier", "service"], &["carrier", "service"]),
        "tag" => (&["add", "remove"], &[]),
        "set_priority" => (&["priority"], &["priority"]),
        "notify" => (&["template"], &["template"]),
        "require_review" => (&["reason"], &["reason"]),
        _ => (&[], &[]),
    }
}

fn type_name(v: &Json) -> &'static str {
    match v {
        Json::Null => "null",
        Json::Bool(_) => "true or false",
        Json::Number(_) => "a number",
        Json::String(_) => "a string",
        Json::Array(_) => "an array",
        Json::Object(_) => "an object",
    }
}

fn names<T: std::fmt::Display>(items: impl IntoIterator<Item = T>) -> String {
    items
        .into_iter()
        .map(|i| i.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

struct Loader<'c> {
    ctx: &'c RuleContext,
    problems: Vec<Problem>,
    rule: String,
}

impl Loader<'_> {
    fn report(&mut self, path: &str, code: &'static str, message: String) {
        self.problems.push(Problem {
            rule: self.rule.clone(),
            path: path.to_string(),
            code,
            message,
        });
    }

    fn wrong_type(&mut self, path: &str, expected: &str, found: &Json) {
        self.report(
            path,
            "RULES_WRONG_TYPE",
            format!("expected {expected}, found {}", type_name(found)),
        );
    }

    /// The object at `path`, after reporting unknown and missing fields.
    fn object<'v>(
        &mut self,
        v: &'v Json,
        path: &str,
        allowed: &[&str],
        required: &[&str],
    ) -> Option<&'v Map<String, Json>> {
        let Json::Object(map) = v else {
            self.wrong_type(path, "an object", v);
            return None;
        };
        for key in map.keys() {
            if !allowed.contains(&key.as_str()) {
                self.report(
                    &format!("{path}.{key}"),
                    "RULES_UNKNOWN_FIELD",
                    format!(
                        "unknown field \"{key}\"; expected one of: {}",
                        allowed.join(", ")
                    ),
                );
            }
        }
        for key in required {
            if !map.contains_key(*key) {
                self.report(
                    path,
                    "RULES_MISSING_FIELD",
                    format!("missing field \"{key}\""),
                );
            }
        }
        Some(map)
    }

    fn text(&mut self, v: &Json, path: &str, max: usize) -> Option<String> {
        let Json::String(s) = v else {
            self.wrong_type(path, "a string", v);
            return None;
        };
        if s.trim().is_empty() {
            self.report(path, "RULES_BAD_VALUE", "must not be empty".to_string());
            return None;
        }
        if s.chars().count() > max {
            self.report(
                path,
                "RULES_BAD_VALUE",
                format!("is longer than {max} characters"),
            );
            return None;
        }
        Some(s.clone())
    }

    fn texts(&mut self, v: &Json, path: &str, allow_empty: bool) -> Option<Vec<String>> {
        let Json::Array(items) = v else {
            self.wrong_type(path, "an array of strings", v);
            return None;
        };
        if items.is_empty() && !allow_empty {
            self.report(path, "RULES_BAD_VALUE", "must not be empty".to_string());
            return None;
        }
        if items.len() > limits::MAX_VALUES {
            self.report(
                path,
                "RULES_LIMIT",
                format!("has more than {} values", limits::MAX_VALUES),
            );
            return None;
        }
        let mut out = Vec::with_capacity(items.len());
        let mut ok = true;
        for (k, item) in items.iter().enumerate() {
            match self.text(item, &format!("{path}[{k}]"), limits::MAX_TEXT) {
                Some(s) => out.push(s),
                None => ok = false,
            }
        }
        ok.then_some(out)
    }

    fn int(&mut self, v: &Json, path: &str, min: i64, max: i64) -> Option<i64> {
        let Some(n) = v.as_i64() else {
            let expected = if min >= 0 {
                "a whole number of 0 or more"
            } else {
                "a whole number"
            };
            // A negative number for a count is a wrong value, not a wrong type.
            if v.as_f64().is_some_and(|f| f.fract() == 0.0) {
                self.report(
                    path,
                    "RULES_BAD_VALUE",
                    format!("must be from {min} to {max}"),
                );
            } else {
                self.wrong_type(path, expected, v);
            }
            return None;
        };
        if n < min || n > max {
            self.report(
                path,
                "RULES_BAD_VALUE",
                format!("must be from {min} to {max}"),
            );
            return None;
        }
        Some(n)
    }

    fn location(&mut self, v: &Json, path: &str) -> Option<LocationId> {
        let text = self.text(v, path, crate::ids::MAX_ID_LEN)?;
        if let Some(known) = &self.ctx.locations {
            if !known.contains(&text) {
                self.report(
                    path,
                    "RULES_UNKNOWN_LOCATION",
                    format!(
                        "unknown location \"{text}\"; known locations: {}",
                        names(known)
                    ),
                );
                return None;
            }
        }
        match LocationId::parse(text) {
            Ok(id) => Some(id),
            Err(e) => {
                self.report(path, "RULES_BAD_VALUE", e.to_string());
                None
            }
        }
    }

    fn rule(&mut self, v: &Json, path: &str, seen: &mut BTreeSet<String>) -> Option<Rule> {
        let map = self.object(v, path, RULE_FIELDS, &["name", "trigger", "actions"])?;
        let name = map.get("name").and_then(|n| {
            let n = self.text(n, &format!("{path}.name"), limits::MAX_NAME)?;
            if let Err(e) = crate::ids::validate_text("rule name", &n, limits::MAX_NAME) {
                self.report(&format!("{path}.name"), "RULES_BAD_VALUE", e.to_string());
                return None;
            }
            if !seen.insert(n.clone()) {
                self.report(
                    &format!("{path}.name"),
                    "RULES_DUPLICATE_NAME",
                    format!("another rule is already named \"{n}\""),
                );
                return None;
            }
            Some(n)
        });
        let description = map
            .get("description")
            .map(|d| self.text(d, &format!("{path}.description"), limits::MAX_LONG_TEXT));
        let trigger = map.get("trigger").and_then(|t| {
            let p = format!("{path}.trigger");
            let Json::String(s) = t else {
                self.wrong_type(&p, "a string", t);
                return None;
            };
            let found = Trigger::parse(s);
            if found.is_none() {
                self.report(
                    &p,
                    "RULES_UNKNOWN_TRIGGER",
                    format!(
                        "unknown trigger \"{s}\"; expected one of: {}",
                        names(Trigger::ALL)
                    ),
                );
            }
            found
        });
        let priority = match map.get("priority") {
            None => Some(0),
            Some(p) => self
                .int(
                    p,
                    &format!("{path}.priority"),
                    i64::from(i32::MIN),
                    i64::from(i32::MAX),
                )
                .map(|p| p as i32),
        };
        let stop_processing = match map.get("stop_processing") {
            None => Some(false),
            Some(Json::Bool(b)) => Some(*b),
            Some(other) => {
                self.wrong_type(&format!("{path}.stop_processing"), "true or false", other);
                None
            }
        };
        let when = map
            .get("when")
            .map(|w| self.condition(w, &format!("{path}.when"), 0));
        let actions = map
            .get("actions")
            .and_then(|a| self.actions(a, &format!("{path}.actions"), trigger));
        Some(Rule {
            name: name?,
            description: description.flatten(),
            trigger: trigger?,
            priority: priority?,
            when: match when {
                Some(c) => Some(c?),
                None => None,
            },
            actions: actions?,
            stop_processing: stop_processing?,
        })
    }

    fn condition(&mut self, v: &Json, path: &str, depth: usize) -> Option<Condition> {
        if depth >= limits::MAX_CONDITION_DEPTH {
            self.report(
                path,
                "RULES_LIMIT",
                format!(
                    "conditions nest deeper than {} levels",
                    limits::MAX_CONDITION_DEPTH
                ),
            );
            return None;
        }
        let Json::Object(map) = v else {
            self.wrong_type(path, "an object (all, any, not, or a test)", v);
            return None;
        };
        for group in ["all", "any", "not"] {
            let Some(inner) = map.get(group) else {
                continue;
            };
            self.object(v, path, &[group], &[])?;
            let p = format!("{path}.{group}");
            if group == "not" {
                return self
                    .condition(inner, &p, depth + 1)
                    .map(|c| Condition::Not { not: Box::new(c) });
            }
            let Json::Array(items) = inner else {
                self.wrong_type(&p, "an array of conditions", inner);
                return None;
            };
            if items.len() > limits::MAX_VALUES {
                self.report(
                    &p,
                    "RULES_LIMIT",
                    format!("has more than {} conditions", limits::MAX_VALUES),
                );
                return None;
            }
            let parsed: Vec<Option<Condition>> = items
                .iter()
                .enumerate()
                .map(|(k, c)| self.condition(c, &format!("{p}[{k}]"), depth + 1))
                .collect();
            let parsed: Option<Vec<Condition>> = parsed.into_iter().collect();
            let parsed = parsed?;
            if group == "any" {
                return Some(Condition::Any { any: parsed });
            }
            self.currencies_agree(&parsed, &p);
            return Some(Condition::All { all: parsed });
        }
        self.test(v, path).map(Condition::Test)
    }

    /// In an `all`, a `currency == X` test and a `total` compared with money in
    /// another currency can never both hold.
    fn currencies_agree(&mut self, all: &[Condition], path: &str) {
        let required: Vec<&str> = all
            .iter()
            .filter_map(|c| match c {
                Condition::Test(Test {
                    field: Field::Currency,
                    op: Op::Eq,
                    value: Value::Text(code),
                }) => Some(code.as_str()),
                _ => None,
            })
            .collect();
        let Some(code) = required.first() else {
            return;
        };
        for (k, c) in all.iter().enumerate() {
            if let Condition::Test(Test {
                field: Field::Total,
                value: Value::Money(m),
                ..
            }) = c
            {
                if m.currency().code() != *code {
                    self.report(
                        &format!("{path}[{k}].value"),
                        "RULES_CURRENCY_MISMATCH",
                        format!(
                            "compares the total with money in {}, but this condition also requires currency == {code}; amounts are never converted between currencies",
                            m.currency()
                        ),
                    );
                }
            }
        }
    }

    fn test(&mut self, v: &Json, path: &str) -> Option<Test> {
        let map = self.object(v, path, TEST_FIELDS, TEST_FIELDS)?;
        let field = map.get("field").and_then(|f| {
            let p = format!("{path}.field");
            let Json::String(s) = f else {
                self.wrong_type(&p, "a string", f);
                return None;
            };
            let found = Field::parse(s);
            if found.is_none() {
                self.report(
                    &p,
                    "RULES_UNKNOWN_FIELD_NAME",
                    format!(
                        "unknown field \"{s}\"; expected one of: {}",
                        names(Field::ALL)
                    ),
                );
            }
            found
        });
        let op = map.get("op").and_then(|o| {
            let p = format!("{path}.op");
            let Json::String(s) = o else {
                self.wrong_type(&p, "a string", o);
                return None;
            };
            let found = Op::parse(s);
            if found.is_none() {
                self.report(
                    &p,
                    "RULES_UNKNOWN_OPERATOR",
                    format!(
                        "unknown operator \"{s}\"; expected one of: {}",
                        names(Op::ALL)
                    ),
                );
            }
            found
        });
        let (field, op) = (field?, op?);
        let kind = field.kind();
        if !kind.operators().contains(&op) {
            self.report(
                &format!("{path}.op"),
                "RULES_IMPOSSIBLE_COMPARISON",
                format!(
                    "operator \"{op}\" does not apply to {field} ({}); use one of: {}",
                    kind.describe(),
                    names(kind.operators())
                ),
            );
            return None;
        }
        let raw = map.get("value")?;
        let p = format!("{path}.value");
        let value = match (kind, op) {
            (FieldKind::Text | FieldKind::TextSet, Op::In | Op::NotIn) => {
                let items = self.texts(raw, &p, false)?;
                let mut ok = true;
                for (k, item) in items.iter().enumerate() {
                    ok &= self.text_value(field, item, &format!("{p}[{k}]"));
                }
                ok.then_some(Value::Texts(items))?
            }
            (FieldKind::Text | FieldKind::TextSet, _) => {
                let text = self.text(raw, &p, limits::MAX_TEXT)?;
                self.text_value(field, &text, &p)
                    .then_some(Value::Text(text))?
            }
            (FieldKind::Money, _) => Value::Money(self.money(raw, &p)?),
            (FieldKind::Count, Op::Between) => {
                let [a, b] = self.pair(raw, &p, |l, v, p| l.int(v, p, 0, i64::MAX))?;
                if a > b {
                    self.report(
                        &p,
                        "RULES_BAD_VALUE",
                        format!("the lower bound {a} is above the upper bound {b}"),
                    );
                    return None;
                }
                Value::CountRange([a as u64, b as u64])
            }
            (FieldKind::Count, _) => Value::Count(self.int(raw, &p, 0, i64::MAX)? as u64),
            (FieldKind::TimeOfDay, Op::Between) => {
                Value::TimeRange(self.pair(raw, &p, |l, v, p| l.time(v, p))?)
            }
            (FieldKind::TimeOfDay, _) => Value::Time(self.time(raw, &p)?),
        };
        Some(Test { field, op, value })
    }

    fn pair<T: Copy>(
        &mut self,
        v: &Json,
        path: &str,
        mut item: impl FnMut(&mut Self, &Json, &str) -> Option<T>,
    ) -> Option<[T; 2]> {
        match v {
            Json::Array(items) if items.len() == 2 => {
                let a = items
                    .first()
                    .and_then(|a| item(self, a, &format!("{path}[0]")));
                let b = items
                    .get(1)
                    .and_then(|b| item(self, b, &format!("{path}[1]")));
                Some([a?, b?])
            }
            _ => {
                self.wrong_type(path, "an array of two bounds", v);
                None
            }
        }
    }

    fn time(&mut self, v: &Json, path: &str) -> Option<TimeOfDay> {
        let Json::String(s) = v else {
            self.wrong_type(path, "a time of day \"HH:MM\"", v);
            return None;
        };
        let t = TimeOfDay::parse(s);
        if t.is_none() {
            self.report(
                path,
                "RULES_BAD_VALUE",
                format!("\"{s}\" is not a time of day (HH:MM, 00:00 to 23:59)"),
            );
        }
        t
    }

    /// Checks a text compared with a field whose values have a known shape.
    fn text_value(&mut self, field: Field, text: &str, path: &str) -> bool {
        match field {
            Field::Country
                if !(text.len() == 2 && text.bytes().all(|b| b.is_ascii_uppercase())) =>
            {
                self.report(
                    path,
                    "RULES_BAD_VALUE",
                    format!("\"{text}\" is not an ISO 3166-1 alpha-2 country code (two upper-case letters, e.g. \"TR\")"),
                );
                false
            }
            Field::Currency => match Currency::parse(text) {
                Err(_) => {
                    self.report(
                        path,
                        "RULES_BAD_VALUE",
                        format!("\"{text}\" is not an ISO 4217 currency code (e.g. \"TRY\")"),
                    );
                    false
                }
                Ok(c) => self.known_currency(c, path, "compares the order's currency with"),
            },
            _ => true,
        }
    }

    fn known_currency(&mut self, c: Currency, path: &str, what: &str) -> bool {
        if let Some(known) = &self.ctx.currencies {
            if !known.contains(&c) {
                self.report(
                    path,
                    "RULES_CURRENCY_MISMATCH",
                    format!(
                        "{what} {c}, but the shop's orders are in {}; amounts are never converted between currencies",
                        names(known)
                    ),
                );
                return false;
            }
        }
        true
    }

    fn money(&mut self, v: &Json, path: &str) -> Option<Money> {
        if !v.is_object() {
            self.wrong_type(
                path,
                "money, e.g. {\"amount\": \"1000.00\", \"currency\": \"TRY\"}",
                v,
            );
            return None;
        }
        let map = self.object(v, path, &["amount", "currency"], &["amount", "currency"])?;
        if map.len() != 2 || map.keys().any(|k| k != "amount" && k != "currency") {
            return None;
        }
        match serde_json::from_value::<Money>(v.clone()) {
            Ok(m) => self
                .known_currency(m.currency(), path, "compares the total with money in")
                .then_some(m),
            Err(e) => {
                self.report(path, "RULES_BAD_VALUE", format!("is not valid money: {e}"));
                None
            }
        }
    }

    fn actions(&mut self, v: &Json, path: &str, trigger: Option<Trigger>) -> Option<Vec<Action>> {
        let Json::Array(items) = v else {
            self.wrong_type(path, "an array of actions", v);
            return None;
        };
        if items.is_empty() {
            self.report(
                path,
                "RULES_BAD_VALUE",
                "a rule needs at least one action".to_string(),
            );
            return None;
        }
        if items.len() > limits::MAX_ACTIONS {
            self.report(
                path,
                "RULES_LIMIT",
                format!("has more than {} actions", limits::MAX_ACTIONS),
            );
            return None;
        }
        let parsed: Vec<Option<Action>> = items
            .iter()
            .enumerate()
            .map(|(k, a)| self.action(a, &format!("{path}[{k}]"), trigger))
            .collect();
        parsed.into_iter().collect()
    }

    fn action(&mut self, v: &Json, path: &str, trigger: Option<Trigger>) -> Option<Action> {
        let Json::Object(map) = v else {
            self.wrong_type(path, "an action object", v);
            return None;
        };
        let Some(kind) = map.get("type") else {
            self.report(
                path,
                "RULES_MISSING_FIELD",
                "missing field \"type\"".to_string(),
            );
            return None;
        };
        let tp = format!("{path}.type");
        let Json::String(kind) = kind else {
            self.wrong_type(&tp, "a string", kind);
            return None;
        };
        let Some(kind) = ACTION_TYPES.iter().copied().find(|k| k == kind) else {
            self.report(
                &tp,
                "RULES_UNKNOWN_ACTION",
                format!(
                    "unknown action \"{kind}\"; expected one of: {}",
                    ACTION_TYPES.join(", ")
                ),
            );
            return None;
        };
        let (fields, required) = action_fields(kind);
        let mut allowed = vec!["type"];
        allowed.extend_from_slice(fields);
        self.object(v, path, &allowed, required)?;
        if let Some(t) = trigger {
            if let Err(why) = action_allowed(t, kind) {
                self.report(
                    &tp,
                    "RULES_ACTION_NOT_ALLOWED",
                    format!("action \"{kind}\" is not allowed on trigger \"{t}\": {why}"),
                );
            }
        }
        let get = |k: &str| map.get(k);
        let field = |k: &str| format!("{path}.{k}");
        let action = match kind {
            "hold" => {
                let reason = get("reason").and_then(|r| {
                    let parsed = serde_json::from_value::<HoldReason>(r.clone()).ok();
                    if parsed.is_none() {
                        self.report(
                            &field("reason"),
                            "RULES_BAD_VALUE",
                            format!(
                                "{} is not a hold reason; expected one of: fraud_review, address_check, payment, insufficient_stock, customer_request, reservation_expired, unmapped_sku, other",
                                r
                            ),
                        );
                    }
                    parsed
                });
                let note = match get("note") {
                    Some(n) => Some(self.text(n, &field("note"), limits::MAX_LONG_TEXT)?),
                    None => None,
                };
                Action::Hold {
                    reason: reason?,
                    note,
                }
            }
            "release" => Action::Release,
            "auto_confirm" => Action::AutoConfirm,
            "route_to_location" => {
                let location = get("location").and_then(|l| self.location(l, &field("location")));
                let skus = match get("skus") {
                    Some(s) => Some(self.texts(s, &field("skus"), false)?),
                    None => Some(Vec::new()),
                };
                Action::RouteToLocation {
                    location: location?,
                    skus: skus?,
                }
            }
            "exclude_location" => Action::ExcludeLocation {
                location: get("location").and_then(|l| self.location(l, &field("location")))?,
            },
            "choose_carrier" => {
                let carrier =
                    get("carrier").and_then(|c| self.text(c, &field("carrier"), limits::MAX_TEXT));
                let service =
                    get("service").and_then(|s| self.text(s, &field("service"), limits::MAX_TEXT));
                let (carrier, service) = (carrier?, service?);
                if let Some(known) = &self.ctx.carrier_services {
                    if !known.contains(&(carrier.clone(), service.clone())) {
                        let list = names(known.iter().map(|(c, s)| format!("{c}/{s}")));
                        self.report(
                            path,
                            "RULES_UNKNOWN_CARRIER",
                            format!(
                                "unknown carrier service \"{carrier}/{service}\"; known: {list}"
                            ),
                        );
                        return None;
                    }
                }
                Action::ChooseCarrier { carrier, service }
            }
            "tag" => {
                let add = match get("add") {
                    Some(a) => self.texts(a, &field("add"), true)?,
                    None => Vec::new(),
                };
                let remove = match get("remove") {
                    Some(r) => self.texts(r, &field("remove"), true)?,
                    None => Vec::new(),
                };
                if add.is_empty() && remove.is_empty() {
                    self.report(
                        path,
                        "RULES_BAD_VALUE",
                        "a tag action must add or remove at least one tag".to_string(),
                    );
                    return None;
                }
                Action::Tag { add, remove }
            }
            "set_priority" => Action::SetPriority {
                priority: get("priority")
                    .and_then(|p| self.int(p, &field("priority"), -1_000_000, 1_000_000))?
                    as i32,
            },
            "notify" => {
                let t = get("template")?;
                let p = field("template");
                let Json::String(name) = t else {
                    self.wrong_type(&p, "a string", t);
                    return None;
                };
                let Some(key) = TemplateKey::ALL.into_iter().find(|k| k.as_str() == name) else {
                    self.report(
                        &p,
                        "RULES_UNKNOWN_TEMPLATE",
                        format!(
                            "unknown template \"{name}\"; expected one of: {}",
                            names(RULE_TEMPLATES)
                        ),
                    );
                    return None;
                };
                if !RULE_TEMPLATES.contains(&key) {
                    self.report(
                        &p,
                        "RULES_UNKNOWN_TEMPLATE",
                        format!(
                            "template \"{name}\" needs values of a parcel or a refund, which a rule cannot supply; use one of: {}",
                            names(RULE_TEMPLATES)
                        ),
                    );
                    return None;
                }
                Action::Notify { template: key }
            }
            "require_review" => Action::RequireReview {
                reason: get("reason")
                    .and_then(|r| self.text(r, &field("reason"), limits::MAX_LONG_TEXT))?,
            },
            _ => return None,
        };
        Some(action)
    }
}

/// Loads a rule set from JSON, checking every rule against `ctx`; every problem is
/// reported, each naming its rule and JSON path.
pub fn load(json: &str, ctx: &RuleContext) -> Result<RuleSet, RulesError> {
    if json.len() > limits::MAX_JSON_BYTES {
        return Err(RulesError::Invalid {
            problems: vec![Problem {
                rule: "(rule set)".to_string(),
                path: "$".to_string(),
                code: "RULES_LIMIT",
                message: format!("is larger than {} bytes", limits::MAX_JSON_BYTES),
            }],
        });
    }
    let doc: Json = serde_json::from_str(json).map_err(|e| RulesError::MalformedJson {
        line: e.line(),
        column: e.column(),
        reason: e.to_string(),
    })?;
    let mut loader = Loader {
        ctx,
        problems: Vec::new(),
        rule: "(rule set)".to_string(),
    };
    let Some(top) = loader.object(&doc, "$", &["$schema", "rules"], &["rules"]) else {
        return Err(RulesError::Invalid {
            problems: loader.problems,
        });
    };
    let mut rules = Vec::new();
    match top.get("rules") {
        Some(Json::Array(items)) if items.len() > limits::MAX_RULES => loader.report(
            "$.rules",
            "RULES_LIMIT",
            format!("has more than {} rules", limits::MAX_RULES),
        ),
        Some(Json::Array(items)) => {
            let mut seen = BTreeSet::new();
            for (i, item) in items.iter().enumerate() {
                loader.rule = item
                    .get("name")
                    .and_then(Json::as_str)
                    .map_or_else(|| format!("#{i}"), str::to_string);
                if let Some(rule) = loader.rule(item, &format!("$.rules[{i}]"), &mut seen) {
                    rules.push(rule);
                }
            }
        }
        Some(other) => {
            let other = other.clone();
            loader.wrong_type("$.rules", "an array of rules", &other);
        }
        None => {}
    }
    if loader.problems.is_empty() {
        Ok(RuleSet::new_checked(rules))
    } else {
        Err(RulesError::Invalid {
            problems: loader.problems,
        })
    }
}
