//! Stock: locations, variants, receipts, balances per location and reservations, and
//! the stock moves a warehouse makes beyond receiving: expected goods, adjustments,
//! transfers between locations, returns to the shelf, quarantine, write-offs, cycle
//! counts, safety stock and low-stock thresholds, stock policies (backorders,
//! pre-orders), bundles, reservations made by hand, the reservation expiry sweep, and
//! the views: balances, the movement journal, velocity, forecasts and sourcing plans.

use std::collections::BTreeMap;
use std::time::SystemTime;

use ordersmith::ids::{CountId, LocationId, OrderId, ReservationId, TransferId, VariantId};
use ordersmith::stock::{self as core, ReservationFilter, StockCommand};

use crate::convert::{core_time, host_time};
use crate::engine::Engine;
use crate::errors::OrdersmithError;
use crate::fulfilment::LineUnits;
use crate::money::{core_money, currency, ExactDecimal, Money};
use crate::order::Order;

/// What a location is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum LocationKind {
    /// A warehouse.
    Warehouse,
    /// A shop that also ships.
    Store,
    /// A supplier shipping for the shop.
    Dropship,
}

impl From<LocationKind> for core::LocationKind {
    fn from(k: LocationKind) -> Self {
        match k {
            LocationKind::Warehouse => Self::Warehouse,
            LocationKind::Store => Self::Store,
            LocationKind::Dropship => Self::Dropship,
        }
    }
}

/// A stock location.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Location {
    /// Id, e.g. `"IST-1"`.
    pub id: String,
    /// Name for people.
    pub name: String,
    /// Lower is tried first when sourcing.
    pub priority: u32,
    /// Region, for nearest-region sourcing.
    pub region: String,
    /// What it is.
    pub kind: LocationKind,
}

/// One variant's stock at one location: its balance.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct StockBalance {
    /// The location.
    pub location: String,
    /// Units on the shelf.
    pub on_hand: i64,
    /// Units reserved for orders.
    pub reserved: i64,
    /// Units held back from sale.
    pub safety_stock: u32,
    /// On hand less reserved less safety stock (negative when oversold by policy).
    pub available: i64,
    /// Units expected.
    pub incoming: i64,
    /// Units quarantined.
    pub quarantined: i64,
    /// Units on their way between locations.
    pub in_transit: i64,
}

/// One variant's stock at every location, with totals.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct VariantStock {
    /// The variant.
    pub variant: String,
    /// Per location.
    pub locations: Vec<StockBalance>,
    /// Units on hand everywhere.
    pub on_hand: i64,
    /// Units reserved everywhere.
    pub reserved: i64,
    /// Units that can be sold now.
    pub sellable: u64,
}

/// Where a reservation stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum ReservationState {
    /// Holding stock.
    Active,
    /// Shipped.
    Committed,
    /// Released.
    Released,
    /// Lapsed.
    Expired,
}

impl From<core::ReservationState> for ReservationState {
    fn from(s: core::ReservationState) -> Self {
        match s {
            core::ReservationState::Active => Self::Active,
            core::ReservationState::Committed => Self::Committed,
            core::ReservationState::Released => Self::Released,
            core::ReservationState::Expired => Self::Expired,
        }
    }
}

/// Stock held for an order line (or a host's own hold).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Reservation {
    /// Id.
    pub id: String,
    /// The variant held.
    pub variant: String,
    /// Where.
    pub location: String,
    /// Units reserved at first.
    pub quantity: u32,
    /// Units still held.
    pub remaining: u32,
    /// When it lapses, if it does.
    pub expires_at: Option<SystemTime>,
    /// The order that owns it.
    pub order_id: Option<String>,
    /// Where it stands.
    pub state: ReservationState,
}

impl From<core::Reservation> for Reservation {
    fn from(r: core::Reservation) -> Self {
        Reservation {
            remaining: r.remaining(),
            id: r.id.to_string(),
            variant: r.variant.to_string(),
            location: r.location.to_string(),
            quantity: r.quantity,
            expires_at: r.expires_at.map(host_time),
            order_id: r.order.map(|o| o.to_string()),
            state: r.state.into(),
        }
    }
}

