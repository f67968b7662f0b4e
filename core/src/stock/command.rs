//! Stock commands as data: the ledger's whole write API as one serialisable enum.
//!
//! A store keeps the ledger as a log of [`StockLogEntry`] (command plus the time it ran),
//! and any engine rebuilds the same ledger by executing the log in order: the ledger is
//! deterministic given its commands and their times. This is how several engines (or a
//! restarted one) share one ledger without ever writing a balance back as a number.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::ids::{ChannelId, CountId, LocationId, ReservationId, TransferId, VariantId};
use crate::money::Money;

use super::moves::Unmoved;

use super::{
    AdjustmentReason, ChannelRule, CountReport, CountSheet, Location, ReserveRequest, StockError,
    StockEvent, StockLedger, StockPolicy, WriteOffSource,
};

/// A component of a bundle: `quantity` units of `variant` per bundle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BundleComponent {
    /// The component variant.
    pub variant: VariantId,
    /// Units per bundle.
    pub quantity: u32,
}

/// One write to the stock ledger.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "command", rename_all = "snake_case")]
pub enum StockCommand {
    /// Add a location.
    AddLocation {
        /// The location.
        location: Location,
    },
    /// Register a variant with its policy.
    RegisterVariant {
        /// The variant.
        variant: VariantId,
        /// Its policy.
        policy: StockPolicy,
    },
    /// Change a variant's policy.
    SetPolicy {
        /// The variant.
        variant: VariantId,
        /// The policy.
        policy: StockPolicy,
    },
    /// Set the safety stock of a variant at a location.
    SetSafetyStock {
        /// The variant.
        variant: VariantId,
        /// The location.
        location: LocationId,
        /// Units held back.
        units: u32,
    },
    /// Set or clear a variant's low-stock threshold.
    SetLowStockThreshold {
        /// The variant.
        variant: VariantId,
        /// The threshold in sellable units across locations.
        threshold: Option<u32>,
    },
    /// Define a bundle from components.
    DefineBundle {
        /// The bundle variant.
        bundle: VariantId,
        /// Its components.
        components: Vec<BundleComponent>,
    },
    /// Expect incoming goods.
    ExpectIncoming {
        /// The variant.
        variant: VariantId,
        /// The location.
        location: LocationId,
        /// Units.
        quantity: u32,
        /// Reference, e.g. a purchase order.
        #[serde(default)]
        reference: Option<String>,
    },
    /// Withdraw an expectation.
    CancelIncoming {
        /// The variant.
        variant: VariantId,
        /// The location.
        location: LocationId,
        /// Units.
        quantity: u32,
        /// Reference.
        #[serde(default)]
        reference: Option<String>,
    },
    /// Receive goods.
    Receive {
        /// The variant.
        variant: VariantId,
        /// The location.
        location: LocationId,
        /// Units.
        quantity: u32,
        /// Reference.
        #[serde(default)]
        reference: Option<String>,
    },
    /// Adjust on hand (damage, loss, found, correction).
    Adjust {
        /// The variant.
        variant: VariantId,
        /// The location.
        location: LocationId,
        /// Signed change.
        delta: i64,
        /// Why.
        reason: AdjustmentReason,
        /// Reference.
        #[serde(default)]
        reference: Option<String>,
    },
    /// Put returned goods back on hand.
    RestockReturn {
        /// The variant.
        variant: VariantId,
        /// The location.
        location: LocationId,
        /// Units.
        quantity: u32,
        /// Reference.
        #[serde(default)]
        reference: Option<String>,
    },
    /// Hold returned goods for inspection.
    Quarantine {
        /// The variant.
        variant: VariantId,
        /// The location.
        location: LocationId,
        /// Units.
        quantity: u32,
        /// Reference.
        #[serde(default)]
        reference: Option<String>,
    },
    /// Release inspected goods to on hand.
    ReleaseQuarantine {
        /// The variant.
        variant: VariantId,
        /// The location.
        location: LocationId,
        /// Units.
        quantity: u32,
        /// Reference.
        #[serde(default)]
        reference: Option<String>,
    },
    /// Write goods off.
    WriteOff {
        /// The variant.
        variant: VariantId,
        /// The location.
        location: LocationId,
        /// Units.
        quantity: u32,
        /// From quarantine or on hand.
        from: WriteOffSource,
        /// Reference.
        #[serde(default)]
        reference: Option<String>,
    },
    /// Send goods to another location.
    Transfer {
        /// Transfer id (idempotency key).
        id: TransferId,
        /// The variant.
        variant: VariantId,
        /// From.
        from: LocationId,
        /// To.
        to: LocationId,
        /// Units.
        quantity: u32,
    },
    /// Receive a transfer at its destination.
    ReceiveTransfer {
        /// Transfer id.
        id: TransferId,
    },
    /// Reserve stock.
    Reserve {
        /// What to hold.
        request: ReserveRequest,
    },
    /// Commit what a reservation holds.
    Commit {
        /// The reservation.
        reservation: ReservationId,
    },
    /// Commit part of a reservation.
    CommitPartial {
        /// The reservation.
        reservation: ReservationId,
        /// Units.
        quantity: u32,
    },
    /// Release what a reservation holds.
    Release {
        /// The reservation.
        reservation: ReservationId,
    },
    /// Release part of a reservation.
    ReleasePartial {
        /// The reservation.
        reservation: ReservationId,
        /// Units.
        quantity: u32,
    },
    /// Release every reservation past its expiry.
    Expire,
    /// Set or clear when an active reservation lapses.
    SetReservationExpiry {
        /// The reservation.
        reservation: ReservationId,
        /// The new expiry; `None` holds until committed or released.
        #[serde(default)]
        expires_at: Option<DateTime<Utc>>,
    },
    /// Open a cycle count.
    OpenCount {
        /// Count id.
        id: CountId,
        /// Location.
        location: LocationId,
        /// Variants to count.
        variants: Vec<VariantId>,
    },
    /// Record a counted quantity.
    RecordCount {
        /// Count id.
        id: CountId,
        /// Variant.
        variant: VariantId,
        /// Units counted.
        counted: u32,
    },
    /// Close a count and post its variances.
    CloseCount {
        /// Count id.
        id: CountId,
        /// Unit costs to value the variances.
        #[serde(default)]
        unit_costs: BTreeMap<VariantId, Money>,
    },
    /// Set what a channel may sell.
    SetChannelRule {
        /// The channel.
        channel: ChannelId,
        /// The rule.
        rule: ChannelRule,
    },
    /// Record what was pushed to a channel.
    MarkPushed {
        /// The channel.
        channel: ChannelId,
        /// Quantities pushed.
        quantities: BTreeMap<VariantId, u64>,
    },
}

