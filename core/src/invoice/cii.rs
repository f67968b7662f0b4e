//! The EN 16931 electronic invoice and credit note in UN/CEFACT Cross Industry Invoice
//! syntax (D16B, as Factur-X / ZUGFeRD profile "EN 16931" uses it).
//!
//! Written with `quick-xml`, which escapes every text and attribute, so a product title
//! such as `Çay & <Kahve>` cannot break the document. Element order follows the CII
//! schema (the tests validate against the XSD that the `factur-x` package ships).

use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};
use quick_xml::Writer;
use rust_decimal::Decimal;

use super::{DocumentKind, InvoiceDocument, InvoiceError, LineKind};
use crate::money::Money;
use crate::pii::Address;

/// The guideline identifier of the Factur-X / ZUGFeRD "EN 16931" (comfort) profile
/// (BT-24).
pub const EN16931_GUIDELINE: &str = "urn:cen.eu:en16931:2017";

const NS: [(&str, &str); 4] = [
    (
        "xmlns:rsm",
        "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100",
    ),
    (
        "xmlns:ram",
        "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100",
    ),
    (
        "xmlns:qdt",
        "urn:un:unece:uncefact:data:standard:QualifiedDataType:100",
    ),
    (
        "xmlns:udt",
        "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100",
    ),
];

struct Xml {
    w: Writer<Vec<u8>>,
}

fn io(e: std::io::Error) -> InvoiceError {
    InvoiceError::Render {
        reason: format!("XML: {e}"),
    }
}

impl Xml {
    fn open(&mut self, name: &str) -> Result<(), InvoiceError> {
        self.w
            .write_event(Event::Start(BytesStart::new(name)))
            .map_err(io)
    }

    fn open_with(&mut self, name: &str, attrs: &[(&str, &str)]) -> Result<(), InvoiceError> {
        let mut start = BytesStart::new(name);
        for a in attrs {
            start.push_attribute(*a);
        }
        self.w.write_event(Event::Start(start)).map_err(io)
    }

    fn close(&mut self, name: &str) -> Result<(), InvoiceError> {
        self.w
            .write_event(Event::End(BytesEnd::new(name)))
            .map_err(io)
    }

    fn leaf_with(
        &mut self,
        name: &str,
        attrs: &[(&str, &str)],
        text: &str,
    ) -> Result<(), InvoiceError> {
        self.open_with(name, attrs)?;
        self.w
            .write_event(Event::Text(BytesText::new(text)))
            .map_err(io)?;
        self.close(name)
    }

    fn leaf(&mut self, name: &str, text: &str) -> Result<(), InvoiceError> {
        self.leaf_with(name, &[], text)
    }

    fn date(
        &mut self,
        name: &str,
        kind: &str,
        date: chrono::NaiveDate,
    ) -> Result<(), InvoiceError> {
        self.open(name)?;
        self.leaf_with(
            &format!("{kind}:DateTimeString"),
            &[("format", "102")],
            &date.format("%Y%m%d").to_string(),
        )?;
        self.close(name)
    }

    fn amount(&mut self, name: &str, m: &Money) -> Result<(), InvoiceError> {
        self.leaf(name, &amount_text(m))
    }
}

/// An amount with exactly its currency's minor units (`12.50`, `1000` for JPY).
fn amount_text(m: &Money) -> String {
    let mut a = m.amount();
    a.rescale(m.currency().minor_units());
    a.to_string()
}

fn percent_text(rate: Decimal) -> String {
    let mut p = (rate * Decimal::ONE_HUNDRED).normalize();
    if p.scale() == 0 {
        p.rescale(0);
    }
    p.to_string()
}

struct PostalAddress<'a> {
    postcode: Option<&'a str>,
    lines: Vec<&'a str>,
    city: Option<&'a str>,
    country: &'a str,
    subdivision: Option<&'a str>,
}

impl PostalAddress<'_> {
    fn write(&self, x: &mut Xml) -> Result<(), InvoiceError> {
        x.open("ram:PostalTradeAddress")?;
        if let Some(p) = self.postcode.filter(|p| !p.is_empty()) {
            x.leaf("ram:PostcodeCode", p)?;
        }
        let names = ["ram:LineOne", "ram:LineTwo", "ram:LineThree"];
        let lines: Vec<&str> = self
            .lines
            .iter()
            .copied()
            .filter(|l| !l.is_empty())
            .collect();
        for (i, name) in names.iter().enumerate() {
            let text = if i == 2 && lines.len() > 3 {
                lines.get(2..).map(|rest| rest.join(", "))
            } else {
                lines.get(i).map(|l| (*l).to_string())
            };
            if let Some(text) = text {
                x.leaf(name, &text)?;
            }
        }
        if let Some(c) = self.city.filter(|c| !c.is_empty()) {
            x.leaf("ram:CityName", c)?;
        }
        x.leaf("ram:CountryID", self.country)?;
        if let Some(s) = self.subdivision.filter(|s| !s.is_empty()) {
            x.leaf("ram:CountrySubDivisionName", s)?;
        }
        x.close("ram:PostalTradeAddress")
    }
}