#[uniffi::export]
impl Engine {
    /// Adds a stock location.
    pub fn add_location(&self, location: Location) -> Result<(), OrdersmithError> {
        let location = core::Location::new(
            LocationId::parse(location.id)?,
            location.name,
            location.priority,
            location.region,
            location.kind.into(),
        );
        self.call(|e| e.stock(StockCommand::AddLocation { location }))?;
        Ok(())
    }

    /// Registers a variant whose stock is tracked; `policy` says how far it may be
    /// sold beyond the shelf (`None`: never below zero).
    #[uniffi::method(default(policy = None))]
    pub fn register_variant(
        &self,
        variant: String,
        policy: Option<StockPolicy>,
    ) -> Result<(), OrdersmithError> {
        let variant = VariantId::parse(variant)?;
        let policy = policy.map_or(core::StockPolicy::Deny, Into::into);
        self.call(|e| e.stock(StockCommand::RegisterVariant { variant, policy }))?;
        Ok(())
    }

    /// Receives goods at a location.
    #[uniffi::method(default(reference = None))]
    pub fn receive(
        &self,
        variant: String,
        location: String,
        quantity: u32,
        reference: Option<String>,
    ) -> Result<(), OrdersmithError> {
        let command = StockCommand::Receive {
            variant: VariantId::parse(variant)?,
            location: LocationId::parse(location)?,
            quantity,
            reference,
        };
        self.call(|e| e.stock(command))?;
        Ok(())
    }

    /// Receives several deliveries in one write (a supplier's whole delivery note): all
    /// are saved or, when one is refused, none.
    pub fn receive_many(&self, receipts: Vec<Receipt>) -> Result<(), OrdersmithError> {
        let commands = receipts
            .into_iter()
            .map(|r| {
                Ok(StockCommand::Receive {
                    variant: VariantId::parse(r.variant)?,
                    location: LocationId::parse(r.location)?,
                    quantity: r.quantity,
                    reference: r.reference,
                })
            })
            .collect::<Result<Vec<_>, OrdersmithError>>()?;
        self.call(|e| e.stock_batch(commands))?;
        Ok(())
    }

    /// A variant's balances at every location, with totals.
    pub fn stock_levels(&self, variant: String) -> Result<VariantStock, OrdersmithError> {
        let variant = VariantId::parse(variant)?;
        let levels = self.call(|e| e.with_stock(|ledger| ledger.levels(&variant)))??;
        Ok(variant_stock(levels))
    }

    /// A variant's balance at one location.
    pub fn stock_level(
        &self,
        variant: String,
        location: String,
    ) -> Result<StockBalance, OrdersmithError> {
        let (variant, location) = at(variant, location)?;
        let level = self.call(|e| e.with_stock(|ledger| ledger.level(&variant, &location)))??;
        Ok(balance(level))
    }

    /// Where confirming the order would take its stock from now, and why; `None` when
    /// no line needs stock. Nothing is reserved: a shop owner sees the plan first.
    pub fn sourcing_plan(&self, order_id: String) -> Result<Option<SourcingPlan>, OrdersmithError> {
        let id = OrderId::parse(order_id)?;
        let plan = self.call(|e| e.sourcing_plan(&id))?;
        Ok(plan.map(|p| SourcingPlan {
            assignments: p
                .assignments
                .into_iter()
                .map(|a| SourcedUnits {
                    line_id: a.line.to_string(),
                    location: a.location.to_string(),
                    quantity: a.quantity,
                })
                .collect(),
            unfilled: p
                .unfilled
                .into_iter()
                .map(|u| LineUnits {
                    line_id: u.line.to_string(),
                    quantity: u.quantity,
                })
                .collect(),
            explanation: p.explanation,
        }))
    }

    /// Every tracked variant's balances, in variant id order: the stock sheet a shop
    /// owner scrolls through.
    pub fn stock_position(&self) -> Result<Vec<VariantStock>, OrdersmithError> {
        let all = self.call(|e| {
            e.with_stock(|ledger| {
                let mut variants: Vec<VariantId> = ledger.variants().cloned().collect();
                variants.sort();
                variants
                    .iter()
                    .map(|v| ledger.levels(v))
                    .collect::<Result<Vec<_>, _>>()
            })
        })??;
        Ok(all.into_iter().map(variant_stock).collect())
    }