/// What a stock command produced.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct StockOutcome {
    /// Movements, alerts and shortfalls, in order.
    pub events: Vec<StockEvent>,
    /// The count sheet, for `open_count`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count_sheet: Option<CountSheet>,
    /// The count report, for `close_count`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count_report: Option<CountReport>,
}

impl From<Vec<StockEvent>> for StockOutcome {
    fn from(events: Vec<StockEvent>) -> Self {
        StockOutcome {
            events,
            ..StockOutcome::default()
        }
    }
}

/// A stock command as stored: its place in the log and the time it ran.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StockLogEntry {
    /// Position in the log, from 1, gapless.
    pub seq: u64,
    /// The time it ran (the engine's clock).
    pub at: DateTime<Utc>,
    /// The command.
    pub command: StockCommand,
}

impl StockLedger {
    /// [`StockLedger::execute`] for a caller that gathers the events of many commands
    /// (the engine's write): a reservation's, commit's, partial commit's or release's
    /// events go straight into `events` instead of a vector of their own, their
    /// movements counted and not built; any other command's are moved there from its
    /// outcome (its count sheet or report, which only the stock counts read, is
    /// dropped). `events` keeps each event but the movements, with its place among all
    /// the events [`StockLedger::execute`] would return. Changes nothing, `events`
    /// included, on error.
    pub(crate) fn execute_into(
        &mut self,
        command: &StockCommand,
        now: DateTime<Utc>,
        events: &mut Unmoved,
    ) -> Result<(), StockError> {
        use StockCommand as C;
        let before = events.mark();
        let done = match command {
            C::Reserve { request } => self.reserve_into(request.clone(), now, events),
            C::Commit { reservation } => self.commit_into(reservation, now, events),
            C::Release { reservation } => self.release_into(reservation, now, events),
            C::CommitPartial {
                reservation,
                quantity,
            } => self.commit_partial_into(reservation, *quantity, now, events),
            _ => self.execute(command, now).map(|outcome| {
                for event in outcome.events {
                    events.take(event);
                }
            }),
        };
        if done.is_err() {
            events.rewind(before);
        }
        done
    }

