//! `decide` for the warehouse flow: a fulfilment step on an order → events, or a typed
//! error. Pure, like the rest of the state machine; the stock side (committing a
//! handed-over parcel, short picks, moves, cancellations) is the engine's.

use std::collections::{BTreeMap, BTreeSet};

use crate::fulfilment::{
    FulfilmentError, FulfilmentOrder, FulfilmentOrderStatus, Parcel, ParcelStatus,
};
use crate::ids::LineId;

use super::command::{FulfilmentCommand, LineQuantity};
use super::error::OrderError;
use super::event::OrderEvent;
use super::model::Order;

/// Longest carrier, service, tracking number or label reference, in characters.
const MAX_LABEL_TEXT: usize = 128;
/// Parcels per fulfilment order.
const MAX_PARCELS: usize = 500;

fn active<'a>(
    order: &'a Order,
    id: &str,
    action: &'static str,
) -> Result<&'a FulfilmentOrder, FulfilmentError> {
    let fo = order
        .fulfilment(id)
        .ok_or_else(|| FulfilmentError::UnknownFulfilment {
            fulfilment: id.to_string(),
        })?;
    match fo.status {
        FulfilmentOrderStatus::Open | FulfilmentOrderStatus::InProgress => Ok(fo),
        status => Err(FulfilmentError::NotActive {
            fulfilment: id.to_string(),
            status: status.as_str(),
            action,
        }),
    }
}

/// Units of `line` this fulfilment order still has to pick: what is held for the line
/// at its location, less what it picked and has not handed over.
pub(crate) fn to_pick(order: &Order, fo: &FulfilmentOrder, line: &LineId) -> u32 {
    order
        .held_at(line, &fo.location)
        .saturating_sub(fo.picked_open(line))
}

/// Sums quantities per line, refusing unknown lines, zero quantities and overflow.
fn per_line(
    order: &Order,
    fo: &FulfilmentOrder,
    lines: &[LineQuantity],
) -> Result<BTreeMap<LineId, u32>, OrderError> {
    let mut out: BTreeMap<LineId, u32> = BTreeMap::new();
    for lq in lines {
        if order.line(&lq.line_id).is_none() {
            return Err(OrderError::UnknownLine {
                line_id: lq.line_id.clone(),
            });
        }
        if lq.quantity == 0 || lq.quantity > super::limits::MAX_QUANTITY {
            return Err(OrderError::InvalidQuantity {
                quantity: lq.quantity,
                max: super::limits::MAX_QUANTITY,
            });
        }
        let held = order.held_at(&lq.line_id, &fo.location) + fo.shipped_of(&lq.line_id);
        if held == 0 {
            return Err(FulfilmentError::LineNotInFulfilment {
                fulfilment: fo.id.clone(),
                line_id: lq.line_id.clone(),
            }
            .into());
        }
        let q = out.entry(lq.line_id.clone()).or_insert(0);
        *q = q.saturating_add(lq.quantity);
    }
    Ok(out)
}

fn check_label_text(field: &'static str, text: &str) -> Result<(), FulfilmentError> {
    let reason = if text.trim().is_empty() {
        Some("must not be empty")
    } else if text.chars().count() > MAX_LABEL_TEXT {
        Some("is longer than 128 characters")
    } else if text.chars().any(char::is_control) || text.trim() != text {
        Some("has control characters or surrounding whitespace")
    } else {
        None
    };
    match reason {
        Some(reason) => Err(FulfilmentError::InvalidLabel { field, reason }),
        None => Ok(()),
    }
}

fn parcel<'a>(fo: &'a FulfilmentOrder, id: &str) -> Result<&'a Parcel, FulfilmentError> {
    fo.parcel(id).ok_or_else(|| FulfilmentError::UnknownParcel {
        fulfilment: fo.id.clone(),
        parcel: id.to_string(),
    })
}