    /// Up to `limit` stock movements after `since` (a movement's `seq`; 0 from the
    /// start), oldest first: what happened to the shelf, and why.
    #[uniffi::method(default(since = 0))]
    pub fn journal(&self, limit: u32, since: u64) -> Result<Vec<StockMovement>, OrdersmithError> {
        let movements = self.call(|e| e.with_stock(|ledger| ledger.journal_since(since)))?;
        movements
            .into_iter()
            .take(limit as usize)
            .map(|m| {
                let kind = serde_json::to_value(&m.kind)
                    .map_err(|_| OrdersmithError::invalid("movement", "could not be serialised"))?;
                let name = kind
                    .get("type")
                    .and_then(|t| t.as_str())
                    .unwrap_or_default()
                    .to_string();
                Ok(StockMovement {
                    seq: m.seq,
                    at: host_time(m.at),
                    variant: m.variant.to_string(),
                    location: m.location.to_string(),
                    kind: name,
                    quantity: m.quantity,
                    reference: m.reference,
                    kind_json: kind.to_string(),
                })
            })
            .collect()
    }

    /// Units of a variant sold per day over the last `window_days` (1 to 3650).
    #[uniffi::method(default(window_days = 30))]
    pub fn sales_velocity(
        &self,
        variant: String,
        window_days: u32,
    ) -> Result<ExactDecimal, OrdersmithError> {
        let variant = VariantId::parse(variant)?;
        Ok(self
            .call(|e| e.sales_velocity(&variant, window_days))?
            .into())
    }

    /// When to reorder a variant and how much: velocity over `window_days`, days of
    /// cover, reorder point for the supplier's `lead_time_days`, and the quantity that
    /// lasts until the next review.
    #[uniffi::method(default(window_days = 30, lead_time_days = 7, review_period_days = 14))]
    pub fn forecast(
        &self,
        variant: String,
        window_days: u32,
        lead_time_days: u32,
        review_period_days: u32,
    ) -> Result<Forecast, OrdersmithError> {
        let variant = VariantId::parse(variant)?;
        let params = core::ReorderParams {
            window_days,
            lead_time_days,
            review_period_days,
        };
        let f = self.call(|e| e.forecast(&variant, params))?;
        Ok(Forecast {
            variant: f.variant.to_string(),
            velocity_per_day: f.velocity_per_day.into(),
            sellable: f.sellable,
            incoming: f.incoming,
            days_of_cover: f.days_of_cover.map(Into::into),
            reorder_point: f.reorder_point,
            inventory_position: f.inventory_position,
            reorder_now: f.reorder_now,
            suggested_quantity: f.suggested_quantity,
        })
    }

    /// Live reservations, ordered by id; each given filter must match.
    #[uniffi::method(default(order_id = None, variant = None, location = None))]
    pub fn reservations(
        &self,
        order_id: Option<String>,
        variant: Option<String>,
        location: Option<String>,
    ) -> Result<Vec<Reservation>, OrdersmithError> {
        let filter = ReservationFilter {
            order: order_id.map(OrderId::parse).transpose()?,
            variant: variant.map(VariantId::parse).transpose()?,
            location: location.map(LocationId::parse).transpose()?,
            expiring_before: None,
        };
        let list = self.call(|e| e.reservations(&filter))?;
        Ok(list.into_iter().map(Into::into).collect())
    }
}

/// Why on-hand stock is adjusted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum AdjustmentReason {
    /// Broken goods (a decrease only).
    Damage,
    /// Goods gone missing (a decrease only).
    Loss,
    /// Goods found (an increase only).
    Found,
    /// A correction of an earlier mistake (either way).
    Correction,
}

impl From<AdjustmentReason> for core::AdjustmentReason {
    fn from(r: AdjustmentReason) -> Self {
        match r {
            AdjustmentReason::Damage => Self::Damage,
            AdjustmentReason::Loss => Self::Loss,
            AdjustmentReason::Found => Self::Found,
            AdjustmentReason::Correction => Self::Correction,
        }
    }
}