    /// Executes one command at `now`. Changes nothing on error.
    pub fn execute(
        &mut self,
        command: &StockCommand,
        now: DateTime<Utc>,
    ) -> Result<StockOutcome, StockError> {
        use StockCommand as C;
        let r = |s: &Option<String>| s.as_deref().map(str::to_string);
        let outcome: StockOutcome = match command {
            C::AddLocation { location } => {
                self.add_location(location.clone())?;
                StockOutcome::default()
            }
            C::RegisterVariant { variant, policy } => {
                self.register_variant(variant.clone(), *policy)?;
                StockOutcome::default()
            }
            C::SetPolicy { variant, policy } => {
                self.set_policy(variant, *policy)?;
                StockOutcome::default()
            }
            C::SetSafetyStock {
                variant,
                location,
                units,
            } => {
                self.set_safety_stock(variant, location, *units)?;
                StockOutcome::default()
            }
            C::SetLowStockThreshold { variant, threshold } => {
                self.set_low_stock_threshold(variant, *threshold)?;
                StockOutcome::default()
            }
            C::DefineBundle { bundle, components } => {
                let parts = components
                    .iter()
                    .map(|c| (c.variant.clone(), c.quantity))
                    .collect();
                self.define_bundle(bundle.clone(), parts)?;
                StockOutcome::default()
            }
            C::ExpectIncoming {
                variant,
                location,
                quantity,
                reference,
            } => self
                .expect_incoming(variant, location, *quantity, r(reference).as_deref(), now)?
                .into(),
            C::CancelIncoming {
                variant,
                location,
                quantity,
                reference,
            } => self
                .cancel_incoming(variant, location, *quantity, r(reference).as_deref(), now)?
                .into(),
            C::Receive {
                variant,
                location,
                quantity,
                reference,
            } => self
                .receive(variant, location, *quantity, r(reference).as_deref(), now)?
                .into(),
            C::Adjust {
                variant,
                location,
                delta,
                reason,
                reference,
            } => self
                .adjust(
                    variant,
                    location,
                    *delta,
                    *reason,
                    r(reference).as_deref(),
                    now,
                )?
                .into(),
            C::RestockReturn {
                variant,
                location,
                quantity,
                reference,
            } => self
                .restock_return(variant, location, *quantity, r(reference).as_deref(), now)?
                .into(),
            C::Quarantine {
                variant,
                location,
                quantity,
                reference,
            } => self
                .quarantine(variant, location, *quantity, r(reference).as_deref(), now)?
                .into(),
            C::ReleaseQuarantine {
                variant,
                location,
                quantity,
                reference,
            } => self
                .release_quarantine(variant, location, *quantity, r(reference).as_deref(), now)?
                .into(),
            C::WriteOff {
                variant,
                location,
                quantity,
                from,
                reference,
            } => self
                .write_off(
                    variant,
                    location,
                    *quantity,
                    *from,
                    r(reference).as_deref(),
                    now,
                )?
                .into(),
            C::Transfer {
                id,
                variant,
                from,
                to,
                quantity,
            } => self
                .transfer(id.clone(), variant, from, to, *quantity, now)?
                .into(),
            C::ReceiveTransfer { id } => self.receive_transfer(id, now)?.into(),
            C::Reserve { request } => self.reserve(request.clone(), now)?.into(),
            C::Commit { reservation } => self.commit(reservation, now)?.into(),
            C::CommitPartial {
                reservation,
                quantity,
            } => self.commit_partial(reservation, *quantity, now)?.into(),
            C::Release { reservation } => self.release(reservation, now)?.into(),
            C::ReleasePartial {
                reservation,
                quantity,
            } => self.release_partial(reservation, *quantity, now)?.into(),
            C::Expire => self.expire(now).into(),
            C::SetReservationExpiry {
                reservation,
                expires_at,
            } => {
                self.set_expiry(reservation, *expires_at, now)?;
                StockOutcome::default()
            }
            C::OpenCount {
                id,
                location,
                variants,
            } => StockOutcome {
                count_sheet: Some(self.open_count(id.clone(), location, variants.clone(), now)?),
                ..StockOutcome::default()
            },
            C::RecordCount {
                id,
                variant,
                counted,
            } => {
                self.record_count(id, variant, *counted)?;
                StockOutcome::default()
            }
            C::CloseCount { id, unit_costs } => {
                let costs: HashMap<VariantId, Money> =
                    unit_costs.iter().map(|(k, v)| (k.clone(), *v)).collect();
                let costs = if costs.is_empty() { None } else { Some(&costs) };
                let (report, events) = self.close_count(id, now, costs)?;
                StockOutcome {
                    events,
                    count_report: Some(report),
                    ..StockOutcome::default()
                }
            }
            C::SetChannelRule { channel, rule } => {
                self.set_channel_rule(channel.clone(), rule.clone())?;
                StockOutcome::default()
            }
            C::MarkPushed {
                channel,
                quantities,
            } => {
                self.mark_pushed(channel, quantities)?;
                StockOutcome::default()
            }
        };
        Ok(outcome)
    }

