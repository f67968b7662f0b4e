//! Stock on the engine: every ledger command and query, saved through the store's
//! stock log in the same atomic way as orders.

use crate::ids::OrderId;
use crate::sourcing::SourcingPlan;
use rust_decimal::Decimal;

use crate::ids::VariantId;
use crate::stock::{Forecast, ReorderParams, StockCommand, StockLedger, StockOutcome};

use super::{Engine, EngineError, Written};
use crate::ports::ChangeSet;

impl Engine {
    /// Executes one stock command (receive, adjust, transfer, reserve, count, ...) and
    /// saves it. Alerts and shortfalls it raises become outbox records.
    pub fn stock(&self, command: StockCommand) -> Result<StockOutcome, EngineError> {
        self.write(|_, tx| {
            let outcome = tx.stock(command.clone())?;
            Ok(Written {
                changes: ChangeSet::default(),
                value: outcome,
            })
        })
    }

    /// Executes several stock commands as one atomic change: all are saved or none.
    pub fn stock_batch(
        &self,
        commands: Vec<StockCommand>,
    ) -> Result<Vec<StockOutcome>, EngineError> {
        self.write(|_, tx| {
            let outcomes = commands
                .iter()
                .map(|c| tx.stock(c.clone()))
                .collect::<Result<Vec<_>, _>>()?;
            Ok(Written {
                changes: ChangeSet::default(),
                value: outcomes,
            })
        })
    }

    /// The sourcing plan confirming this order would use now, with its explanation in
    /// words; `None` when no line needs stock. Nothing is reserved.
    pub fn sourcing_plan(&self, id: &OrderId) -> Result<Option<SourcingPlan>, EngineError> {
        let order = self.load(id)?;
        self.read_stock(|ledger| super::allocation::preview(self.config(), ledger, &order))
    }

    /// Releases every reservation past its expiry at the engine clock's time.
    pub fn expire_reservations(&self) -> Result<StockOutcome, EngineError> {
        self.stock(StockCommand::Expire)
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
