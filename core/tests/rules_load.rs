//! Loading rules: every problem at once, each with its rule and JSON path; the schema
//! generated from the types matches the committed one; the shipped rule sets load.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::BTreeSet;

use ordersmith::money::Currency;
use ordersmith::rules::{json_schema, Action, Problem, RuleContext, RuleSet, RulesError, Trigger};

fn ctx() -> RuleContext {
    RuleContext {
        locations: Some(["ist-main", "ank-store"].map(String::from).into()),
        currencies: Some(BTreeSet::from([
            Currency::parse("TRY").unwrap(),
            Currency::parse("EUR").unwrap(),
        ])),
        carrier_services: Some(BTreeSet::from([
            ("ups".to_string(), "express".to_string()),
            ("ptt".to_string(), "standard".to_string()),
        ])),
    }
}

/// The problems of one rule (wrapped in a set), as their messages.
fn problems_of(rule: &str) -> Vec<String> {
    let json = format!("{{\"rules\": [{rule}]}}");
    match RuleSet::load(&json, &ctx()) {
        Ok(_) => panic!("rule loaded but should not: {rule}"),
        Err(e) => {
            assert_eq!(e.code(), "RULES_INVALID");
            e.problems().iter().map(ToString::to_string).collect()
        }
    }
}

fn codes_of(rule: &str) -> Vec<&'static str> {
    let json = format!("{{\"rules\": [{rule}]}}");
    RuleSet::load(&json, &ctx())
        .unwrap_err()
        .problems()
        .iter()
        .map(|p| p.code)
        .collect()
}

#[test]
fn unknown_field_names_the_rule_path_and_the_fields_it_could_be() {
    let rule = r#"{"name": "r1", "trigger": "order_placed", "prority": 5,
        "actions": [{"type": "set_priority", "priority": 1}]}"#;
    assert_eq!(
        problems_of(rule),
        ["rule \"r1\" at $.rules[0].prority: unknown field \"prority\"; expected one of: name, description, trigger, priority, when, actions, stop_processing"]
    );
    assert_eq!(codes_of(rule), ["RULES_UNKNOWN_FIELD"]);
}

#[test]
fn wrong_types_are_named_with_what_was_expected() {
    let rule = r#"{"name": "r2", "trigger": "order_placed", "priority": "high",
        "stop_processing": "yes",
        "actions": [{"type": "set_priority", "priority": 1.5}]}"#;
    assert_eq!(
        problems_of(rule),
        [
            "rule \"r2\" at $.rules[0].priority: expected a whole number, found a string",
            "rule \"r2\" at $.rules[0].stop_processing: expected true or false, found a string",
            "rule \"r2\" at $.rules[0].actions[0].priority: expected a whole number, found a number",
        ]
    );
}

#[test]
fn a_string_compared_with_greater_than_is_impossible() {
    let rule = r#"{"name": "r3", "trigger": "order_placed",
        "when": {"field": "channel", "op": ">", "value": "web"},
        "actions": [{"type": "tag", "add": ["x"]}]}"#;
    assert_eq!(
        problems_of(rule),
        ["rule \"r3\" at $.rules[0].when.op: operator \">\" does not apply to channel (a text field); use one of: ==, !=, in, not_in"]
    );
    assert_eq!(codes_of(rule), ["RULES_IMPOSSIBLE_COMPARISON"]);
}

#[test]
fn money_in_a_currency_the_shop_does_not_sell_in_is_refused() {
    let rule = r#"{"name": "r4", "trigger": "order_placed",
        "when": {"field": "total", "op": ">", "value": {"amount": "100", "currency": "USD"}},
        "actions": [{"type": "tag", "add": ["x"]}]}"#;
    assert_eq!(
        problems_of(rule),
        ["rule \"r4\" at $.rules[0].when.value: compares the total with money in USD, but the shop's orders are in EUR, TRY; amounts are never converted between currencies"]
    );
    assert_eq!(codes_of(rule), ["RULES_CURRENCY_MISMATCH"]);
}

#[test]
fn money_in_another_currency_than_the_condition_requires_is_refused() {
    let rule = r#"{"name": "r5", "trigger": "order_placed",
        "when": {"all": [
            {"field": "currency", "op": "==", "value": "TRY"},
            {"field": "total", "op": ">=", "value": {"amount": "100.00", "currency": "EUR"}}
        ]},
        "actions": [{"type": "tag", "add": ["x"]}]}"#;
    assert_eq!(
        problems_of(rule),
        ["rule \"r5\" at $.rules[0].when.all[1].value: compares the total with money in EUR, but this condition also requires currency == TRY; amounts are never converted between currencies"]
    );
}