    /// Rebuilds a ledger by executing a log in order. An entry that fails is skipped:
    /// logs only ever hold commands that succeeded, so a failure here means the log was
    /// written by a different version of the rules, and the count of skipped entries is
    /// returned so the caller can report it.
    pub fn from_log<'a>(entries: impl IntoIterator<Item = &'a StockLogEntry>) -> (Self, usize) {
        let mut ledger = StockLedger::new();
        let mut skipped = 0;
        for e in entries {
            if ledger.execute(&e.command, e.at).is_err() {
                skipped += 1;
            }
        }
        (ledger, skipped)
    }
}

#[cfg(test)]
mod tests {
    use std::error::Error;

    use chrono::TimeZone;

    use super::*;
    use crate::ids::{LocationId, ReservationId, VariantId};
    use crate::stock::{Location, LocationKind, ReserveRequest, StockPolicy};

    type Res<T> = Result<T, Box<dyn Error>>;

    /// A ledger with one IST warehouse and MUG (5 on hand) under `Deny`.
    fn ledger(now: DateTime<Utc>) -> Res<StockLedger> {
        let mut ledger = StockLedger::new();
        let (ist, mug) = (LocationId::parse("IST")?, VariantId::parse("MUG")?);
        ledger.add_location(Location::new(
            ist.clone(),
            "DC",
            1,
            "TR-34",
            LocationKind::Warehouse,
        ))?;
        ledger.register_variant(mug.clone(), StockPolicy::Deny)?;
        ledger.receive(&mug, &ist, 5, None, now)?;
        Ok(ledger)
    }

    fn reserve(id: &str, quantity: u32) -> Res<StockCommand> {
        Ok(StockCommand::Reserve {
            request: ReserveRequest::new(
                ReservationId::parse(id)?,
                VariantId::parse("MUG")?,
                LocationId::parse("IST")?,
                quantity,
            ),
        })
    }

    /// `execute_into` gathers what `execute` returns, command by command, and a refused
    /// command leaves both the ledger and the gathered events as they were.
    #[test]
    fn execute_into_gathers_what_execute_returns() -> Res<()> {
        let now = Utc
            .with_ymd_and_hms(2026, 12, 3, 9, 0, 0)
            .single()
            .ok_or("no such time")?;
        let (mut one, mut other) = (ledger(now)?, ledger(now)?);
        let commands = [
            StockCommand::SetLowStockThreshold {
                variant: VariantId::parse("MUG")?,
                threshold: Some(3),
            },
            reserve("r-1", 2)?,
            reserve("r-2", 3)?,
            StockCommand::Commit {
                reservation: ReservationId::parse("r-1")?,
            },
            StockCommand::CommitPartial {
                reservation: ReservationId::parse("r-2")?,
                quantity: 1,
            },
            StockCommand::Release {
                reservation: ReservationId::parse("r-2")?,
            },
            StockCommand::Receive {
                variant: VariantId::parse("MUG")?,
                location: LocationId::parse("IST")?,
                quantity: 4,
                reference: Some("PO-1".into()),
            },
        ];
        let mut returned = Vec::new();
        let mut gathered = Unmoved::default();
        for command in &commands {
            returned.extend(one.execute(command, now)?.events);
            other.execute_into(command, now, &mut gathered)?;
        }
        assert!(returned.len() >= commands.len());
        // Every event but the movements, each at its place among all of them.
        let unmoved = |events: &[StockEvent]| -> Vec<(usize, StockEvent)> {
            events
                .iter()
                .enumerate()
                .filter(|(_, e)| !matches!(e, StockEvent::Moved(_)))
                .map(|(k, e)| (k, e.clone()))
                .collect()
        };
        let alerts = unmoved(&returned);
        assert!(
            alerts.len() >= 2 && alerts.iter().all(|(k, _)| *k > 0),
            "a low-stock alert after movements, and one after the receipt: {alerts:?}"
        );
        assert_eq!(gathered.kept, alerts);
        assert_eq!(gathered.raised, returned.len());
        // The engine's copy of an outcome's events (`Tx::stock`) keeps the same.
        let mut copied = Unmoved::default();
        for event in &returned {
            copied.take_copy(event);
        }
        assert_eq!((&copied.kept, copied.raised), (&alerts, returned.len()));
        // More than is there: refused, nothing gathered, nothing changed.
        let journal = other.journal_len();
        let refused = other.execute_into(&reserve("r-3", 50)?, now, &mut gathered);
        assert!(matches!(refused, Err(StockError::Insufficient { .. })));
        assert_eq!(
            (gathered.raised, other.journal_len()),
            (returned.len(), journal)
        );
        // An id already used: refused the same way.
        let again = other.execute_into(&reserve("r-1", 1)?, now, &mut gathered);
        assert!(again.is_err());
        assert_eq!(
            (gathered.raised, other.journal_len()),
            (returned.len(), journal)
        );
        assert_eq!(gathered.kept, alerts);
        Ok(())
    }
}
