//! Sourcing: which location(s) fulfil which order lines, with an explanation a person
//! can read.
//!
//! Locations are ranked by the strategy:
//!
//! - [`SourcingStrategy::Priority`]: by priority (lower first), then id;
//! - [`SourcingStrategy::NearestRegion`]: same region as the customer first, then same
//!   country (the part of an ISO 3166-2 code before `-`), then others; priority within;
//! - [`SourcingStrategy::FewestShipments`]: the fewest locations; priority breaks ties.
//!
//! If one location has everything, every strategy ships from the best-ranked such
//! location. Otherwise, without `allow_split` the order ships from the one location that
//! covers the most units and the rest is unfilled; with `allow_split`, `Priority` and
//! `NearestRegion` source each line from its best-ranked location that has all of it
//! (or split it across locations in rank order), and `FewestShipments` repeatedly picks
//! the location that covers the most of what remains.
//!
//! ```
//! use std::collections::HashMap;
//! use ordersmith::ids::{LineId, LocationId, VariantId};
//! use ordersmith::sourcing::{plan, SourcingLine, SourcingStrategy};
//! use ordersmith::stock::{Location, LocationKind};
//!
//! let ist = LocationId::parse("IST")?;
//! let locations = vec![Location::new(ist.clone(), "Istanbul DC", 1, "TR-34", LocationKind::Warehouse)];
//! let mug = VariantId::parse("MUG")?;
//! let stock = HashMap::from([((mug.clone(), ist.clone()), 5u64)]);
//! let lines = vec![SourcingLine::new(LineId::parse("1")?, mug, 2)];
//! let p = plan(&lines, &locations, &stock, &SourcingStrategy::Priority, true)?;
//! assert_eq!(p.assignments[0].location, ist);
//! assert_eq!(p.explanation[0], "The line ships from Istanbul DC (priority 1), the only location with everything in stock");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::collections::{HashMap, HashSet};

use serde::{Deserialize, Serialize};

use crate::ids::{LineId, LocationId, VariantId};
use crate::stock::{Location, StockLedger};

/// Lines in one sourcing request.
pub const MAX_LINES: usize = 500;
/// Units in one line.
pub const MAX_QUANTITY: u32 = 1_000_000_000;

/// Why a sourcing request was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, serde::Serialize)]
#[serde(untagged)]
pub enum SourcingError {
    /// The request had no lines.
    #[error("nothing to source: the request has no lines")]
    NoLines,
    /// More than [`MAX_LINES`] lines.
    #[error("too many lines: {count}, at most {max}")]
    TooManyLines {
        /// Lines given.
        count: usize,
        /// The limit.
        max: usize,
    },
    /// A line's quantity was zero or above [`MAX_QUANTITY`].
    #[error("line {line} has quantity {quantity}: expected 1 to {max}")]
    InvalidQuantity {
        /// The line.
        line: LineId,
        /// Its quantity.
        quantity: u32,
        /// The limit.
        max: u32,
    },
    /// Two lines had the same id.
    #[error("line {line} appears twice")]
    DuplicateLine {
        /// The line.
        line: LineId,
    },
}

impl SourcingError {
    /// Every code this enum can return, in declaration order.
    pub const CODES: &'static [&'static str] = &[
        "SOURCING_NO_LINES",
        "SOURCING_TOO_MANY_LINES",
        "SOURCING_INVALID_QUANTITY",
        "SOURCING_DUPLICATE_LINE",
    ];

    /// The stable machine-readable code of this error.
    pub fn code(&self) -> &'static str {
        match self {
            Self::NoLines => "SOURCING_NO_LINES",
            Self::TooManyLines { .. } => "SOURCING_TOO_MANY_LINES",
            Self::InvalidQuantity { .. } => "SOURCING_INVALID_QUANTITY",
            Self::DuplicateLine { .. } => "SOURCING_DUPLICATE_LINE",
        }
    }
}

/// Where sellable stock is read from.
pub trait Availability {
    /// Units of `variant` that can be promised at `location`.
    fn available(&self, variant: &VariantId, location: &LocationId) -> u64;
}

