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
//! Lines are planned against the stock they draw on: a bundle against its components
//! (see [`Availability::components`]), so a bundle and a separate line of one of its
//! components compete for the same units and no location is credited twice.
//!
//! If one location has everything, every strategy ships from the best-ranked such
//! location. Otherwise, without `allow_split` the order ships from the one location that
//! covers the most units and the rest is unfilled; with `allow_split`, `Priority` and
//! `NearestRegion` source each line from its best-ranked location that has all of it
//! (or split it across locations in rank order), and `FewestShipments` repeatedly picks
//! the location that covers the most of what remains. When lines share stock, the
//! per-line split is tried in a few line orders (as given, bundles first, fewest
//! options first) and the plan leaving the fewest units unfilled wins.
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
use crate::stock::{KeyNumbering, Location, StockLedger};

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

    /// The stock a unit of `variant` draws on, when it is a bundle: each component
    /// with its units per bundle. `None` for a variant that holds its own stock.
    /// Sourcing plans bundles against their components, so a bundle and a separate
    /// line of one of its components compete for the same units.
    fn components(&self, _variant: &VariantId) -> Option<Vec<(VariantId, u32)>> {
        None
    }
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

    fn components(&self, variant: &VariantId) -> Option<Vec<(VariantId, u32)>> {
        self.bundle(variant).map(|b| b.components.clone())
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

#[derive(Clone)]
struct Planner<'a> {
    lines: &'a [SourcingLine],
    /// What the lines draw on, one entry per (line, stock variant): the index of the
    /// variant among the plan's distinct stock variants, and its units per line unit.
    /// A bundle line draws on its components, any other line on its own variant once.
    draws: Vec<(usize, u32)>,
    /// Line `k`'s entries in `draws`.
    spans: Vec<std::ops::Range<usize>>,
    /// How many distinct stock variants the lines draw on.
    variants: usize,
    ranked: Ranked<'a>,
    /// Units of each stock variant still free at each ranked location: read from the
    /// stock once (at `i * variants + v`), then lowered as units are planned. Indices
    /// instead of a map keyed by ids: no hashing and no id copies in the plan's loops.
    free: Vec<u64>,
    strategy: &'a SourcingStrategy,
    assignments: Vec<Assignment>,
    /// Whether sentences are written: the engine's confirmation reads only the
    /// assignments, and formatting sentences nobody reads was a tenth of its work.
    explain: bool,
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

impl Planner<'_> {
    /// Adds the sentence `say` writes, when the plan is explained.
    fn note(&mut self, say: impl FnOnce(&Self) -> String) {
        if self.explain {
            let sentence = say(self);
            self.explanation.push(sentence);
        }
    }

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

    /// Line `k`'s stock variants (indices) with their units per line unit.
    fn draws_of(&self, k: usize) -> &[(usize, u32)] {
        self.spans
            .get(k)
            .and_then(|r| self.draws.get(r.clone()))
            .unwrap_or_default()
    }

    /// Units of stock variant `v` still free at ranked location `i`, beyond `also`.
    fn free_stock(&self, i: usize, v: usize, also: u64) -> u64 {
        self.free
            .get(i * self.variants + v)
            .map_or(0, |free| free.saturating_sub(also))
    }

    /// Units of line `k` ranked location `i` can still cover, given `taken` units of
    /// each stock variant set aside on top of what is planned (empty: none).
    fn free_line(&self, i: usize, k: usize, taken: &[u64]) -> u64 {
        self.draws_of(k)
            .iter()
            .map(|&(v, per)| {
                let extra = taken.get(v).copied().unwrap_or(0);
                self.free_stock(i, v, extra) / u64::from(per.max(1))
            })
            .min()
            .unwrap_or(0)
    }

    fn assign(&mut self, k: usize, i: usize, quantity: u32) {
        let (Some(loc), Some(line), Some(span)) =
            (self.ranked.get(i), self.lines.get(k), self.spans.get(k))
        else {
            return;
        };
        for &(v, per) in self.draws.get(span.clone()).unwrap_or_default() {
            if let Some(free) = self.free.get_mut(i * self.variants + v) {
                *free = free.saturating_sub(u64::from(quantity) * u64::from(per));
            }
        }
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

    /// Units ranked location `i` can cover of what `remaining` still needs, taking
    /// lines in order against the stock they share.
    fn coverage(&self, i: usize, remaining: &[u32]) -> u64 {
        // Units taken of each stock variant so far: on the stack for the few variants
        // of most orders (this runs for every ranked location).
        let (mut few, mut many) = ([0u64; 16], Vec::new());
        let taken: &mut [u64] = match few.get_mut(..self.variants) {
            Some(taken) => taken,
            None => {
                many.resize(self.variants, 0);
                &mut many
            }
        };
        let mut covered = 0u64;
        for (k, need) in remaining.iter().enumerate() {
            let take = self.free_line(i, k, taken).min(u64::from(*need));
            if take == 0 {
                continue;
            }
            for &(v, per) in self.draws_of(k) {
                if let Some(t) = taken.get_mut(v) {
                    *t += take * u64::from(per);
                }
            }
            covered += take;
        }
        covered
    }

    /// Takes what ranked location `i` has of every remaining line.
    fn take_all_from(&mut self, i: usize, remaining: &mut [u32]) {
        for (k, need) in remaining.iter_mut().enumerate() {
            let free = self.free_line(i, k, &[]);
            let take = u32::try_from(free.min(u64::from(*need))).unwrap_or(0);
            if take > 0 {
                self.assign(k, i, take);
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

    /// Sources each line, in `order`, from its best-ranked location that has all of
    /// it, or splits it across locations in rank order.
    fn per_line(&mut self, order: &[usize], remaining: &mut [u32]) {
        for &k in order {
            let Some(need) = remaining.get(k).copied() else {
                continue;
            };
            if need == 0 {
                continue;
            }
            let whole =
                (0..self.ranked.len()).find(|&i| self.free_line(i, k, &[]) >= u64::from(need));
            let mut left = need;
            if let Some(i) = whole {
                self.assign(k, i, need);
                left = 0;
            } else {
                for i in 0..self.ranked.len() {
                    let free = self.free_line(i, k, &[]);
                    let take = u32::try_from(free.min(u64::from(left))).unwrap_or(0);
                    if take > 0 {
                        self.assign(k, i, take);
                        left -= take;
                    }
                }
            }
            if let Some(r) = remaining.get_mut(k) {
                *r = left;
            }
        }
    }

    /// Line orders worth trying for the per-line split: as given; lines drawing on
    /// several stock variants (bundles) first; lines with the fewest locations able to
    /// ship them whole first. Lines that share stock can leave units unfilled in one
    /// order that another order fills.
    fn line_orders(&self) -> Vec<Vec<usize>> {
        let natural: Vec<usize> = (0..self.lines.len()).collect();
        let mut bundles_first = natural.clone();
        bundles_first.sort_by_key(|&k| std::cmp::Reverse(self.draws_of(k).len()));
        let options = |k: usize| {
            let need = self.lines.get(k).map_or(0, |l| u64::from(l.quantity));
            (0..self.ranked.len())
                .filter(|&i| self.free_line(i, k, &[]) >= need)
                .count()
        };
        let mut fewest_options_first = natural.clone();
        fewest_options_first.sort_by_key(|&k| options(k));
        let mut orders = vec![natural];
        for o in [bundles_first, fewest_options_first] {
            if !orders.contains(&o) {
                orders.push(o);
            }
        }
        orders
    }
}

/// Plans where each line ships from. Pure: reads `stock`, changes nothing.
///
/// `locations` may be owned [`Location`]s or references to them (the engine passes its
/// ledger's own, without copying them for every confirmation).
pub fn plan<S: Availability, L: std::borrow::Borrow<Location>>(
    lines: &[SourcingLine],
    locations: &[L],
    stock: &S,
    strategy: &SourcingStrategy,
    allow_split: bool,
) -> Result<SourcingPlan, SourcingError> {
    plan_with(lines, locations, stock, strategy, allow_split, true)
}

/// Locations in rank order: inline up to eight (a shop's usual few), so ranking them
/// for a confirmation allocates nothing.
pub(crate) type Ranked<'a> = smallvec::SmallVec<[&'a Location; 8]>;

/// [`plan`], with the explanation written only when `explain`: the assignments and
/// what is left unfilled are the same either way.
pub(crate) fn plan_with<S: Availability, L: std::borrow::Borrow<Location>>(
    lines: &[SourcingLine],
    locations: &[L],
    stock: &S,
    strategy: &SourcingStrategy,
    allow_split: bool,
    explain: bool,
) -> Result<SourcingPlan, SourcingError> {
    validate(lines)?;
    let mut ranked: Ranked<'_> = locations.iter().map(|l| l.borrow()).collect();
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
    if !explain {
        if let Some(plan) = whole_from_one(lines, &ranked, stock) {
            return Ok(plan);
        }
    }
    // The stock variants the lines draw on, each once, numbered in order of first use.
    let mut variants: KeyNumbering<VariantId> = KeyNumbering::default();
    let mut index_of = |v: &VariantId| variants.number(v, || ());
    let (mut draws, mut spans) = (
        Vec::with_capacity(lines.len()),
        Vec::with_capacity(lines.len()),
    );
    for l in lines {
        let start = draws.len();
        match stock.components(&l.variant).filter(|c| !c.is_empty()) {
            Some(components) => {
                draws.extend(components.iter().map(|(v, per)| (index_of(v), *per)));
            }
            None => draws.push((index_of(&l.variant), 1)),
        }
        spans.push(start..draws.len());
    }
    let free = ranked
        .iter()
        .flat_map(|loc| {
            variants
                .entries()
                .iter()
                .map(|(v, ())| stock.available(v, &loc.id))
        })
        .collect();
    let mut p = Planner {
        lines,
        draws,
        spans,
        variants: variants.entries().len(),
        ranked,
        free,
        strategy,
        assignments: Vec::with_capacity(lines.len()),
        explain,
        explanation: Vec::new(),
    };
    let mut remaining: Vec<u32> = lines.iter().map(|l| l.quantity).collect();
    let total: u64 = remaining.iter().map(|q| u64::from(*q)).sum();
    let all = || {
        if lines.len() == 1 {
            "The line ships".to_string()
        } else {
            format!("All {} lines ship", lines.len())
        }
    };

    // The best-ranked location with everything, and (for the explanation alone) how
    // many have everything.
    let mut complete = (0..p.ranked.len()).filter(|&i| p.coverage(i, &remaining) == total);
    let first = complete.next();
    let others = if p.explain { complete.count() } else { 0 };
    if let Some(first) = first {
        p.take_all_from(first, &mut remaining);
        p.note(|p| {
            let name = p
                .ranked
                .get(first)
                .map(|l| p.describe(l))
                .unwrap_or_default();
            let why = if others == 0 {
                "the only location with everything in stock".to_string()
            } else {
                format!(
                    "the best-ranked of {} locations with everything in stock",
                    others + 1
                )
            };
            format!("{} from {name}, {why}", all())
        });
    } else if p.ranked.is_empty() {
        p.note(|_| "No location is known, so nothing can ship".to_string());
    } else if !allow_split {
        if let Some((i, covered)) = p.best_cover(&remaining) {
            p.take_all_from(i, &mut remaining);
            p.note(|p| {
                let name = p.ranked.get(i).map(|l| p.describe(l)).unwrap_or_default();
                format!(
                    "No location has everything and splitting is not allowed: {} of {} ship from {name}, the location that covers the most",
                    plural(usize::try_from(covered).unwrap_or(usize::MAX), "unit"),
                    total
                )
            });
        }
    } else if matches!(strategy, SourcingStrategy::FewestShipments) {
        p.note(|_| {
            "No location has everything: each shipment goes to the location that covers the most of what remains".to_string()
        });
        while let Some((i, _)) = p.best_cover(&remaining) {
            p.take_all_from(i, &mut remaining);
        }
        explain_lines(&mut p);
    } else {
        p.note(|_| {
            "No location has everything: each line ships from the best-ranked location that has all of it, or is split in rank order".to_string()
        });
        // Lines that share stock (a bundle and a line of one of its components) can
        // fill in one order and not another: keep the order that leaves the fewest
        // units unfilled (the first such, so the plain order wins ties).
        let mut best: Option<(u64, Planner<'_>, Vec<u32>)> = None;
        for order in p.line_orders() {
            let mut candidate = p.clone();
            let mut left = remaining.clone();
            candidate.per_line(&order, &mut left);
            let unfilled: u64 = left.iter().map(|q| u64::from(*q)).sum();
            if best.as_ref().is_none_or(|(b, _, _)| unfilled < *b) {
                best = Some((unfilled, candidate, left));
            }
        }
        if let Some((_, chosen, left)) = best {
            p = chosen;
            remaining = left;
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
            p.note(|_| {
                format!(
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
                )
            });
        }
    }
    Ok(SourcingPlan {
        assignments: p.assignments,
        unfilled,
        explanation: p.explanation,
    })
}

/// The plan for the common confirmation, found without the planner: a few lines, each
/// of its own plain variant (no bundle, no variant on two lines, so no line's stock is
/// another's), and a ranked location that has all of every line. The planner's first
/// step takes the best-ranked such location whole, line by line, for every strategy;
/// this finds the same one, reading stock until it is found instead of at every
/// location, and without the planner's numbering and tables (about 4 k of the 34 k
/// instructions of a place + confirm). `None` when the lines are not of that kind or no
/// location has everything: the planner decides those.
fn whole_from_one<S: Availability>(
    lines: &[SourcingLine],
    ranked: &[&Location],
    stock: &S,
) -> Option<SourcingPlan> {
    const FEW: usize = 16;
    if lines.len() > FEW {
        return None;
    }
    for (i, l) in lines.iter().enumerate() {
        let shared = lines.iter().take(i).any(|o| o.variant == l.variant);
        if shared || stock.components(&l.variant).is_some_and(|c| !c.is_empty()) {
            return None;
        }
    }
    let at = ranked.iter().find(|loc| {
        lines
            .iter()
            .all(|l| stock.available(&l.variant, &loc.id) >= u64::from(l.quantity))
    })?;
    Some(SourcingPlan {
        assignments: lines
            .iter()
            .map(|l| Assignment {
                line: l.line.clone(),
                location: at.id.clone(),
                quantity: l.quantity,
            })
            .collect(),
        unfilled: Vec::new(),
        explanation: Vec::new(),
    })
}

fn explain_lines(p: &mut Planner<'_>) {
    if !p.explain {
        return;
    }
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
    // A line named twice: the few lines of an order compared pairwise (no allocation,
    // no hashing), many through a set (which allocates only once used).
    let few = lines.len() <= 16;
    let mut seen: HashSet<&LineId, foldhash::fast::RandomState> = HashSet::default();
    for (i, l) in lines.iter().enumerate() {
        if l.quantity == 0 || l.quantity > MAX_QUANTITY {
            return Err(SourcingError::InvalidQuantity {
                line: l.line.clone(),
                quantity: l.quantity,
                max: MAX_QUANTITY,
            });
        }
        let repeated = if few {
            lines.iter().take(i).any(|o| o.line == l.line)
        } else {
            !seen.insert(&l.line)
        };
        if repeated {
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

    /// Stock levels, and one bundle (`V4`: one `V0` and two `V1`), as the ledger
    /// answers for them.
    struct WithBundle(HashMap<(VariantId, LocationId), u64>);

    impl WithBundle {
        fn parts() -> Vec<(VariantId, u32)> {
            vec![
                (VariantId::parse("V0").unwrap(), 1),
                (VariantId::parse("V1").unwrap(), 2),
            ]
        }
    }

    impl Availability for WithBundle {
        fn available(&self, variant: &VariantId, location: &LocationId) -> u64 {
            if variant.as_str() != "V4" {
                return self.0.available(variant, location);
            }
            Self::parts()
                .iter()
                .map(|(v, per)| self.0.available(v, location) / u64::from(*per))
                .min()
                .unwrap_or(0)
        }

        fn components(&self, variant: &VariantId) -> Option<Vec<(VariantId, u32)>> {
            (variant.as_str() == "V4").then(Self::parts)
        }
    }

    proptest::proptest! {
        // The engine confirms with unexplained plans: they must choose exactly what
        // the explained plan a person reads chooses, for every strategy and stock.
        // The unexplained plan takes a shortcut when one location has everything
        // (`whole_from_one`); lines of one variant and a bundle beside its components
        // (`V4`) must not take it wrongly.
        #[test]
        fn an_unexplained_plan_chooses_what_the_explained_one_does(
            stock in proptest::collection::vec(0u64..6, 12),
            wanted in proptest::collection::vec((0usize..5, 1u32..5), 1..5),
            strategy in 0u8..3,
            allow_split: bool,
        ) {
            let regions = ["TR-34", "TR-06", "DE-BE"];
            let locations: Vec<Location> = (0..3)
                .map(|i| {
                    Location::new(
                        LocationId::parse(format!("L{i}")).unwrap(),
                        format!("Place {i}"),
                        u32::try_from(3 - i).unwrap(),
                        regions[i],
                        LocationKind::Warehouse,
                    )
                })
                .collect();
            let variant = |v: usize| VariantId::parse(format!("V{v}")).unwrap();
            let mut levels = HashMap::new();
            for (k, units) in stock.iter().enumerate() {
                levels.insert((variant(k % 4), locations[k / 4].id.clone()), *units);
            }
            let lines: Vec<SourcingLine> = wanted
                .iter()
                .enumerate()
                .map(|(i, (v, q))| {
                    SourcingLine::new(LineId::parse(format!("l{i}")).unwrap(), variant(*v), *q)
                })
                .collect();
            let strategy = match strategy {
                0 => SourcingStrategy::Priority,
                1 => SourcingStrategy::FewestShipments,
                _ => SourcingStrategy::NearestRegion { customer_region: "TR-06".into() },
            };
            let levels = WithBundle(levels);
            let explained = plan(&lines, &locations, &levels, &strategy, allow_split);
            let quiet = plan_with(&lines, &locations, &levels, &strategy, allow_split, false);
            match (explained, quiet) {
                (Ok(explained), Ok(quiet)) => {
                    proptest::prop_assert!(!explained.explanation.is_empty());
                    proptest::prop_assert!(quiet.explanation.is_empty());
                    proptest::prop_assert_eq!(explained.assignments, quiet.assignments);
                    proptest::prop_assert_eq!(explained.unfilled, quiet.unfilled);
                }
                (explained, quiet) => proptest::prop_assert_eq!(explained, quiet),
            }
        }
    }
}