/// Where written-off goods come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum WriteOffSource {
    /// Unreserved stock on hand.
    OnHand,
    /// Quarantine (inspected and found unsellable).
    Quarantine,
}

impl From<WriteOffSource> for core::WriteOffSource {
    fn from(s: WriteOffSource) -> Self {
        match s {
            WriteOffSource::OnHand => Self::OnHand,
            WriteOffSource::Quarantine => Self::Quarantine,
        }
    }
}

/// A cycle count's sheet: what to count, without the expected numbers (a blind count).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct CountSheet {
    /// The count.
    pub count: String,
    /// Where it is counted.
    pub location: String,
    /// Variants to count, in id order.
    pub variants: Vec<String>,
    /// Variants already counted.
    pub recorded: Vec<String>,
    /// Whether the count is closed.
    pub closed: bool,
}

impl From<core::CountSheet> for CountSheet {
    fn from(s: core::CountSheet) -> Self {
        CountSheet {
            count: s.count.to_string(),
            location: s.location.to_string(),
            variants: s.variants.iter().map(ToString::to_string).collect(),
            recorded: s.recorded.iter().map(ToString::to_string).collect(),
            closed: s.closed,
        }
    }
}

/// One counted variant's outcome.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct CountVariance {
    /// The variant.
    pub variant: String,
    /// On hand when the count was opened.
    pub expected_at_open: i64,
    /// Net on-hand movements between opening and recording.
    pub movements_since_open: i64,
    /// `expected_at_open + movements_since_open`.
    pub expected: i64,
    /// Units counted.
    pub counted: u32,
    /// `counted - expected`, posted as a count movement when not zero.
    pub variance: i64,
    /// `variance x unit cost`, when a cost was given.
    pub value: Option<Money>,
}

/// What closing a cycle count posted.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct CountReport {
    /// The count.
    pub count: String,
    /// Where it was counted.
    pub location: String,
    /// When it was opened.
    pub opened_at: SystemTime,
    /// When it was closed.
    pub closed_at: SystemTime,
    /// One entry per counted variant, in id order.
    pub variances: Vec<CountVariance>,
    /// Variants on the sheet never counted (nothing posted for them).
    pub uncounted: Vec<String>,
    /// Share of counted variants without variance (0 to 1); `None` if nothing counted.
    pub variant_accuracy: Option<ExactDecimal>,
    /// `1 - sum(|variance|) / sum(expected)`, 0 to 1; `None` if nothing counted.
    pub unit_accuracy: Option<ExactDecimal>,
    /// Sum of the values, when every counted variant had a cost in one currency.
    pub net_value: Option<Money>,
}

impl From<core::CountReport> for CountReport {
    fn from(r: core::CountReport) -> Self {
        CountReport {
            count: r.count.to_string(),
            location: r.location.to_string(),
            opened_at: host_time(r.opened_at),
            closed_at: host_time(r.closed_at),
            variances: r
                .variances
                .into_iter()
                .map(|v| CountVariance {
                    variant: v.variant.to_string(),
                    expected_at_open: v.expected_at_open,
                    movements_since_open: v.movements_since_open,
                    expected: v.expected,
                    counted: v.counted,
                    variance: v.variance,
                    value: v.value.map(Into::into),
                })
                .collect(),
            uncounted: r.uncounted.iter().map(ToString::to_string).collect(),
            variant_accuracy: r.variant_accuracy.map(Into::into),
            unit_accuracy: r.unit_accuracy.map(Into::into),
            net_value: r.net_value.map(Into::into),
        }
    }
}

/// The cost of one unit of a variant, to value a count's variances.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct UnitCost {
    /// The variant.
    pub variant: String,
    /// What one unit costs.
    pub cost: Money,
}

/// What a reservation expiry sweep released.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ExpirySweep {
    /// Reservations released because they lapsed, earliest expiry first.
    pub released: Vec<String>,
    /// The orders that lost reservations, as they are after the sweep (on hold or
    /// cancelled with reason `RESERVATION_EXPIRED`, per the engine's options).
    pub orders: Vec<Order>,
}