#[test]
fn unknown_location_lists_the_known_ones() {
    let rule = r#"{"name": "r6", "trigger": "order_placed",
        "actions": [{"type": "route_to_location", "location": "izmir-1"}]}"#;
    assert_eq!(
        problems_of(rule),
        ["rule \"r6\" at $.rules[0].actions[0].location: unknown location \"izmir-1\"; known locations: ank-store, ist-main"]
    );
    assert_eq!(codes_of(rule), ["RULES_UNKNOWN_LOCATION"]);
}

#[test]
fn unknown_template_and_one_a_rule_cannot_fill() {
    let rule = r#"{"name": "r7", "trigger": "order_placed",
        "actions": [{"type": "notify", "template": "order_shiped"},
                    {"type": "notify", "template": "order_shipped"}]}"#;
    assert_eq!(
        problems_of(rule),
        [
            "rule \"r7\" at $.rules[0].actions[0].template: unknown template \"order_shiped\"; expected one of: order_received, order_confirmed, order_on_hold_action_needed, out_for_delivery, delivered, order_cancelled",
            "rule \"r7\" at $.rules[0].actions[1].template: template \"order_shipped\" needs values of a parcel or a refund, which a rule cannot supply; use one of: order_received, order_confirmed, order_on_hold_action_needed, out_for_delivery, delivered, order_cancelled",
        ]
    );
    assert_eq!(
        codes_of(rule),
        ["RULES_UNKNOWN_TEMPLATE", "RULES_UNKNOWN_TEMPLATE"]
    );
}

#[test]
fn unknown_trigger_lists_the_triggers() {
    let rule = r#"{"name": "r8", "trigger": "order_shipped",
        "actions": [{"type": "tag", "add": ["x"]}]}"#;
    assert_eq!(
        problems_of(rule),
        ["rule \"r8\" at $.rules[0].trigger: unknown trigger \"order_shipped\"; expected one of: order_placed, order_confirmed, order_held, hold_released, payment_received, payment_failed, stock_low, reservation_expired, return_requested, parcel_exception, ship_by_at_risk"]
    );
}

#[test]
fn actions_illegal_for_their_trigger_say_why() {
    let rule = r#"{"name": "r9", "trigger": "order_confirmed",
        "actions": [{"type": "route_to_location", "location": "ist-main"},
                    {"type": "auto_confirm"},
                    {"type": "release"}]}"#;
    assert_eq!(
        problems_of(rule),
        [
            "rule \"r9\" at $.rules[0].actions[0].type: action \"route_to_location\" is not allowed on trigger \"order_confirmed\": routing takes effect when stock is reserved, and at this trigger the order's stock is already reserved or shipped",
            "rule \"r9\" at $.rules[0].actions[1].type: action \"auto_confirm\" is not allowed on trigger \"order_confirmed\": only a pending order can be confirmed, and at this trigger it is on hold, already confirmed or past it",
            "rule \"r9\" at $.rules[0].actions[2].type: action \"release\" is not allowed on trigger \"order_confirmed\": the order is never on hold at that moment",
        ]
    );
    let parcel = r#"{"name": "r9b", "trigger": "parcel_exception",
        "actions": [{"type": "choose_carrier", "carrier": "ups", "service": "express"}]}"#;
    assert_eq!(
        problems_of(parcel),
        ["rule \"r9b\" at $.rules[0].actions[0].type: action \"choose_carrier\" is not allowed on trigger \"parcel_exception\": the order's parcels have already left with their carrier"]
    );
}

#[test]
fn unknown_action_operator_and_field_name() {
    let rule = r#"{"name": "r10", "trigger": "order_placed",
        "when": {"any": [{"field": "colour", "op": "==", "value": "red"},
                          {"field": "country", "op": "~=", "value": "TR"}]},
        "actions": [{"type": "hold_order", "reason": "other"}]}"#;
    assert_eq!(
        problems_of(rule),
        [
            "rule \"r10\" at $.rules[0].when.any[0].field: unknown field \"colour\"; expected one of: channel, country, currency, total, line_count, sku, tag, customer_order_count, payment_method, shipping_service, weight_grams, local_time",
            "rule \"r10\" at $.rules[0].when.any[1].op: unknown operator \"~=\"; expected one of: ==, !=, >, >=, <, <=, in, not_in, between",
            "rule \"r10\" at $.rules[0].actions[0].type: unknown action \"hold_order\"; expected one of: hold, release, route_to_location, exclude_location, choose_carrier, tag, set_priority, auto_confirm, notify, require_review",
        ]
    );
}

