"""Automation rules from Python: loading with every problem named, a dry run that
changes nothing, live rules recorded on the order, and a shadow report."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import ordersmith
from conftest import order_input

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "rules"

BULKY = {
    "rules": [
        {
            "name": "mugs-from-main",
            "trigger": "order_placed",
            "when": {"field": "sku", "op": "==", "value": "MUG"},
            "actions": [{"type": "route_to_location", "location": "ist-main"}, {"type": "tag", "add": ["routed"]}],
        }
    ]
}


def shop(engine: ordersmith.Engine) -> None:
    engine.add_location("ank-store", "Ankara store", 1, "TR-06", "store")
    engine.add_location("ist-main", "Istanbul main", 2, "TR-34")
    engine.register_variant("MUG")
    engine.receive("MUG", "ank-store", 10)
    engine.receive("MUG", "ist-main", 10)


def test_load_and_validate_report_every_problem_with_rule_and_path() -> None:
    bad = json.dumps(
        {
            "rules": [
                {"name": "a", "trigger": "order_placed", "priorty": 1, "actions": [{"type": "tag", "add": ["x"]}]},
                {
                    "name": "b",
                    "trigger": "order_confirmed",
                    "when": {"field": "country", "op": ">", "value": "TR"},
                    "actions": [{"type": "route_to_location", "location": "nowhere"}],
                },
            ]
        }
    )
    problems = ordersmith.validate_rules(bad, locations=["ist-main"])
    assert [(p["rule"], p["path"], p["code"]) for p in problems] == [
        ("a", "$.rules[0].priorty", "RULES_UNKNOWN_FIELD"),
        ("b", "$.rules[1].when.op", "RULES_IMPOSSIBLE_COMPARISON"),
        ("b", "$.rules[1].actions[0].type", "RULES_ACTION_NOT_ALLOWED"),
        ("b", "$.rules[1].actions[0].location", "RULES_UNKNOWN_LOCATION"),
    ]
    assert problems[1]["message"] == (
        'operator ">" does not apply to country (a text field); use one of: ==, !=, in, not_in'
    )
    with pytest.raises(ordersmith.RulesInputError) as info:
        ordersmith.load_rules(bad, locations=["ist-main"])
    assert isinstance(info.value, ValueError)
    assert info.value.code == "RULES_INVALID"
    assert info.value.details["problems"] == problems
    assert str(info.value).startswith("4 problem(s) in the rules; the first: rule \"a\" at $.rules[0].priorty")
    with pytest.raises(ordersmith.RulesError) as malformed:
        ordersmith.validate_rules("{not json")
    assert malformed.value.code == "RULES_MALFORMED_JSON"
    with pytest.raises(ordersmith.MoneyInputError):
        ordersmith.load_rules("{\"rules\": []}", currencies=["XYZ"])
    with pytest.raises(ordersmith.EngineInputError):
        ordersmith.load_rules("{\"rules\": []}", carrier_services=["ups-express"])


def test_shipped_rule_sets_load_and_the_schema_is_published() -> None:
    for name in ["fraud_review.json", "bulky_to_main_warehouse.json", "express_for_promise.json"]:
        rules = ordersmith.load_rules((EXAMPLES / name).read_text(), currencies=["TRY", "EUR"])
        assert len(rules) >= 1
        assert ordersmith.validate_rules(rules.to_json()) == []
    schema = json.loads(ordersmith.rules_json_schema())
    assert schema["title"] == "RuleSet"
    assert "Action" in schema["$defs"]


def test_dry_run_changes_nothing_then_live_rules_act_and_say_why(engine: ordersmith.Engine) -> None:
    shop(engine)
    order = engine.place_order(order_input("MUG", 1))
    rules = engine.load_rules(json.dumps(BULKY))
    assert rules.names == ["mugs-from-main"]
    before = engine.history(order.id)
    report = engine.dry_run_rules(rules)
    assert engine.history(order.id) == before
    assert report["orders_evaluated"] == 1
    assert report["counts"] == {"mugs-from-main": 1}
    (entry,) = report["orders"]
    assert entry["order_id"] == order.id
    assert entry["changes"] == ["tag +routed", "route all lines -> ist-main"]
    assert entry["firings"][0]["because"] == "sku ([MUG]) == MUG"

    engine.set_rules(rules)
    live = engine.place_order(order_input("MUG", 2))
    assert "routed" in live.tags
    assert live.automation["routes"] == [{"location": "ist-main"}]
    confirmed = engine.confirm(live.id)
    assert [a["location"] for a in confirmed.lines[0].allocations] == ["ist-main"]
    by_rule = [e for e in engine.history(live.id) if e["actor"] == "rule:mugs-from-main"]
    assert [e["event"]["type"] for e in by_rule] == ["rule_applied", "tagged"]
    assert by_rule[0]["event"]["actions"][0]["result"] == "applied"


def test_shadow_rules_only_record_and_the_report_compares(engine: ordersmith.Engine) -> None:
    shop(engine)
    candidate = engine.load_rules(
        json.dumps(
            {
                "rules": [
                    {
                        "name": "hold-big",
                        "trigger": "order_placed",
                        "when": {"field": "line_count", "op": ">=", "value": 1},
                        "actions": [{"type": "hold", "reason": "fraud_review"}],
                    }
                ]
            }
        )
    )
    engine.set_rules(engine.load_rules('{"rules": []}'), shadow=candidate)
    order = engine.place_order(order_input("MUG", 1))
    assert order.status == "pending"
    report = engine.shadow_report()
    assert report["orders_compared"] == 1
    assert report["orders_differing"] == 1
    assert report["per_rule"] == {"hold-big": {"live_only": 0, "candidate_only": 1}}
    assert report["differences"][0]["candidate"][0]["rule"] == "hold-big"
    engine.set_rules(None)
    assert engine.place_order(order_input("MUG", 1)).status == "pending"
    assert engine.shadow_report()["orders_differing"] == 1


def test_a_live_rule_counts_the_customers_earlier_orders(engine: ordersmith.Engine) -> None:
    shop(engine)
    first_timers = {
        "rules": [
            {
                "name": "welcome",
                "trigger": "order_placed",
                "when": {"field": "customer_order_count", "op": "==", "value": 0},
                "actions": [{"type": "tag", "add": ["first-order"]}],
            }
        ]
    }
    engine.set_rules(engine.load_rules(json.dumps(first_timers)))
    ayse = {"name": "Ayşe Yılmaz", "email": "Ayse@Example.com"}
    first = engine.place_order(order_input("MUG", 1, customer=ayse))
    # The same customer by e-mail in another case: her second order.
    second = engine.place_order(order_input("MUG", 1, customer={**ayse, "email": "ayse@example.com"}))
    other = engine.place_order(order_input("MUG", 1, customer={"name": "Can", "email": "can@example.com"}))
    assert ["first-order" in o.tags for o in (first, second, other)] == [True, False, True]


def test_rule_context_names_what_rules_are_checked_against(engine: ordersmith.Engine) -> None:
    assert engine.rule_context() == {"locations": [], "currencies": None, "carrier_services": None}
    shop(engine)
    context = engine.rule_context()
    assert context["locations"] == ["ank-store", "ist-main"]
    # The same names, as validate_rules takes them.
    assert ordersmith.validate_rules(json.dumps(BULKY), **context) == []
    elsewhere = json.dumps({**BULKY, "rules": [{**BULKY["rules"][0], "actions": [{"type": "route_to_location", "location": "izmir"}]}]})
    problems = ordersmith.validate_rules(elsewhere, **context)
    assert [p["code"] for p in problems] == ["RULES_UNKNOWN_LOCATION"]


def test_rule_facts_reach_the_rules_and_bad_ones_change_nothing(engine: ordersmith.Engine) -> None:
    shop(engine)
    heavy = {
        "rules": [
            {
                "name": "heavy",
                "trigger": "order_placed",
                "when": {"field": "weight_grams", "op": ">=", "value": 5000},
                "actions": [{"type": "tag", "add": ["heavy"]}],
            }
        ]
    }
    engine.set_rule_facts(weights_grams={"MUG": 2000}, currencies=["TRY"], carrier_services=["yurtici/standard"])
    engine.set_rules(engine.load_rules(json.dumps(heavy)))
    # Three mugs weigh 6 kg, two 4 kg: the weights given here are what the rule reads.
    assert "heavy" in engine.place_order(order_input("MUG", 3)).tags
    assert "heavy" not in engine.place_order(order_input("MUG", 2)).tags
    assert engine.rule_context() == {
        "locations": ["ank-store", "ist-main"],
        "currencies": ["TRY"],
        "carrier_services": ["yurtici/standard"],
    }
    # Only what is given changes.
    engine.set_rule_facts(max_chain_depth=3)
    assert engine.rule_context()["currencies"] == ["TRY"]
    for kwargs in (
        {"weights_grams": {"MUG": -1}},
        {"weights_grams": {" ": 1}},
        {"carrier_services": ["yurtici"]},
        {"max_chain_depth": 0},
        {"max_chain_depth": "3"},
    ):
        with pytest.raises(ordersmith.EngineInputError):
            engine.set_rule_facts(**kwargs)  # type: ignore[arg-type]
    with pytest.raises(ordersmith.MoneyInputError):
        engine.set_rule_facts(currencies=["XYZ"])
    assert engine.rule_context()["carrier_services"] == ["yurtici/standard"], "nothing changed"