fn buyer_address(a: &Address) -> PostalAddress<'_> {
    PostalAddress {
        postcode: Some(a.postal_code.expose().as_str()),
        lines: a.lines.expose().iter().map(String::as_str).collect(),
        city: Some(a.city.expose().as_str()),
        country: a.country.as_str(),
        subdivision: a.region.as_deref(),
    }
}

/// The document as EN 16931 CII XML (UTF-8, with an XML declaration): an invoice
/// (type code 380) or a credit note (381) that names the invoice it corrects.
pub fn render_cii(doc: &InvoiceDocument) -> Result<String, InvoiceError> {
    let mut x = Xml {
        w: Writer::new_with_indent(Vec::new(), b' ', 2),
    };
    x.w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))
        .map_err(io)?;
    x.open_with("rsm:CrossIndustryInvoice", &NS)?;

    x.open("rsm:ExchangedDocumentContext")?;
    x.open("ram:GuidelineSpecifiedDocumentContextParameter")?;
    x.leaf("ram:ID", EN16931_GUIDELINE)?;
    x.close("ram:GuidelineSpecifiedDocumentContextParameter")?;
    x.close("rsm:ExchangedDocumentContext")?;

    x.open("rsm:ExchangedDocument")?;
    x.leaf("ram:ID", &doc.number)?;
    x.leaf("ram:TypeCode", doc.kind.type_code())?;
    x.date("ram:IssueDateTime", "udt", doc.issue_date)?;
    if let Some(note) = &doc.note {
        x.open("ram:IncludedNote")?;
        x.leaf("ram:Content", note)?;
        x.close("ram:IncludedNote")?;
    }
    x.close("rsm:ExchangedDocument")?;

    x.open("rsm:SupplyChainTradeTransaction")?;
    for line in &doc.lines {
        x.open("ram:IncludedSupplyChainTradeLineItem")?;
        x.open("ram:AssociatedDocumentLineDocument")?;
        x.leaf("ram:LineID", &line.id)?;
        x.close("ram:AssociatedDocumentLineDocument")?;
        x.open("ram:SpecifiedTradeProduct")?;
        if let Some(sku) = &line.sku {
            x.leaf("ram:SellerAssignedID", sku)?;
        }
        x.leaf("ram:Name", &line.description)?;
        x.close("ram:SpecifiedTradeProduct")?;
        x.open("ram:SpecifiedLineTradeAgreement")?;
        x.open("ram:NetPriceProductTradePrice")?;
        x.leaf("ram:ChargeAmount", &line.net_unit_price.to_string())?;
        x.close("ram:NetPriceProductTradePrice")?;
        x.close("ram:SpecifiedLineTradeAgreement")?;
        x.open("ram:SpecifiedLineTradeDelivery")?;
        let unit = match line.kind {
            LineKind::Item => "H87",
            LineKind::Shipping | LineKind::Credit => "C62",
        };
        x.leaf_with(
            "ram:BilledQuantity",
            &[("unitCode", unit)],
            &line.quantity.to_string(),
        )?;
        x.close("ram:SpecifiedLineTradeDelivery")?;
        x.open("ram:SpecifiedLineTradeSettlement")?;
        x.open("ram:ApplicableTradeTax")?;
        x.leaf("ram:TypeCode", "VAT")?;
        x.leaf("ram:CategoryCode", line.vat_category.code())?;
        x.leaf("ram:RateApplicablePercent", &percent_text(line.vat_rate))?;
        x.close("ram:ApplicableTradeTax")?;
        x.open("ram:SpecifiedTradeSettlementLineMonetarySummation")?;
        x.amount("ram:LineTotalAmount", &line.net_amount)?;
        x.close("ram:SpecifiedTradeSettlementLineMonetarySummation")?;
        x.close("ram:SpecifiedLineTradeSettlement")?;
        x.close("ram:IncludedSupplyChainTradeLineItem")?;
    }

    x.open("ram:ApplicableHeaderTradeAgreement")?;
    if let Some(r) = &doc.order_ref {
        x.leaf("ram:BuyerReference", r)?;
    }
    x.open("ram:SellerTradeParty")?;
    let s = &doc.seller;
    x.leaf("ram:Name", &s.name)?;
    PostalAddress {
        postcode: Some(s.postal_code.as_str()),
        lines: s.address_lines.iter().map(String::as_str).collect(),
        city: Some(s.city.as_str()),
        country: s.country.as_str(),
        subdivision: None,
    }
    .write(&mut x)?;
    if let Some(email) = &s.email {
        x.open("ram:URIUniversalCommunication")?;
        x.leaf_with("ram:URIID", &[("schemeID", "EM")], email)?;
        x.close("ram:URIUniversalCommunication")?;
    }
    if let Some(tax_id) = &s.tax_id {
        x.open("ram:SpecifiedTaxRegistration")?;
        x.leaf_with("ram:ID", &[("schemeID", "FC")], tax_id)?;
        x.close("ram:SpecifiedTaxRegistration")?;
    }
    if let Some(vat_id) = &s.vat_id {
        x.open("ram:SpecifiedTaxRegistration")?;
        x.leaf_with("ram:ID", &[("schemeID", "VA")], vat_id)?;
        x.close("ram:SpecifiedTaxRegistration")?;
    }
    x.close("ram:SellerTradeParty")?;
    x.open("ram:BuyerTradeParty")?;
    x.leaf("ram:Name", doc.buyer.name.expose())?;
    if let Some(a) = &doc.buyer.address {
        buyer_address(a).write(&mut x)?;
    }
    if let Some(email) = &doc.buyer.email {
        x.open("ram:URIUniversalCommunication")?;
        x.leaf_with("ram:URIID", &[("schemeID", "EM")], email.expose())?;
        x.close("ram:URIUniversalCommunication")?;
    }
    x.close("ram:BuyerTradeParty")?;
    x.open("ram:BuyerOrderReferencedDocument")?;
    x.leaf("ram:IssuerAssignedID", doc.order_id.as_str())?;
    x.close("ram:BuyerOrderReferencedDocument")?;
    x.close("ram:ApplicableHeaderTradeAgreement")?;

    x.open("ram:ApplicableHeaderTradeDelivery")?;
    x.open("ram:ActualDeliverySupplyChainEvent")?;
    x.date("ram:OccurrenceDateTime", "udt", doc.issue_date)?;
    x.close("ram:ActualDeliverySupplyChainEvent")?;
    x.close("ram:ApplicableHeaderTradeDelivery")?;

    x.open("ram:ApplicableHeaderTradeSettlement")?;
    x.leaf("ram:InvoiceCurrencyCode", doc.currency.code())?;
    for v in &doc.vat {
        x.open("ram:ApplicableTradeTax")?;
        x.amount("ram:CalculatedAmount", &v.tax)?;
        x.leaf("ram:TypeCode", "VAT")?;
        x.amount("ram:BasisAmount", &v.basis)?;
        x.leaf("ram:CategoryCode", v.category.code())?;
        x.leaf("ram:RateApplicablePercent", &percent_text(v.rate))?;
        x.close("ram:ApplicableTradeTax")?;
    }
    if doc.kind == DocumentKind::Invoice && !doc.totals.due.is_zero() {
        x.open("ram:SpecifiedTradePaymentTerms")?;
        x.leaf("ram:Description", "Payable on receipt")?;
        x.close("ram:SpecifiedTradePaymentTerms")?;
    }
    let t = &doc.totals;
    x.open("ram:SpecifiedTradeSettlementHeaderMonetarySummation")?;
    x.amount("ram:LineTotalAmount", &t.line_total)?;
    x.amount("ram:TaxBasisTotalAmount", &t.tax_basis_total)?;
    x.leaf_with(
        "ram:TaxTotalAmount",
        &[("currencyID", doc.currency.code())],
        &amount_text(&t.tax_total),
    )?;
    if !t.rounding.is_zero() {
        x.amount("ram:RoundingAmount", &t.rounding)?;
    }
    x.amount("ram:GrandTotalAmount", &t.grand_total)?;
    x.amount("ram:TotalPrepaidAmount", &t.paid)?;
    x.amount("ram:DuePayableAmount", &t.due)?;
    x.close("ram:SpecifiedTradeSettlementHeaderMonetarySummation")?;
    if let Some(c) = &doc.corrects {
        x.open("ram:InvoiceReferencedDocument")?;
        x.leaf("ram:IssuerAssignedID", &c.number)?;
        x.date("ram:FormattedIssueDateTime", "qdt", c.issue_date)?;
        x.close("ram:InvoiceReferencedDocument")?;
    }
    x.close("ram:ApplicableHeaderTradeSettlement")?;
    x.close("rsm:SupplyChainTradeTransaction")?;
    x.close("rsm:CrossIndustryInvoice")?;
    String::from_utf8(x.w.into_inner()).map_err(|e| InvoiceError::Render {
        reason: format!("XML is not UTF-8: {e}"),
    })
}
