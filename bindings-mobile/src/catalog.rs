//! Barcodes: GTINs checked by the core's GS1 check-digit rule.

use ordersmith::catalog::Gtin;

use crate::errors::OrdersmithError;

/// The GTIN in `barcode` (GTIN-8, -12, -13 or -14), its check digit verified, as the
/// core normalises it; `CATALOG_INVALID_GTIN` or `CATALOG_GTIN_CHECK_DIGIT` otherwise.
#[uniffi::export]
pub fn parse_gtin(barcode: String) -> Result<String, OrdersmithError> {
    Ok(Gtin::parse(&barcode)?.as_str().to_string())
}