/// How far a variant may be sold beyond what is on the shelf.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum StockPolicy {
    /// Reserve only what is available (the core's default): never sold below zero.
    Deny,
    /// Reserve beyond what is available, up to `limit` units below zero per location.
    Backorder {
        /// How far below zero one location may go; `None`: no limit.
        limit: Option<u32>,
    },
    /// Reserve against expected goods too (available plus incoming).
    PreOrder,
}

impl From<StockPolicy> for core::StockPolicy {
    fn from(p: StockPolicy) -> Self {
        match p {
            StockPolicy::Deny => Self::Deny,
            StockPolicy::Backorder { limit } => Self::Backorder { limit },
            StockPolicy::PreOrder => Self::PreOrder,
        }
    }
}

/// One component of a bundle: a variant and how many units one bundle takes.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct BundleComponent {
    /// The component variant.
    pub variant: String,
    /// Units per bundle.
    pub quantity: u32,
}

/// Goods received at a location (`receive_many`).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Receipt {
    /// The variant.
    pub variant: String,
    /// Where they arrived.
    pub location: String,
    /// Units.
    pub quantity: u32,
    /// A reference, e.g. the purchase order.
    #[uniffi(default = None)]
    pub reference: Option<String>,
}

/// One movement of the stock journal.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct StockMovement {
    /// Position in the journal, from 1; pass the last one as `since` for the next.
    pub seq: u64,
    /// When it happened.
    pub at: SystemTime,
    /// The variant.
    pub variant: String,
    /// The location.
    pub location: String,
    /// What happened: `receipt`, `adjustment`, `transfer_out`, `reservation`, ...
    pub kind: String,
    /// Units moved, always positive; the kind gives the direction.
    pub quantity: u32,
    /// The caller's reference (order, purchase order, return), if any.
    pub reference: Option<String>,
    /// The kind with its own fields, as the core's JSON (`{"type": "adjustment",
    /// "reason": "damage", ...}`).
    pub kind_json: String,
}

/// When to reorder a variant, over all locations.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Forecast {
    /// The variant.
    pub variant: String,
    /// Units sold per day over the window.
    pub velocity_per_day: ExactDecimal,
    /// Sellable units now.
    pub sellable: u64,
    /// Units expected.
    pub incoming: u64,
    /// Days the sellable units last at that velocity; `None` when nothing sold.
    pub days_of_cover: Option<ExactDecimal>,
    /// Units at which to reorder (lead-time demand plus safety stock).
    pub reorder_point: u64,
    /// On hand less reserved plus incoming.
    pub inventory_position: i64,
    /// Whether the position is at or below the reorder point.
    pub reorder_now: bool,
    /// Units to order now to last until the next review.
    pub suggested_quantity: u64,
}

/// One location's core level as the host sees it.
fn balance(l: core::StockLevel) -> StockBalance {
    StockBalance {
        location: l.location.to_string(),
        on_hand: l.on_hand,
        reserved: l.reserved,
        safety_stock: l.safety_stock,
        available: l.available,
        incoming: l.incoming,
        quarantined: l.quarantined,
        in_transit: l.in_transit,
    }
}

/// Where confirming an order would take its stock from (`sourcing_plan`).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct SourcingPlan {
    /// Units per line and location, in line order.
    pub assignments: Vec<SourcedUnits>,
    /// Units per line no location can ship.
    pub unfilled: Vec<LineUnits>,
    /// Sentences explaining the choice, for people.
    pub explanation: Vec<String>,
}

/// Units of one line taken from one location.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct SourcedUnits {
    /// The order line.
    pub line_id: String,
    /// The location.
    pub location: String,
    /// Units.
    pub quantity: u32,
}

/// A variant's core levels as the host sees them.
fn variant_stock(levels: core::VariantLevels) -> VariantStock {
    VariantStock {
        variant: levels.variant.to_string(),
        locations: levels.locations.into_iter().map(balance).collect(),
        on_hand: levels.on_hand,
        reserved: levels.reserved,
        sellable: levels.sellable,
    }
}