impl Availability for StockLedger {
    /// Sellable units (available clamped at zero); for a bundle, whole bundles.
    fn available(&self, variant: &VariantId, location: &LocationId) -> u64 {
        if self.bundle(variant).is_some() {
            self.bundle_available(variant, location).unwrap_or(0)
        } else {
            self.sellable(variant, location)
        }
    }
}

impl Availability for HashMap<(VariantId, LocationId), u64> {
    fn available(&self, variant: &VariantId, location: &LocationId) -> u64 {
        self.get(&(variant.clone(), location.clone()))
            .copied()
            .unwrap_or(0)
    }
}

/// One order line to source.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourcingLine {
    /// The line.
    pub line: LineId,
    /// The variant.
    pub variant: VariantId,
    /// Units.
    pub quantity: u32,
}

impl SourcingLine {
    /// A line.
    pub fn new(line: LineId, variant: VariantId, quantity: u32) -> Self {
        SourcingLine {
            line,
            variant,
            quantity,
        }
    }
}

/// How to choose locations.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum SourcingStrategy {
    /// Lowest priority number first.
    Priority,
    /// As few locations as possible.
    FewestShipments,
    /// The customer's region first, then the same country, then priority.
    NearestRegion {
        /// The customer's region (`"TR-34"`).
        customer_region: String,
    },
}

/// Units of a line to ship from a location.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Assignment {
    /// The line.
    pub line: LineId,
    /// The location.
    pub location: LocationId,
    /// Units.
    pub quantity: u32,
}

/// Units of a line no location can ship.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Unfilled {
    /// The line.
    pub line: LineId,
    /// Units.
    pub quantity: u32,
}

/// The outcome: assignments, what is left unfilled, and why, in plain English.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourcingPlan {
    /// Units per (line, location), in line order.
    pub assignments: Vec<Assignment>,
    /// Units per line that could not be sourced.
    pub unfilled: Vec<Unfilled>,
    /// Sentences explaining the choice.
    pub explanation: Vec<String>,
}

impl SourcingPlan {
    /// Distinct locations used (shipments).
    pub fn locations(&self) -> Vec<&LocationId> {
        let mut seen = Vec::new();
        for a in &self.assignments {
            if !seen.contains(&&a.location) {
                seen.push(&a.location);
            }
        }
        seen
    }
}

struct Planner<'a, S: Availability> {
    lines: &'a [SourcingLine],
    ranked: Vec<&'a Location>,
    stock: &'a S,
    strategy: &'a SourcingStrategy,
    used: HashMap<(usize, &'a VariantId), u64>,
    assignments: Vec<Assignment>,
    explanation: Vec<String>,
}

fn region_distance(location: &Location, customer: &str) -> u8 {
    let country = |r: &str| r.split('-').next().unwrap_or("").to_ascii_uppercase();
    if location.region.eq_ignore_ascii_case(customer) {
        0
    } else if !customer.is_empty() && country(&location.region) == country(customer) {
        1
    } else {
        2
    }
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("{n} {word}")
    } else {
        format!("{n} {word}s")
    }
}

impl<'a, S: Availability> Planner<'a, S> {
    fn describe(&self, location: &Location) -> String {
        match self.strategy {
            SourcingStrategy::NearestRegion { customer_region } => {
                let closeness = match region_distance(location, customer_region) {
                    0 => "same region as the customer",
                    1 => "same country as the customer",
                    _ => "another region",
                };
                format!(
                    "{} ({}, {closeness}, priority {})",
                    location.name, location.region, location.priority
                )
            }
            _ => format!("{} (priority {})", location.name, location.priority),
        }
    }

    /// Units of `variant` still free at ranked location `i`.
    fn free(&self, i: usize, variant: &'a VariantId) -> u64 {
        let Some(loc) = self.ranked.get(i) else {
            return 0;
        };
        let used = self.used.get(&(i, variant)).copied().unwrap_or(0);
        self.stock.available(variant, &loc.id).saturating_sub(used)
    }

