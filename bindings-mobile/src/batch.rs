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

/// One item of `execute_many`: an order and a command for it, in the core's JSON form
/// (`{"command": "mark_paid"}`, `{"command": "record_shipment", "lines": [{"line_id":
/// "L1", "quantity": 1}]}`), as `place_order_then` takes its follow-ups.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct CommandItem {
    /// The order.
    pub order_id: String,
    /// The command, as JSON.
    pub command_json: String,
}

/// The `i`-th item of `execute_many`, read; its error names its place
/// (`items[3].command.lines`).
fn command_item(item: CommandItem, i: usize) -> Result<(OrderId, OrderCommand), OrdersmithError> {
    let id = OrderId::parse(item.order_id)?;
    let reader = &mut serde_json::Deserializer::from_str(&item.command_json);
    let command = serde_path_to_error::deserialize(reader).map_err(|e| {
        let path = match e.path().to_string() {
            p if p == "." || p.is_empty() => format!("items[{i}].command"),
            p => format!("items[{i}].command.{p}"),
        };
        OrdersmithError::invalid_json(path, e.into_inner().to_string())
    })?;
    Ok((id, command))
}

#[uniffi::export]
impl Engine {
    /// Runs many order commands in one call (end of day: every parcel handed to the
    /// carrier marked shipped at once): each runs on its own, as the one-order method
    /// would, and those that succeed are saved with one commit per batch
    /// (`Engine::execute_many`). A refused item (a malformed id or command, an unknown
    /// order, a step its status refuses) does not stop the rest: its result, at its
    /// index, carries the error. The same order may appear several times: its commands
    /// run in the order given.
    #[uniffi::method(default(ctx = None))]
    pub fn execute_many(
        &self,
        items: Vec<CommandItem>,
        ctx: Option<CallContext>,
    ) -> Result<Vec<ItemResult>, OrdersmithError> {
        let ctx = context(ctx)?;
        let parsed: Vec<Result<(OrderId, OrderCommand), OrdersmithError>> = items
            .into_iter()
            .enumerate()
            .map(|(i, item)| command_item(item, i))
            .collect();
        self.run_many(parsed, &ctx)
    }

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
        let items = parsed
            .into_iter()
            .map(|id| id.map(|id| (id, OrderCommand::Confirm)))
            .collect();
        self.run_many(items, &ctx)
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

impl Engine {
    /// Runs the readable `items` through `Engine::execute_many` (an unreadable one is
    /// its own error) and gives each its result at its index.
    fn run_many(
        &self,
        items: Vec<Result<(OrderId, OrderCommand), OrdersmithError>>,
        ctx: &ordersmith::engine::CommandContext,
    ) -> Result<Vec<ItemResult>, OrdersmithError> {
        let commands: Vec<(OrderId, OrderCommand)> = items
            .iter()
            .filter_map(|item| item.as_ref().ok().cloned())
            .collect();
        let mut done = self
            .call(|e| Ok::<_, EngineError>(e.execute_many(commands, ctx)))?
            .into_iter();
        Ok(items
            .into_iter()
            .map(|item| {
                let result = item.and_then(|_| {
                    let order = done.next().unwrap_or(Err(EngineError::InvalidInput {
                        field: "items",
                        reason: "fewer results than items",
                    }))?;
                    Order::try_from(order)
                });
                ItemResult::from(result)
            })
            .collect())
    }
}
