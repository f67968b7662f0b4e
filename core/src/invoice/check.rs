//! The EN 16931 arithmetic business rules, checked on a built document.

use std::collections::BTreeMap;

use rust_decimal::Decimal;

use super::{InvoiceDocument, InvoiceError, VatCategory};
use crate::money::Money;

/// Checks the EN 16931 arithmetic rules on `doc`:
///
/// - BR-CO-10: line total (BT-106) = Σ line net amounts (BT-131);
/// - BR-CO-13: total without VAT (BT-109) = line total (no document-level allowances or
///   charges are used);
/// - BR-S-08 / BR-Z-08: each VAT breakdown's taxable amount (BT-116) = Σ net amounts of
///   the lines at its category and rate, and every line's rate has a breakdown entry;
/// - BR-CO-17: each breakdown's VAT (BT-117) = taxable amount × rate, within one minor
///   unit per line at that rate on an invoice (exact for prices without tax rounded per
///   rate). A credit note is held to the standard's own bound (the official schematron
///   accepts a difference under one currency unit): a credit that empties a rate
///   credits exactly what is left at it, which carries the invoice's per-line rounding
///   and that of earlier partial credits, so that the documents add up to the invoice;
/// - BR-Z-05 / BR-S-05: zero-rated entries have rate and VAT zero, standard ones a rate
///   above zero;
/// - BR-CO-14: total VAT (BT-110) = Σ breakdown VAT;
/// - BR-CO-15: total with VAT (BT-112) = total without VAT + total VAT;
/// - BR-CO-16: amount due (BT-115) = total with VAT − paid (BT-113) + rounding (BT-114);
///
/// and that every amount is in the document's currency. The first broken rule is
/// returned as [`InvoiceError::RuleViolated`].
pub fn check_en16931(doc: &InvoiceDocument) -> Result<(), InvoiceError> {
    let fail = |rule: &'static str, detail: String| InvoiceError::RuleViolated {
        number: doc.number.clone(),
        rule,
        detail,
    };
    let c = doc.currency;
    let t = &doc.totals;
    let all_amounts = doc
        .lines
        .iter()
        .map(|l| &l.net_amount)
        .chain(doc.vat.iter().flat_map(|v| [&v.basis, &v.tax]))
        .chain([
            &t.line_total,
            &t.tax_basis_total,
            &t.tax_total,
            &t.grand_total,
            &t.paid,
            &t.rounding,
            &t.due,
        ]);
    for m in all_amounts {
        if m.currency() != c {
            return Err(fail(
                "BR-5",
                format!("an amount is in {} on a {c} document", m.currency()),
            ));
        }
    }
    let line_sum = Money::sum(c, doc.lines.iter().map(|l| &l.net_amount))?;
    if line_sum != t.line_total {
        return Err(fail(
            "BR-CO-10",
            format!(
                "lines add up to {line_sum}, the line total says {}",
                t.line_total
            ),
        ));
    }
    if t.tax_basis_total != t.line_total {
        return Err(fail(
            "BR-CO-13",
            format!(
                "total without VAT {} differs from line total {}",
                t.tax_basis_total, t.line_total
            ),
        ));
    }
    let mut per_rate: BTreeMap<(Decimal, VatCategory), (Money, u64)> = BTreeMap::new();
    for line in &doc.lines {
        let entry = per_rate
            .entry((line.vat_rate.normalize(), line.vat_category))
            .or_insert((Money::zero(c), 0));
        entry.0 = entry.0.checked_add(&line.net_amount)?;
        entry.1 += 1;
    }
    if per_rate.len() != doc.vat.len() {
        return Err(fail(
            "BR-CO-18",
            format!(
                "{} rates on lines, {} breakdown entries",
                per_rate.len(),
                doc.vat.len()
            ),
        ));
    }
    let minor = Decimal::new(1, c.minor_units());
    for v in &doc.vat {
        let rule = match v.category {
            VatCategory::Standard => "BR-S-08",
            VatCategory::ZeroRated => "BR-Z-08",
        };
        let Some((basis, lines)) = per_rate.get(&(v.rate.normalize(), v.category)) else {
            return Err(fail(rule, format!("breakdown at {} has no lines", v.rate)));
        };
        if *basis != v.basis {
            return Err(fail(
                rule,
                format!(
                    "lines at {} add up to {basis}, the breakdown says {}",
                    v.rate, v.basis
                ),
            ));
        }
        match v.category {
            VatCategory::ZeroRated if !v.rate.is_zero() || !v.tax.is_zero() => {
                return Err(fail(
                    "BR-Z-05",
                    format!("zero rated entry at {} with VAT {}", v.rate, v.tax),
                ));
            }
            VatCategory::Standard if v.rate <= Decimal::ZERO => {
                return Err(fail(
                    "BR-S-05",
                    format!("standard rated entry at rate {}", v.rate),
                ));
            }
            _ => {}
        }
        let exact = v.basis.amount() * v.rate;
        let mut tolerance = minor * Decimal::from((*lines).max(1));
        if doc.kind == super::DocumentKind::CreditNote {
            tolerance = tolerance.max(Decimal::ONE - minor);
        }
        if (v.tax.amount() - exact).abs() > tolerance {
            return Err(fail(
                "BR-CO-17",
                format!(
                    "VAT {} at {} on {} should be about {exact}",
                    v.tax, v.rate, v.basis
                ),
            ));
        }
    }
    let vat_sum = Money::sum(c, doc.vat.iter().map(|v| &v.tax))?;
    if vat_sum != t.tax_total {
        return Err(fail(
            "BR-CO-14",
            format!(
                "breakdown VAT adds up to {vat_sum}, the total says {}",
                t.tax_total
            ),
        ));
    }
    let grand = t.tax_basis_total.checked_add(&t.tax_total)?;
    if grand != t.grand_total {
        return Err(fail(
            "BR-CO-15",
            format!(
                "{} + {} is {grand}, the total says {}",
                t.tax_basis_total, t.tax_total, t.grand_total
            ),
        ));
    }
    let due = t
        .grand_total
        .checked_sub(&t.paid)?
        .checked_add(&t.rounding)?;
    if due != t.due {
        return Err(fail(
            "BR-CO-16",
            format!(
                "{} − {} + {} is {due}, due says {}",
                t.grand_total, t.paid, t.rounding, t.due
            ),
        ));
    }
    Ok(())
}