    fn assign(&mut self, line: &SourcingLine, i: usize, variant: &'a VariantId, quantity: u32) {
        let Some(loc) = self.ranked.get(i) else {
            return;
        };
        *self.used.entry((i, variant)).or_insert(0) += u64::from(quantity);
        match self
            .assignments
            .iter_mut()
            .find(|a| a.line == line.line && a.location == loc.id)
        {
            Some(a) => a.quantity = a.quantity.saturating_add(quantity),
            None => self.assignments.push(Assignment {
                line: line.line.clone(),
                location: loc.id.clone(),
                quantity,
            }),
        }
    }

    /// Units ranked location `i` can cover of what `remaining` still needs.
    fn coverage(&self, i: usize, remaining: &[u32]) -> u64 {
        let mut taken: HashMap<&VariantId, u64> = HashMap::new();
        let mut covered = 0u64;
        for (line, need) in self.lines.iter().zip(remaining) {
            let t = taken.entry(&line.variant).or_insert(0);
            let free = self.free(i, &line.variant).saturating_sub(*t);
            let take = free.min(u64::from(*need));
            *t += take;
            covered += take;
        }
        covered
    }

    /// Takes what ranked location `i` has of every remaining line.
    fn take_all_from(&mut self, i: usize, remaining: &mut [u32]) {
        let lines = self.lines;
        for (line, need) in lines.iter().zip(remaining.iter_mut()) {
            let free = self.free(i, &line.variant);
            let take = u32::try_from(free.min(u64::from(*need))).unwrap_or(0);
            if take > 0 {
                self.assign(line, i, &line.variant, take);
                *need -= take;
            }
        }
    }

    fn best_cover(&self, remaining: &[u32]) -> Option<(usize, u64)> {
        let mut best: Option<(usize, u64)> = None;
        for i in 0..self.ranked.len() {
            let c = self.coverage(i, remaining);
            if c > 0 && best.is_none_or(|(_, b)| c > b) {
                best = Some((i, c));
            }
        }
        best
    }
}

/// Plans where each line ships from. Pure: reads `stock`, changes nothing.
pub fn plan<S: Availability>(
    lines: &[SourcingLine],
    locations: &[Location],
    stock: &S,
    strategy: &SourcingStrategy,
    allow_split: bool,
) -> Result<SourcingPlan, SourcingError> {
    validate(lines)?;
    let mut ranked: Vec<&Location> = locations.iter().collect();
    match strategy {
        SourcingStrategy::NearestRegion { customer_region } => ranked.sort_by(|a, b| {
            (region_distance(a, customer_region), a.priority, &a.id).cmp(&(
                region_distance(b, customer_region),
                b.priority,
                &b.id,
            ))
        }),
        _ => ranked.sort_by(|a, b| (a.priority, &a.id).cmp(&(b.priority, &b.id))),
    }
    let mut p = Planner {
        lines,
        ranked,
        stock,
        strategy,
        used: HashMap::new(),
        assignments: Vec::new(),
        explanation: Vec::new(),
    };
    let mut remaining: Vec<u32> = lines.iter().map(|l| l.quantity).collect();
    let total: u64 = remaining.iter().map(|q| u64::from(*q)).sum();
    let all = if lines.len() == 1 {
        "The line ships".to_string()
    } else {
        format!("All {} lines ship", lines.len())
    };

    let complete: Vec<usize> = (0..p.ranked.len())
        .filter(|&i| p.coverage(i, &remaining) == total)
        .collect();
    if let Some(&first) = complete.first() {
        p.take_all_from(first, &mut remaining);
        let name = p
            .ranked
            .get(first)
            .map(|l| p.describe(l))
            .unwrap_or_default();
        let why = if complete.len() == 1 {
            "the only location with everything in stock".to_string()
        } else {
            format!(
                "the best-ranked of {} locations with everything in stock",
                complete.len()
            )
        };
        p.explanation.push(format!("{all} from {name}, {why}"));
    } else if p.ranked.is_empty() {
        p.explanation
            .push("No location is known, so nothing can ship".to_string());
    } else if !allow_split {
        if let Some((i, covered)) = p.best_cover(&remaining) {
            p.take_all_from(i, &mut remaining);
            let name = p.ranked.get(i).map(|l| p.describe(l)).unwrap_or_default();
            p.explanation.push(format!(
                "No location has everything and splitting is not allowed: {} of {} ship from {name}, the location that covers the most",
                plural(usize::try_from(covered).unwrap_or(usize::MAX), "unit"),
                total
            ));
        }
    } else if matches!(strategy, SourcingStrategy::FewestShipments) {
        p.explanation.push(
            "No location has everything: each shipment goes to the location that covers the most of what remains".to_string(),
        );
        while let Some((i, _)) = p.best_cover(&remaining) {
            p.take_all_from(i, &mut remaining);
        }
        explain_lines(&mut p);
    } else {
        p.explanation.push(
            "No location has everything: each line ships from the best-ranked location that has all of it, or is split in rank order".to_string(),
        );
        for (k, line) in lines.iter().enumerate() {
            let Some(need) = remaining.get(k).copied() else {
                continue;
            };
            let whole = (0..p.ranked.len()).find(|&i| p.free(i, &line.variant) >= u64::from(need));
            let mut left = need;
            if let Some(i) = whole {
                p.assign(line, i, &line.variant, need);
                left = 0;
            } else {
                for i in 0..p.ranked.len() {
                    let take =
                        u32::try_from(p.free(i, &line.variant).min(u64::from(left))).unwrap_or(0);
                    if take > 0 {
                        p.assign(line, i, &line.variant, take);
                        left -= take;
                    }
                }
            }
            if let Some(r) = remaining.get_mut(k) {
                *r = left;
            }
        }
        explain_lines(&mut p);
    }

    let mut unfilled = Vec::new();
    for (line, left) in lines.iter().zip(&remaining) {
        if *left > 0 {
            unfilled.push(Unfilled {
                line: line.line.clone(),
                quantity: *left,
            });
            p.explanation.push(format!(
                "Line {} ({} × {}): {} left unfilled, not enough stock{}",
                line.line,
                line.quantity,
                line.variant,
                plural(*left as usize, "unit"),
                if allow_split {
                    ""
                } else {
                    " at the chosen location"
                }
            ));
        }
    }
    Ok(SourcingPlan {
        assignments: p.assignments,
        unfilled,
        explanation: p.explanation,
    })
}