#[test]
fn bad_values_missing_fields_and_duplicate_names() {
    let json = r#"{"rules": [
        {"name": "dup", "trigger": "order_placed",
         "when": {"all": [{"field": "country", "op": "==", "value": "Turkey"},
                          {"field": "local_time", "op": "<", "value": "25:00"},
                          {"field": "line_count", "op": "between", "value": [5, 2]}]},
         "actions": [{"type": "hold", "reason": "because"}]},
        {"name": "dup", "trigger": "order_placed", "actions": []},
        {"trigger": "order_placed", "actions": [{"type": "choose_carrier", "carrier": "dhl", "service": "express"}]}
    ]}"#;
    let err = RuleSet::load(json, &ctx()).unwrap_err();
    let messages: Vec<String> = err.problems().iter().map(ToString::to_string).collect();
    assert_eq!(
        messages,
        [
            "rule \"dup\" at $.rules[0].when.all[0].value: \"Turkey\" is not an ISO 3166-1 alpha-2 country code (two upper-case letters, e.g. \"TR\")",
            "rule \"dup\" at $.rules[0].when.all[1].value: \"25:00\" is not a time of day (HH:MM, 00:00 to 23:59)",
            "rule \"dup\" at $.rules[0].when.all[2].value: the lower bound 5 is above the upper bound 2",
            "rule \"dup\" at $.rules[0].actions[0].reason: \"because\" is not a hold reason; expected one of: fraud_review, address_check, payment, insufficient_stock, customer_request, reservation_expired, unmapped_sku, other",
            "rule \"dup\" at $.rules[1].name: another rule is already named \"dup\"",
            "rule \"dup\" at $.rules[1].actions: a rule needs at least one action",
            "rule \"#2\" at $.rules[2]: missing field \"name\"",
            "rule \"#2\" at $.rules[2].actions[0]: unknown carrier service \"dhl/express\"; known: ptt/standard, ups/express",
        ]
    );
    // Every problem's code is a documented one.
    for p in err.problems() {
        assert!(Problem::CODES.contains(&p.code), "{}", p.code);
    }
    assert_eq!(
        err.to_string(),
        "8 problem(s) in the rules; the first: rule \"dup\" at $.rules[0].when.all[0].value: \"Turkey\" is not an ISO 3166-1 alpha-2 country code (two upper-case letters, e.g. \"TR\")"
    );
}

#[test]
fn all_problems_of_all_rules_are_reported_not_just_the_first() {
    let json = r#"{"rules": [
        {"name": "a", "trigger": "nope", "actions": [{"type": "tag", "add": ["x"]}]},
        {"name": "b", "trigger": "order_placed", "actions": [{"type": "set_priority"}]},
        {"name": "c", "trigger": "order_placed", "when": {"field": "total", "op": "in", "value": []},
         "actions": [{"type": "exclude_location", "location": "nowhere"}]}
    ], "version": 2}"#;
    let err = RuleSet::load(json, &ctx()).unwrap_err();
    let found: Vec<(&str, &str, &str)> = err
        .problems()
        .iter()
        .map(|p| (p.rule.as_str(), p.path.as_str(), p.code))
        .collect();
    assert_eq!(
        found,
        [
            ("(rule set)", "$.version", "RULES_UNKNOWN_FIELD"),
            ("a", "$.rules[0].trigger", "RULES_UNKNOWN_TRIGGER"),
            ("b", "$.rules[1].actions[0]", "RULES_MISSING_FIELD"),
            ("c", "$.rules[2].when.op", "RULES_IMPOSSIBLE_COMPARISON"),
            (
                "c",
                "$.rules[2].actions[0].location",
                "RULES_UNKNOWN_LOCATION"
            ),
        ]
    );
}

#[test]
fn malformed_json_says_where() {
    let err = RuleSet::load("{\"rules\": [", &ctx()).unwrap_err();
    assert_eq!(err.code(), "RULES_MALFORMED_JSON");
    assert!(matches!(err, RulesError::MalformedJson { line: 1, .. }));
    assert!(err.problems().is_empty());
}

#[test]
fn without_a_context_names_are_not_checked_but_shapes_are() {
    let rule = r#"{"rules": [{"name": "r", "trigger": "order_placed",
        "when": {"field": "total", "op": ">", "value": {"amount": "1", "currency": "USD"}},
        "actions": [{"type": "route_to_location", "location": "anywhere"}]}]}"#;
    assert!(RuleSet::load(rule, &RuleContext::default()).is_ok());
    let too_precise = r#"{"rules": [{"name": "r", "trigger": "order_placed",
        "when": {"field": "total", "op": ">", "value": {"amount": "1.001", "currency": "TRY"}},
        "actions": [{"type": "tag", "add": ["x"]}]}]}"#;
    let err = RuleSet::load(too_precise, &RuleContext::default()).unwrap_err();
    assert_eq!(err.problems()[0].path, "$.rules[0].when.value");
    assert_eq!(err.problems()[0].code, "RULES_BAD_VALUE");
}

