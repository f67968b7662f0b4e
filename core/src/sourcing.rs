//! Sourcing (placeholder while written).
/// Errors.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SourcingError {}
impl SourcingError {
    /// Codes.
    pub const CODES: &'static [&'static str] = &[];
}