fn parcel_state(p: &Parcel, action: &'static str) -> FulfilmentError {
    FulfilmentError::ParcelState {
        parcel: p.id.clone(),
        status: p.status.as_str(),
        action,
    }
}

/// The events of one fulfilment step on `order`. Stock effects (commits, releases,
/// re-sourcing) are added by the engine.
pub(crate) fn decide_step(
    order: &Order,
    step: &FulfilmentCommand,
) -> Result<Vec<OrderEvent>, OrderError> {
    match step {
        FulfilmentCommand::Pick {
            fulfilment,
            picked,
            short,
        } => {
            let fo = active(order, fulfilment, "picking")?;
            if picked.is_empty() && short.is_empty() {
                return Err(OrderError::EmptyCommand {
                    command: super::OrderCommandKind::Fulfil,
                });
            }
            let picked_per = per_line(order, fo, picked)?;
            let short_per = per_line(order, fo, short)?;
            let lines: BTreeSet<&LineId> = picked_per.keys().chain(short_per.keys()).collect();
            for line in lines {
                let p = picked_per.get(line).copied().unwrap_or(0);
                let s = short_per.get(line).copied().unwrap_or(0);
                let remaining = to_pick(order, fo, line);
                if p.saturating_add(s) > remaining {
                    return Err(FulfilmentError::PickExceedsAssigned {
                        line_id: line.clone(),
                        requested: p.saturating_add(s),
                        remaining,
                    }
                    .into());
                }
            }
            if picked_per.is_empty() {
                return Ok(Vec::new());
            }
            Ok(vec![OrderEvent::FulfilmentPicked {
                fulfilment: fo.id.clone(),
                lines: picked_per
                    .into_iter()
                    .map(|(l, q)| LineQuantity::new(l, q))
                    .collect(),
            }])
        }
        FulfilmentCommand::Pack {
            fulfilment,
            units,
            size,
        } => {
            let fo = active(order, fulfilment, "packing")?;
            if units.is_empty() {
                return Err(FulfilmentError::InvalidParcel {
                    reason: "a parcel must hold at least one unit",
                }
                .into());
            }
            if size.weight_grams == 0
                || size.length_mm == 0
                || size.width_mm == 0
                || size.height_mm == 0
            {
                return Err(FulfilmentError::InvalidParcel {
                    reason: "weight and every dimension must be above zero",
                }
                .into());
            }
            if fo.parcels.len() >= MAX_PARCELS {
                return Err(FulfilmentError::InvalidParcel {
                    reason: "a fulfilment order holds at most 500 parcels",
                }
                .into());
            }
            let per = per_line(order, fo, units)?;
            for (line, q) in &per {
                let picked = fo.picked_unpacked(line);
                if *q > picked {
                    return Err(FulfilmentError::PackExceedsPicked {
                        line_id: line.clone(),
                        requested: *q,
                        picked,
                    }
                    .into());
                }
            }
            let parcel = Parcel {
                id: format!("{}-P{}", fo.id, fo.parcels.len() + 1),
                units: per,
                size: *size,
                status: ParcelStatus::Packed,
                requested_service: None,
                label: None,
                sscc: None,
                tracking: None,
            };
            Ok(vec![OrderEvent::ParcelPacked {
                fulfilment: fo.id.clone(),
                parcel: Box::new(parcel),
            }])
        }
        FulfilmentCommand::RequestLabel {
            fulfilment,
            parcel: parcel_id,
            service,
        } => {
            let fo = active(order, fulfilment, "requesting a label")?;
            check_label_text("service", service)?;
            let p = parcel(fo, parcel_id)?;
            if !matches!(
                p.status,
                ParcelStatus::Packed | ParcelStatus::LabelRequested
            ) {
                return Err(parcel_state(p, "requesting a label").into());
            }
            Ok(vec![OrderEvent::LabelRequested(Box::new(
                crate::order::LabelRequest {
                    fulfilment: fo.id.clone(),
                    location: fo.location.clone(),
                    parcel: p.id.clone(),
                    size: p.size,
                    service: service.clone(),
                },
            ))])
        }
        FulfilmentCommand::RecordLabel {
            fulfilment,
            parcel: parcel_id,
            label,
        } => {
            let fo = active(order, fulfilment, "recording a label")?;
            check_label_text("carrier", &label.carrier)?;
            check_label_text("service", &label.service)?;
            check_label_text("tracking_number", &label.tracking_number)?;
            if let Some(r) = &label.label_ref {
                check_label_text("label_ref", r)?;
            }
            let p = parcel(fo, parcel_id)?;
            if p.status == ParcelStatus::HandedOver {
                return Err(parcel_state(p, "recording a label").into());
            }
            // A number that fails its carrier's published check digit is a typo on a
            // label: refuse it. Unknown carriers' numbers are kept as given.
            let carrier = crate::fulfilment::Carrier::from_code(&label.carrier);
            let number =
                crate::fulfilment::validate_tracking_number(&carrier, &label.tracking_number)?;
            let label = crate::fulfilment::Label {
                carrier: carrier.code().to_string(),
                tracking_number: number.as_str().to_string(),
                ..label.clone()
            };
            if p.label.as_ref() == Some(&label) {
                return Ok(Vec::new());
            }
            Ok(vec![OrderEvent::LabelRecorded {
                fulfilment: fo.id.clone(),
                parcel: p.id.clone(),
                label: Box::new(label),
            }])
        }
        FulfilmentCommand::HandOver {
            fulfilment,
            parcel: parcel_id,
        } => {
            let fo = active(order, fulfilment, "handing over")?;
            let p = parcel(fo, parcel_id)?;
            if p.status != ParcelStatus::Labelled {
                return Err(parcel_state(p, "handing over (it needs a recorded label)").into());
            }
            Ok(vec![
                OrderEvent::ParcelHandedOver {
                    fulfilment: fo.id.clone(),
                    parcel: p.id.clone(),
                },
                OrderEvent::ShipmentRecorded {
                    lines: p
                        .units
                        .iter()
                        .map(|(l, q)| LineQuantity::new(l.clone(), *q))
                        .collect(),
                },
            ])
        }
        FulfilmentCommand::Hold { fulfilment, reason } => {
            let fo = active(order, fulfilment, "holding")?;
            check_label_text("hold reason", reason).map_err(|_| OrderError::InvalidText {
                field: "hold reason",
                reason: "must be 1 to 128 characters without control characters",
            })?;
            Ok(vec![OrderEvent::FulfilmentHeld {
                fulfilment: fo.id.clone(),
                reason: reason.clone(),
            }])
        }
        FulfilmentCommand::Release { fulfilment } => {
            let fo =
                order
                    .fulfilment(fulfilment)
                    .ok_or_else(|| FulfilmentError::UnknownFulfilment {
                        fulfilment: fulfilment.clone(),
                    })?;
            if fo.status != FulfilmentOrderStatus::OnHold {
                return Err(FulfilmentError::NotActive {
                    fulfilment: fo.id.clone(),
                    status: fo.status.as_str(),
                    action: "releasing a hold",
                }
                .into());
            }
            Ok(vec![OrderEvent::FulfilmentReleased {
                fulfilment: fo.id.clone(),
            }])
        }
        FulfilmentCommand::Move { fulfilment, to } => {
            let fo = active(order, fulfilment, "moving")?;
            if fo.picked.values().any(|q| *q > 0) {
                return Err(FulfilmentError::AlreadyPicked {
                    fulfilment: fo.id.clone(),
                }
                .into());
            }
            if &fo.location == to {
                return Err(FulfilmentError::InvalidMove {
                    fulfilment: fo.id.clone(),
                    location: to.clone(),
                    reason: "it already ships from there",
                }
                .into());
            }
            // The stock side (release here, reserve there, close and reopen) is the
            // engine's.
            Ok(Vec::new())
        }
        FulfilmentCommand::Track {
            fulfilment,
            parcel: parcel_id,
            event,
            mapped,
        } => {
            // Carriers report after a fulfilment order closed as shipped: any
            // fulfilment order, open or not, takes tracking events for its parcels.
            let fo =
                order
                    .fulfilment(fulfilment)
                    .ok_or_else(|| FulfilmentError::UnknownFulfilment {
                        fulfilment: fulfilment.clone(),
                    })?;
            let p = parcel(fo, parcel_id)?;
            let Some(label) = &p.label else {
                return Err(parcel_state(p, "tracking (it has no label yet)").into());
            };
            let carrier = crate::fulfilment::Carrier::from_code(&label.carrier);
            let mut tracking = p
                .tracking
                .clone()
                .unwrap_or_else(|| crate::fulfilment::ParcelTracking::new(carrier.clone()));
            let table = crate::fulfilment::table_for(&carrier, event.raw_code(), mapped);
            let outcome = tracking.apply(&table, event.clone());
            if outcome == crate::fulfilment::ApplyOutcome::Duplicate {
                return Ok(Vec::new());
            }
            let mut events = Vec::new();
            let moving = matches!(
                mapped,
                crate::fulfilment::MappedStatus::Known(s)
                    if *s != crate::fulfilment::TrackingStatus::LabelCreated
            );
            // The carrier has the parcel: if nobody recorded the hand-over, this is it.
            if moving && p.status == ParcelStatus::Labelled {
                events.push(OrderEvent::ParcelHandedOver {
                    fulfilment: fo.id.clone(),
                    parcel: p.id.clone(),
                });
                events.push(OrderEvent::ShipmentRecorded {
                    lines: p
                        .units
                        .iter()
                        .map(|(l, q)| LineQuantity::new(l.clone(), *q))
                        .collect(),
                });
            }
            events.push(OrderEvent::ParcelTracked(Box::new(
                crate::order::ParcelTracking {
                    fulfilment: fo.id.clone(),
                    parcel: p.id.clone(),
                    event: event.clone(),
                    mapped: mapped.clone(),
                },
            )));
            let delivered = crate::fulfilment::ApplyOutcome::Advanced {
                from: tracking_before(p),
                to: crate::fulfilment::TrackingStatus::Delivered,
            };
            if outcome == delivered && (p.status == ParcelStatus::HandedOver || moving) {
                events.push(OrderEvent::DeliveryRecorded {
                    lines: p
                        .units
                        .iter()
                        .map(|(l, q)| LineQuantity::new(l.clone(), *q))
                        .collect(),
                });
            }
            Ok(events)
        }
        FulfilmentCommand::Cancel { fulfilment, reason } => {
            let fo = active(order, fulfilment, "cancelling")?;
            let lines: Vec<LineQuantity> = order
                .lines
                .iter()
                .filter_map(|l| {
                    let q = order.held_at(&l.id, &fo.location).min(l.open_quantity());
                    (q > 0).then(|| LineQuantity::new(l.id.clone(), q))
                })
                .collect();
            if lines.is_empty() {
                return Ok(Vec::new());
            }
            let cancelled: u64 = lines.iter().map(|l| u64::from(l.quantity)).sum();
            let mut events = vec![OrderEvent::LinesCancelled {
                lines,
                reason: *reason,
            }];
            if shipped_units(order) == 0 && cancelled >= order.active_units() {
                events.push(OrderEvent::Cancelled { reason: *reason });
            }
            Ok(events)
        }
    }
}

fn tracking_before(p: &Parcel) -> Option<crate::fulfilment::TrackingStatus> {
    p.tracking.as_ref().and_then(|t| t.status())
}

fn shipped_units(order: &Order) -> u64 {
    order
        .lines
        .iter()
        .map(|l| u64::from(l.fulfilment.shipped))
        .sum()
}