/// A movement of `quantity` units of `variant` at `location`, the ids checked by the core.
fn at(variant: String, location: String) -> Result<(VariantId, LocationId), OrdersmithError> {
    Ok((VariantId::parse(variant)?, LocationId::parse(location)?))
}

#[uniffi::export]
impl Engine {
    /// Records goods on their way (a purchase order): they count as incoming until
    /// received or cancelled.
    #[uniffi::method(default(reference = None))]
    pub fn expect_incoming(
        &self,
        variant: String,
        location: String,
        quantity: u32,
        reference: Option<String>,
    ) -> Result<(), OrdersmithError> {
        let (variant, location) = at(variant, location)?;
        let command = StockCommand::ExpectIncoming {
            variant,
            location,
            quantity,
            reference,
        };
        self.call(|e| e.stock(command))?;
        Ok(())
    }

    /// Withdraws expected goods that will not come.
    #[uniffi::method(default(reference = None))]
    pub fn cancel_incoming(
        &self,
        variant: String,
        location: String,
        quantity: u32,
        reference: Option<String>,
    ) -> Result<(), OrdersmithError> {
        let (variant, location) = at(variant, location)?;
        let command = StockCommand::CancelIncoming {
            variant,
            location,
            quantity,
            reference,
        };
        self.call(|e| e.stock(command))?;
        Ok(())
    }

    /// Adjusts on hand by a signed `delta` (a broken jar, a found box, a correction);
    /// the reason must fit the direction (`STOCK_ADJUSTMENT_DIRECTION`).
    #[uniffi::method(default(reference = None))]
    pub fn adjust(
        &self,
        variant: String,
        location: String,
        delta: i64,
        reason: AdjustmentReason,
        reference: Option<String>,
    ) -> Result<(), OrdersmithError> {
        let (variant, location) = at(variant, location)?;
        let command = StockCommand::Adjust {
            variant,
            location,
            delta,
            reason: reason.into(),
            reference,
        };
        self.call(|e| e.stock(command))?;
        Ok(())
    }

    /// Sends units from one location to another; they are in transit until
    /// `receive_transfer`. `id` makes a retry safe.
    pub fn transfer(
        &self,
        id: String,
        variant: String,
        from: String,
        to: String,
        quantity: u32,
    ) -> Result<(), OrdersmithError> {
        let command = StockCommand::Transfer {
            id: TransferId::parse(id)?,
            variant: VariantId::parse(variant)?,
            from: LocationId::parse(from)?,
            to: LocationId::parse(to)?,
            quantity,
        };
        self.call(|e| e.stock(command))?;
        Ok(())
    }

    /// Receives a transfer at its destination: its units go on hand there.
    pub fn receive_transfer(&self, id: String) -> Result<(), OrdersmithError> {
        let id = TransferId::parse(id)?;
        self.call(|e| e.stock(StockCommand::ReceiveTransfer { id }))?;
        Ok(())
    }

    /// Puts returned goods back on hand.
    #[uniffi::method(default(reference = None))]
    pub fn restock_return(
        &self,
        variant: String,
        location: String,
        quantity: u32,
        reference: Option<String>,
    ) -> Result<(), OrdersmithError> {
        let (variant, location) = at(variant, location)?;
        let command = StockCommand::RestockReturn {
            variant,
            location,
            quantity,
            reference,
        };
        self.call(|e| e.stock(command))?;
        Ok(())
    }

    /// Holds returned goods for inspection (not sellable until released).
    #[uniffi::method(default(reference = None))]
    pub fn quarantine(
        &self,
        variant: String,
        location: String,
        quantity: u32,
        reference: Option<String>,
    ) -> Result<(), OrdersmithError> {
        let (variant, location) = at(variant, location)?;
        let command = StockCommand::Quarantine {
            variant,
            location,
            quantity,
            reference,
        };
        self.call(|e| e.stock(command))?;
        Ok(())
    }

