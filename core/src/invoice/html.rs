//! A printable, self-contained HTML page of a document (inline CSS, no scripts, no
//! external resources), in English or Turkish. Every text from data is escaped.

use std::fmt::Write as _;

use quick_xml::escape::escape;
use rust_decimal::Decimal;

use super::{DocumentKind, InvoiceDocument, InvoiceError};
use crate::money::Money;
use crate::notify::Locale;

struct Labels {
    invoice: &'static str,
    credit_note: &'static str,
    number: &'static str,
    date: &'static str,
    order: &'static str,
    corrects: &'static str,
    seller: &'static str,
    buyer: &'static str,
    description: &'static str,
    quantity: &'static str,
    unit_price: &'static str,
    vat: &'static str,
    net: &'static str,
    breakdown: &'static str,
    basis: &'static str,
    total_net: &'static str,
    total_vat: &'static str,
    total: &'static str,
    paid: &'static str,
    due: &'static str,
    tax_id: &'static str,
    vat_id: &'static str,
    prices_include: &'static str,
}

const EN: Labels = Labels {
    invoice: "Invoice",
    credit_note: "Credit note",
    number: "Number",
    date: "Date",
    order: "Order",
    corrects: "Corrects invoice",
    seller: "Seller",
    buyer: "Bill to",
    description: "Description",
    quantity: "Qty",
    unit_price: "Unit price (net)",
    vat: "VAT",
    net: "Net amount",
    breakdown: "VAT breakdown",
    basis: "Taxable amount",
    total_net: "Total without VAT",
    total_vat: "Total VAT",
    total: "Total",
    paid: "Paid",
    due: "Amount due",
    tax_id: "Tax no.",
    vat_id: "VAT no.",
    prices_include: "Prices on the order included VAT.",
};

const TR: Labels = Labels {
    invoice: "Fatura",
    credit_note: "İade faturası",
    number: "Numara",
    date: "Tarih",
    order: "Sipariş",
    corrects: "Düzeltilen fatura",
    seller: "Satıcı",
    buyer: "Alıcı",
    description: "Açıklama",
    quantity: "Miktar",
    unit_price: "Birim fiyat (KDV hariç)",
    vat: "KDV",
    net: "Tutar (KDV hariç)",
    breakdown: "KDV dökümü",
    basis: "Matrah",
    total_net: "KDV hariç toplam",
    total_vat: "Toplam KDV",
    total: "Genel toplam",
    paid: "Ödenen",
    due: "Ödenecek tutar",
    tax_id: "Vergi no",
    vat_id: "KDV no",
    prices_include: "Siparişteki fiyatlara KDV dahildi.",
};

fn money(m: &Money) -> String {
    let mut a = m.amount();
    a.rescale(m.currency().minor_units());
    format!("{a} {}", m.currency())
}

fn percent(rate: Decimal) -> String {
    format!("{} %", (rate * Decimal::ONE_HUNDRED).normalize())
}