#[test]
fn every_operator_is_accepted_where_it_fits_and_refused_where_it_does_not() {
    use ordersmith::rules::{Field, FieldKind, Op};
    for field in Field::ALL {
        for op in Op::ALL {
            let value = match (field.kind(), op) {
                (FieldKind::Text | FieldKind::TextSet, Op::In | Op::NotIn) => match field {
                    Field::Country => r#"["TR"]"#,
                    Field::Currency => r#"["TRY"]"#,
                    _ => r#"["x"]"#,
                },
                (FieldKind::Text | FieldKind::TextSet, _) => match field {
                    Field::Country => r#""TR""#,
                    Field::Currency => r#""TRY""#,
                    _ => r#""x""#,
                },
                (FieldKind::Money, _) => r#"{"amount": "10", "currency": "TRY"}"#,
                (FieldKind::Count, Op::Between) => "[1, 2]",
                (FieldKind::Count, _) => "3",
                (FieldKind::TimeOfDay, Op::Between) => r#"["09:00", "17:00"]"#,
                (FieldKind::TimeOfDay, _) => r#""12:00""#,
            };
            let json = format!(
                r#"{{"rules": [{{"name": "r", "trigger": "order_placed",
                "when": {{"field": "{field}", "op": "{op}", "value": {value}}},
                "actions": [{{"type": "tag", "add": ["x"]}}]}}]}}"#
            );
            let result = RuleSet::load(&json, &ctx());
            if field.kind().operators().contains(&op) {
                assert!(result.is_ok(), "{field} {op}: {result:?}");
            } else {
                let err = result.unwrap_err();
                assert_eq!(
                    err.problems()[0].code,
                    "RULES_IMPOSSIBLE_COMPARISON",
                    "{field} {op}"
                );
            }
        }
    }
}

#[test]
fn a_loaded_set_round_trips_through_its_own_json() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../examples/rules/fraud_review.json"
    ))
    .unwrap();
    let set = RuleSet::load(&text, &ctx()).unwrap();
    let again = RuleSet::load(&set.to_json(), &ctx()).unwrap();
    assert_eq!(set, again);
    let rebuilt = RuleSet::from_rules(set.rules().to_vec(), &ctx()).unwrap();
    assert_eq!(rebuilt, set);
}

#[test]
fn the_shipped_rule_sets_load_against_a_shop_with_their_locations() {
    for (file, triggers) in [
        ("fraud_review.json", vec![Trigger::OrderPlaced]),
        ("bulky_to_main_warehouse.json", vec![Trigger::OrderPlaced]),
        (
            "express_for_promise.json",
            vec![Trigger::ShipByAtRisk, Trigger::OrderConfirmed],
        ),
    ] {
        let path = format!("{}/../examples/rules/{file}", env!("CARGO_MANIFEST_DIR"));
        let set = RuleSet::load(&std::fs::read_to_string(&path).unwrap(), &ctx())
            .unwrap_or_else(|e| panic!("{file}: {e}"));
        let found: Vec<Trigger> = set.rules().iter().map(|r| r.trigger).collect();
        assert_eq!(found, triggers, "{file}");
    }
    // Against a shop without the main warehouse, the bulky set is refused.
    let path = format!(
        "{}/../examples/rules/bulky_to_main_warehouse.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let small_shop = RuleContext {
        locations: Some(BTreeSet::from(["ank-store".to_string()])),
        ..ctx()
    };
    let err = RuleSet::load(&std::fs::read_to_string(path).unwrap(), &small_shop).unwrap_err();
    assert_eq!(err.problems()[0].code, "RULES_UNKNOWN_LOCATION");
}

#[test]
fn the_committed_json_schema_is_the_one_the_types_generate() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/rules.schema.json");
    let generated = json_schema();
    if std::env::var_os("ORDERSMITH_BLESS").is_some() {
        std::fs::write(path, &generated).unwrap();
    }
    let committed = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        committed == generated,
        "docs/rules.schema.json is out of date; regenerate it with \
         ORDERSMITH_BLESS=1 cargo test -p ordersmith --test rules_load"
    );
    // The schema knows every action and trigger.
    for kind in [
        "hold",
        "route_to_location",
        "require_review",
        "auto_confirm",
    ] {
        assert!(generated.contains(&format!("\"{kind}\"")), "{kind}");
    }
    for t in Trigger::ALL {
        assert!(generated.contains(&format!("\"{t}\"")), "{t}");
    }
    let _ = Action::Release;
}