    /// Releases inspected goods from quarantine to on hand.
    #[uniffi::method(default(reference = None))]
    pub fn release_quarantine(
        &self,
        variant: String,
        location: String,
        quantity: u32,
        reference: Option<String>,
    ) -> Result<(), OrdersmithError> {
        let (variant, location) = at(variant, location)?;
        let command = StockCommand::ReleaseQuarantine {
            variant,
            location,
            quantity,
            reference,
        };
        self.call(|e| e.stock(command))?;
        Ok(())
    }

    /// Writes goods off, from unreserved stock on hand or from quarantine.
    #[uniffi::method(default(reference = None))]
    pub fn write_off(
        &self,
        variant: String,
        location: String,
        quantity: u32,
        from: WriteOffSource,
        reference: Option<String>,
    ) -> Result<(), OrdersmithError> {
        let (variant, location) = at(variant, location)?;
        let command = StockCommand::WriteOff {
            variant,
            location,
            quantity,
            from: from.into(),
            reference,
        };
        self.call(|e| e.stock(command))?;
        Ok(())
    }

    /// Opens a blind cycle count of `variants` at `location`; returns the sheet the
    /// counter walks. Opening the same count again returns its sheet.
    pub fn open_count(
        &self,
        id: String,
        location: String,
        variants: Vec<String>,
    ) -> Result<CountSheet, OrdersmithError> {
        let command = StockCommand::OpenCount {
            id: CountId::parse(id)?,
            location: LocationId::parse(location)?,
            variants: variants
                .into_iter()
                .map(VariantId::parse)
                .collect::<Result<_, _>>()?,
        };
        let outcome = self.call(|e| e.stock(command))?;
        outcome
            .count_sheet
            .map(Into::into)
            .ok_or_else(|| OrdersmithError::invalid("id", "opened no count sheet"))
    }

    /// Records how many units of `variant` the counter found.
    pub fn record_count(
        &self,
        id: String,
        variant: String,
        counted: u32,
    ) -> Result<(), OrdersmithError> {
        let command = StockCommand::RecordCount {
            id: CountId::parse(id)?,
            variant: VariantId::parse(variant)?,
            counted,
        };
        self.call(|e| e.stock(command))?;
        Ok(())
    }

    /// Closes a count and posts its variances to on hand; `unit_costs` value them.
    #[uniffi::method(default(unit_costs = []))]
    pub fn close_count(
        &self,
        id: String,
        unit_costs: Vec<UnitCost>,
    ) -> Result<CountReport, OrdersmithError> {
        let mut costs = BTreeMap::new();
        for c in unit_costs {
            let cost = core_money(&c.cost.amount, currency(&c.cost.currency)?)?;
            costs.insert(VariantId::parse(c.variant)?, cost);
        }
        let command = StockCommand::CloseCount {
            id: CountId::parse(id)?,
            unit_costs: costs,
        };
        let outcome = self.call(|e| e.stock(command))?;
        outcome
            .count_report
            .map(Into::into)
            .ok_or_else(|| OrdersmithError::invalid("id", "closed no count report"))
    }

    /// Holds `units` of a variant back from sale at a location (display pieces, a
    /// buffer against miscounts).
    pub fn set_safety_stock(
        &self,
        variant: String,
        location: String,
        units: u32,
    ) -> Result<(), OrdersmithError> {
        let (variant, location) = at(variant, location)?;
        let command = StockCommand::SetSafetyStock {
            variant,
            location,
            units,
        };
        self.call(|e| e.stock(command))?;
        Ok(())
    }

    /// Sets (or clears, with `None`) the sellable units across locations under which a
    /// variant raises a low-stock alert.
    pub fn set_low_stock_threshold(
        &self,
        variant: String,
        threshold: Option<u32>,
    ) -> Result<(), OrdersmithError> {
        let variant = VariantId::parse(variant)?;
        let command = StockCommand::SetLowStockThreshold { variant, threshold };
        self.call(|e| e.stock(command))?;
        Ok(())
    }

    /// Changes how far a variant may be sold beyond its stock (backorders,
    /// pre-orders).
    pub fn set_policy(&self, variant: String, policy: StockPolicy) -> Result<(), OrdersmithError> {
        let variant = VariantId::parse(variant)?;
        let policy = policy.into();
        self.call(|e| e.stock(StockCommand::SetPolicy { variant, policy }))?;
        Ok(())
    }

