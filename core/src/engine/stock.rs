//! Stock on the engine: every ledger command and query, saved through the store's
//! stock log in the same atomic way as orders.

use crate::ids::OrderId;
use crate::sourcing::SourcingPlan;
use rust_decimal::Decimal;

use crate::ids::VariantId;
use crate::stock::{Forecast, ReorderParams, StockCommand, StockLedger, StockOutcome};

use super::reconcile::{self, Touched};
use super::{Engine, EngineError, ExpirySweep, Written};
use crate::stock::{Reservation, ReservationFilter};

impl Engine {
    /// Executes one stock command (receive, adjust, transfer, reserve, count, ...) and
    /// saves it. Alerts and shortfalls it raises become outbox records.
    ///
    /// Stock and orders stay in step: a command on a reservation an order owns is
    /// refused with [`EngineError::ReservationOwnedByOrder`] (change it through the
    /// order); `expire` runs [`Engine::sweep_expired_reservations`]; a count, damage or
    /// loss that leaves an order's reservation short re-sources that order in the same
    /// change (see `reconcile`).
    pub fn stock(&self, command: StockCommand) -> Result<StockOutcome, EngineError> {
        let mut outcomes = self.stock_batch(vec![command])?;
        Ok(outcomes.pop().unwrap_or_default())
    }

    /// Executes several stock commands as one atomic change: all are saved or none.
    /// The same rules as [`Engine::stock`] apply to each.
    pub fn stock_batch(
        &self,
        commands: Vec<StockCommand>,
    ) -> Result<Vec<StockOutcome>, EngineError> {
        // Reservations made, committed or released by hand each append to the
        // partition they decide on (and fail when they cannot): the commit checks every
        // decision, so on a store that prefers it they need no read first.
        let checked = !commands.is_empty() && commands.iter().all(checked_by_its_entry);
        self.write(|engine, tx| {
            if checked {
                tx.skip_read();
            }
            let mut touched = Touched::default();
            let mut outcomes = Vec::with_capacity(commands.len());
            for command in &commands {
                reconcile::guard_raw(tx.ledger_checked()?, command)?;
                let outcome = if matches!(command, StockCommand::Expire) {
                    reconcile::sweep_expired(engine, tx, &mut touched)?.1
                } else {
                    tx.stock(command.clone())?
                };
                reconcile::resource_shortfalls(engine, tx, &outcome.events, &mut touched)?;
                outcomes.push(outcome);
            }
            // What the commands did to orders (reservations expired, a shortfall held)
            // raises their automation rules, as the sweep does.
            touched.run_rules(engine, tx)?;
            Ok(Written {
                changes: touched.into_changes(engine, tx.now)?,
                value: outcomes,
            })
        })
    }

    /// Releases every reservation past its expiry at the engine clock's time, and tells
    /// the orders that owned them in the same change: each records
    /// `allocation_expired` and goes on hold with reason `reservation_expired` (or is
    /// cancelled, per [`crate::engine::EngineConfig::on_reservation_expiry`]); the order events reach
    /// the outbox. The host calls this on a schedule (every minute is plenty).
    pub fn sweep_expired_reservations(&self) -> Result<ExpirySweep, EngineError> {
        self.write(|engine, tx| {
            let mut touched = Touched::default();
            let (released, outcome) = reconcile::sweep_expired(engine, tx, &mut touched)?;
            touched.run_rules(engine, tx)?; // automation rules (issue 14)
            touched.sync(&engine.config);
            let orders = touched.orders();
            Ok(Written {
                changes: touched.into_changes(engine, tx.now)?,
                value: ExpirySweep {
                    released,
                    orders,
                    outcome,
                },
            })
        })
    }

    /// Live reservations matching `filter`, ordered by id: which order holds what,
    /// where, and until when ("held for order X until 14:00"). Every match is
    /// returned.
    pub fn reservations(
        &self,
        filter: &ReservationFilter,
    ) -> Result<Vec<Reservation>, EngineError> {
        self.read_stock(|ledger| Ok(ledger.live_reservations(filter)))
    }

    /// The sourcing plan confirming this order would use now, with its explanation in
    /// words; `None` when no line needs stock. Nothing is reserved.
    pub fn sourcing_plan(&self, id: &OrderId) -> Result<Option<SourcingPlan>, EngineError> {
        let order = self.load(id)?;
        self.read_stock(|ledger| super::allocation::preview(self.config(), ledger, &order))
    }

    /// Releases every reservation past its expiry at the engine clock's time, telling
    /// their orders: [`Engine::sweep_expired_reservations`], returning only the
    /// ledger's outcome.
    pub fn expire_reservations(&self) -> Result<StockOutcome, EngineError> {
        Ok(self.sweep_expired_reservations()?.outcome)
    }

    /// Reads the ledger, caught up with the store: levels, journal, forecasts, channel
    /// quantities, sourcing previews.
    pub fn with_stock<T>(&self, read: impl FnOnce(&StockLedger) -> T) -> Result<T, EngineError> {
        self.read_stock(|ledger| Ok(read(ledger)))
    }

    /// Units of `variant` sold per day over the last `window_days`, measured at the
    /// engine clock's time (hosts and bindings have no clock of their own to pass).
    pub fn sales_velocity(
        &self,
        variant: &VariantId,
        window_days: u32,
    ) -> Result<Decimal, EngineError> {
        let now = self.clock.now();
        self.read_stock(|ledger| Ok(ledger.sales_velocity(variant, window_days, now)?))
    }

    /// Velocity, days of cover, reorder point and suggested order of `variant`, at the
    /// engine clock's time.
    pub fn forecast(
        &self,
        variant: &VariantId,
        params: ReorderParams,
    ) -> Result<Forecast, EngineError> {
        let now = self.clock.now();
        self.read_stock(|ledger| Ok(ledger.forecast(variant, params, now)?))
    }
}

/// Whether `command`, when it succeeds, appends an entry to the one partition whose
/// stock it decided on (a reservation's, or the global log for a bundle's), and fails
/// otherwise: then the commit's check of that partition's head checks the decision
/// (`Tx::skip_read`; whom it belongs to is in the reservation, in that partition).
fn checked_by_its_entry(command: &StockCommand) -> bool {
    matches!(
        command,
        StockCommand::Reserve { .. }
            | StockCommand::Commit { .. }
            | StockCommand::CommitPartial { .. }
            | StockCommand::Release { .. }
            | StockCommand::ReleasePartial { .. }
    )
}