/// The document as one printable HTML page in `locale` (English or Turkish).
pub fn render_html(doc: &InvoiceDocument, locale: Locale) -> Result<String, InvoiceError> {
    let l = match locale {
        Locale::Tr => &TR,
        _ => &EN,
    };
    let lang = match locale {
        Locale::Tr => "tr",
        _ => "en",
    };
    let title = match doc.kind {
        DocumentKind::Invoice => l.invoice,
        DocumentKind::CreditNote => l.credit_note,
    };
    let e = |s: &str| escape(s).into_owned();
    let mut h = String::with_capacity(4096 + doc.lines.len() * 256);
    let w = |h: &mut String, s: std::fmt::Arguments<'_>| h.write_fmt(s);
    let r = (|| -> std::fmt::Result {
        w(&mut h, format_args!(
            "<!DOCTYPE html>\n<html lang=\"{lang}\">\n<head>\n<meta charset=\"utf-8\">\n<title>{} {}</title>\n<style>\n\
             body{{font-family:Helvetica,Arial,sans-serif;font-size:11pt;margin:2cm;color:#111}}\n\
             h1{{font-size:20pt;margin:0 0 .5em}}\ntable{{border-collapse:collapse;width:100%;margin:1em 0}}\n\
             th,td{{border-bottom:1px solid #ccc;padding:4px 6px;text-align:left;vertical-align:top}}\n\
             td.n,th.n{{text-align:right;white-space:nowrap}}\n.parties{{display:flex;gap:2cm}}\n\
             .totals{{width:50%;margin-left:auto}}\n.due td{{font-weight:bold;border-top:2px solid #111}}\n\
             @media print{{body{{margin:0}}}}\n</style>\n</head>\n<body>\n",
            e(title), e(&doc.number)
        ))?;
        w(
            &mut h,
            format_args!("<h1>{}</h1>\n<table class=\"meta\">\n", e(title)),
        )?;
        w(
            &mut h,
            format_args!(
                "<tr><th>{}</th><td>{}</td></tr>\n",
                l.number,
                e(&doc.number)
            ),
        )?;
        w(
            &mut h,
            format_args!(
                "<tr><th>{}</th><td>{}</td></tr>\n",
                l.date,
                doc.issue_date.format("%Y-%m-%d")
            ),
        )?;
        let order = match &doc.order_ref {
            Some(r) => format!("{} ({})", e(doc.order_id.as_str()), e(r)),
            None => e(doc.order_id.as_str()),
        };
        w(
            &mut h,
            format_args!("<tr><th>{}</th><td>{order}</td></tr>\n", l.order),
        )?;
        if let Some(c) = &doc.corrects {
            w(
                &mut h,
                format_args!(
                    "<tr><th>{}</th><td>{} ({})</td></tr>\n",
                    l.corrects,
                    e(&c.number),
                    c.issue_date.format("%Y-%m-%d")
                ),
            )?;
        }
        w(
            &mut h,
            format_args!(
                "</table>\n<div class=\"parties\">\n<div class=\"seller\"><h2>{}</h2>\n",
                l.seller
            ),
        )?;
        let s = &doc.seller;
        w(&mut h, format_args!("<p>{}<br>\n", e(&s.name)))?;
        for line in &s.address_lines {
            w(&mut h, format_args!("{}<br>\n", e(line)))?;
        }
        w(
            &mut h,
            format_args!(
                "{} {}<br>\n{}",
                e(&s.postal_code),
                e(&s.city),
                e(&s.country)
            ),
        )?;
        if let Some(v) = &s.vat_id {
            w(&mut h, format_args!("<br>\n{}: {}", l.vat_id, e(v)))?;
        }
        if let Some(t) = &s.tax_id {
            w(&mut h, format_args!("<br>\n{}: {}", l.tax_id, e(t)))?;
        }
        w(
            &mut h,
            format_args!(
                "</p></div>\n<div class=\"buyer\"><h2>{}</h2>\n<p>{}",
                l.buyer,
                e(doc.buyer.name.expose())
            ),
        )?;
        if let Some(a) = &doc.buyer.address {
            for line in a.lines.expose() {
                w(&mut h, format_args!("<br>\n{}", e(line)))?;
            }
            w(
                &mut h,
                format_args!(
                    "<br>\n{} {}<br>\n{}",
                    e(a.postal_code.expose()),
                    e(a.city.expose()),
                    e(&a.country)
                ),
            )?;
        }
        w(&mut h, format_args!("</p></div>\n</div>\n<table class=\"lines\">\n<thead><tr><th>#</th><th>{}</th><th class=\"n\">{}</th><th class=\"n\">{}</th><th class=\"n\">{}</th><th class=\"n\">{}</th></tr></thead>\n<tbody>\n",
            l.description, l.quantity, l.unit_price, l.vat, l.net))?;
        for line in &doc.lines {
            w(&mut h, format_args!(
                "<tr><td>{}</td><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{} {}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>\n",
                e(&line.id), e(&line.description), line.quantity, line.net_unit_price, doc.currency,
                percent(line.vat_rate), money(&line.net_amount)
            ))?;
        }
        w(&mut h, format_args!("</tbody>\n</table>\n<h2>{}</h2>\n<table class=\"vat\">\n<thead><tr><th>{}</th><th class=\"n\">{}</th><th class=\"n\">{}</th></tr></thead>\n<tbody>\n",
            l.breakdown, l.vat, l.basis, l.total_vat))?;
        for v in &doc.vat {
            w(
                &mut h,
                format_args!(
                    "<tr><td>{} ({})</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>\n",
                    percent(v.rate),
                    v.category.code(),
                    money(&v.basis),
                    money(&v.tax)
                ),
            )?;
        }
        let t = &doc.totals;
        w(
            &mut h,
            format_args!("</tbody>\n</table>\n<table class=\"totals\">\n"),
        )?;
        for (label, m) in [
            (l.total_net, &t.tax_basis_total),
            (l.total_vat, &t.tax_total),
            (l.total, &t.grand_total),
            (l.paid, &t.paid),
        ] {
            w(
                &mut h,
                format_args!(
                    "<tr><td>{label}</td><td class=\"n\">{}</td></tr>\n",
                    money(m)
                ),
            )?;
        }
        w(
            &mut h,
            format_args!(
                "<tr class=\"due\"><td>{}</td><td class=\"n\">{}</td></tr>\n</table>\n",
                l.due,
                money(&t.due)
            ),
        )?;
        if doc.prices_include_tax {
            w(
                &mut h,
                format_args!("<p class=\"note\">{}</p>\n", l.prices_include),
            )?;
        }
        if let Some(note) = &doc.note {
            w(&mut h, format_args!("<p class=\"note\">{}</p>\n", e(note)))?;
        }
        w(&mut h, format_args!("</body>\n</html>\n"))
    })();
    r.map_err(|_| InvoiceError::Render {
        reason: "HTML formatting failed".to_string(),
    })?;
    Ok(h)
}