    /// Defines a bundle (a gift box of tea and a mug): reserving one reserves its
    /// components, all or nothing.
    pub fn define_bundle(
        &self,
        bundle: String,
        components: Vec<BundleComponent>,
    ) -> Result<(), OrdersmithError> {
        let command = StockCommand::DefineBundle {
            bundle: VariantId::parse(bundle)?,
            components: components
                .into_iter()
                .map(|c| {
                    Ok(core::BundleComponent {
                        variant: VariantId::parse(c.variant)?,
                        quantity: c.quantity,
                    })
                })
                .collect::<Result<_, OrdersmithError>>()?,
        };
        self.call(|e| e.stock(command))?;
        Ok(())
    }

    /// Holds stock by hand, outside any order (a customer's item set aside at the
    /// counter), until `commit` or `release`, or until `expires_at`. `id` makes a retry
    /// safe.
    #[uniffi::method(default(expires_at = None, reference = None))]
    pub fn reserve(
        &self,
        id: String,
        variant: String,
        location: String,
        quantity: u32,
        expires_at: Option<SystemTime>,
        reference: Option<String>,
    ) -> Result<(), OrdersmithError> {
        let request = core::ReserveRequest {
            id: ReservationId::parse(id)?,
            variant: VariantId::parse(variant)?,
            location: LocationId::parse(location)?,
            quantity,
            expires_at: expires_at.map(core_time).transpose()?,
            reference: reference.map(Into::into),
            order: None,
        };
        self.call(|e| e.stock(StockCommand::Reserve { request }))?;
        Ok(())
    }

    /// Commits a hand-made reservation (the units are sold and leave on hand): all of
    /// it, or `quantity` units.
    #[uniffi::method(default(quantity = None))]
    pub fn commit(&self, id: String, quantity: Option<u32>) -> Result<(), OrdersmithError> {
        let reservation = ReservationId::parse(id)?;
        let command = match quantity {
            None => StockCommand::Commit { reservation },
            Some(quantity) => StockCommand::CommitPartial {
                reservation,
                quantity,
            },
        };
        self.call(|e| e.stock(command))?;
        Ok(())
    }

    /// Releases a hand-made reservation back to available: all of it, or `quantity`
    /// units.
    #[uniffi::method(default(quantity = None))]
    pub fn release(&self, id: String, quantity: Option<u32>) -> Result<(), OrdersmithError> {
        let reservation = ReservationId::parse(id)?;
        let command = match quantity {
            None => StockCommand::Release { reservation },
            Some(quantity) => StockCommand::ReleasePartial {
                reservation,
                quantity,
            },
        };
        self.call(|e| e.stock(command))?;
        Ok(())
    }

    /// Sets when a hand-made reservation lapses, or with `expires_at = null` holds it
    /// until `commit` or `release`: a customer at the counter who needs more time keeps
    /// the item. An order's reservation is refused (its order's hold and expiry settings
    /// move it); an unknown or closed one, or a time not after now, is a stock error.
    /// Nothing changes when it is refused.
    #[uniffi::method(default(expires_at = None))]
    pub fn set_reservation_expiry(
        &self,
        id: String,
        expires_at: Option<SystemTime>,
    ) -> Result<(), OrdersmithError> {
        let command = StockCommand::SetReservationExpiry {
            reservation: ReservationId::parse(id)?,
            expires_at: expires_at.map(core_time).transpose()?,
        };
        self.call(|e| e.stock(command))?;
        Ok(())
    }

    /// Releases every reservation past its expiry (`EngineOptions.reservation_ttl_minutes`)
    /// at the engine clock's time and tells the orders that owned them. The host calls
    /// it on a schedule (every minute is plenty).
    pub fn sweep_expired_reservations(&self) -> Result<ExpirySweep, OrdersmithError> {
        let sweep = self.call(|e| e.sweep_expired_reservations())?;
        Ok(ExpirySweep {
            released: sweep.released.iter().map(ToString::to_string).collect(),
            orders: sweep
                .orders
                .into_iter()
                .map(TryInto::try_into)
                .collect::<Result<_, _>>()?,
        })
    }
}