fn explain_lines<S: Availability>(p: &mut Planner<'_, S>) {
    for line in p.lines {
        let parts: Vec<String> = p
            .assignments
            .iter()
            .filter(|a| a.line == line.line)
            .filter_map(|a| {
                let loc = p.ranked.iter().find(|l| l.id == a.location)?;
                Some(format!("{} from {}", a.quantity, p.describe(loc)))
            })
            .collect();
        if !parts.is_empty() {
            p.explanation.push(format!(
                "Line {} ({} × {}): {}",
                line.line,
                line.quantity,
                line.variant,
                parts.join(", ")
            ));
        }
    }
}

fn validate(lines: &[SourcingLine]) -> Result<(), SourcingError> {
    if lines.is_empty() {
        return Err(SourcingError::NoLines);
    }
    if lines.len() > MAX_LINES {
        return Err(SourcingError::TooManyLines {
            count: lines.len(),
            max: MAX_LINES,
        });
    }
    let mut seen = HashSet::new();
    for l in lines {
        if l.quantity == 0 || l.quantity > MAX_QUANTITY {
            return Err(SourcingError::InvalidQuantity {
                line: l.line.clone(),
                quantity: l.quantity,
                max: MAX_QUANTITY,
            });
        }
        if !seen.insert(&l.line) {
            return Err(SourcingError::DuplicateLine {
                line: l.line.clone(),
            });
        }
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use crate::stock::LocationKind;

    #[test]
    fn region_distance_prefers_region_then_country() {
        let loc = |r: &str| {
            Location::new(
                LocationId::parse("L").unwrap(),
                "L",
                1,
                r,
                LocationKind::Store,
            )
        };
        assert_eq!(region_distance(&loc("TR-34"), "tr-34"), 0);
        assert_eq!(region_distance(&loc("TR-06"), "TR-34"), 1);
        assert_eq!(region_distance(&loc("DE-BE"), "TR-34"), 2);
        assert_eq!(plural(1, "unit"), "1 unit");
        assert_eq!(plural(2, "unit"), "2 units");
    }
}
