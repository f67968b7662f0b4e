//! Batched writes on the engine (the core's `engine/batch.rs`): many orders placed or
//! confirmed in one call, saved with one commit per batch.

use ordersmith::engine::EngineError;
use ordersmith::ids::OrderId;
use ordersmith::order::OrderCommand;

use crate::convert::{context, CallContext};
use crate::engine::Engine;
use crate::errors::{ErrorKind, OrdersmithError};
use crate::order::{NewOrder, Order};

/// Why one item of a batched call was refused (the others are unaffected).
#[derive(Debug, Clone, uniffi::Record)]
pub struct ItemError {
    /// The core's stable code, e.g. `STOCK_INSUFFICIENT`.
    pub code: String,
    /// What a caller can do about it.
    pub kind: ErrorKind,
    /// A sentence for people.
    pub reason: String,
    /// The error's fields as a JSON object, for machines.
    pub details_json: String,
}

/// One item's result in a batched call, in input order: the order, or its error.
#[derive(Debug, Clone, uniffi::Record)]
pub struct ItemResult {
    /// The order after the command, when it succeeded.
    pub order: Option<Order>,
    /// Why the item was refused, when it was.
    pub error: Option<ItemError>,
}

impl From<Result<Order, OrdersmithError>> for ItemResult {
    fn from(result: Result<Order, OrdersmithError>) -> Self {
        match result {
            Ok(order) => ItemResult {
                order: Some(order),
                error: None,
            },
            Err(e) => ItemResult {
                order: None,
                error: Some(e.into()),
            },
        }
    }
}

#[uniffi::export]
impl Engine {
    /// Confirms many orders in one call: each is confirmed on its own, as
    /// `confirm_order` would, and the confirmations that succeed are saved with one
    /// commit per batch (`Engine::execute_many`). A refused one (an unknown or malformed
    /// id, a short order) does not stop the rest: its result carries the error.
    #[uniffi::method(default(ctx = None))]
    pub fn confirm_orders(
        &self,
        order_ids: Vec<String>,
        ctx: Option<CallContext>,
    ) -> Result<Vec<ItemResult>, OrdersmithError> {
        let ctx = context(ctx)?;
        let parsed: Vec<Result<OrderId, OrdersmithError>> = order_ids
            .into_iter()
            .map(|id| OrderId::parse(id).map_err(OrdersmithError::from))
            .collect();
        let commands: Vec<(OrderId, OrderCommand)> = parsed
            .iter()
            .filter_map(|id| id.as_ref().ok())
            .map(|id| (id.clone(), OrderCommand::Confirm))
            .collect();
        let mut done = self
            .call(|e| Ok::<_, EngineError>(e.execute_many(commands, &ctx)))?
            .into_iter();
        Ok(parsed
            .into_iter()
            .map(|id| {
                let result = id.and_then(|_| {
                    let order = done.next().unwrap_or(Err(EngineError::InvalidInput {
                        field: "order_ids",
                        reason: "fewer results than orders",
                    }))?;
                    Order::try_from(order)
                });
                ItemResult::from(result)
            })
            .collect())
    }

    /// Places many orders in one call (a day of counter sales synced at once): each is
    /// placed on its own, as `place_order` would, saved with one commit per batch. A
    /// refused one (a bad amount, an id, a duplicate) does not stop the rest: its
    /// result, at its index, carries the error.
    #[uniffi::method(default(ctx = None))]
    pub fn place_orders(
        &self,
        orders: Vec<NewOrder>,
        ctx: Option<CallContext>,
    ) -> Result<Vec<ItemResult>, OrdersmithError> {
        let ctx = context(ctx)?;
        let mut converted: Vec<Result<(), OrdersmithError>> = Vec::with_capacity(orders.len());
        let mut valid = Vec::with_capacity(orders.len());
        for order in orders {
            match ordersmith::order::NewOrder::try_from(order) {
                Ok(new) => {
                    valid.push(new);
                    converted.push(Ok(()));
                }
                Err(e) => converted.push(Err(e)),
            }
        }
        let mut placed = self
            .call(|e| Ok::<_, EngineError>(e.place_orders(valid, &ctx)))?
            .into_iter();
        Ok(converted
            .into_iter()
            .map(|c| {
                let result = c.and_then(|()| {
                    let order = placed.next().unwrap_or(Err(EngineError::InvalidInput {
                        field: "orders",
                        reason: "fewer results than orders",
                    }))?;
                    Order::try_from(order)
                });
                ItemResult::from(result)
            })
            .collect())
    }
}
