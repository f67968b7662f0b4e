//! Returns, claims and refunds that arrive on their own feeds, as [`ChannelEvent`]s.
//!
//! [`crate::intake::Intake::import_events`] reports each once, attaches it to the order
//! it concerns and turns a new claim or return into an RMA in the core's returns
//! workflow (reason read by [`crate::intake::return_reason`]); the event's `status` is
//! the channel's, read as its decision on the claim by
//! [`crate::intake::ClaimDecision::of_status`], which the RMA then follows.
//!
//! - **Trendyol** `getClaims` (a page `{"content": [...]}`, an array, or one claim):
//!   claim `id`, `orderNumber`, `claimDate` (epoch ms), `items[]` each with `orderLine`
//!   (`id`, `barcode`, `merchantSku`) and `claimItems[]` (one per unit, with
//!   `claimItemStatus.name` and `customerClaimItemReason.name`) (\[U\]: item shape from
//!   the integration guide's description, not a captured payload). The event's status
//!   is the units' distinct statuses joined with `,`: Created, WaitingInAction,
//!   WaitingFraudCheck, InAnalysis, Unresolved (undecided), Accepted, Rejected,
//!   Cancelled.
//! - **Hepsiburada** claims (`{"items": [...]}`, an array or one claim): `claimNumber`,
//!   `orderNumber`, `type`, `status`, `quantity`, `line.lineItemId`, `line.totalPrice`.
//!   Statuses (\[U\]: from a third-party SDK): NewRequest, AwaitingAction,
//!   AwaitingPreApproval, InDispute (undecided), Accepted, Refunded (accepted),
//!   Rejected, Cancelled.
//! - **eBay** Post-Order `return/search` (`{"members": [...]}`): `returnId`, `orderId`,
//!   `state` (or `status`), `creationInfo.item.{itemId, returnQuantity}`,
//!   `creationInfo.reason`. `itemId` is the listing (the order line's `legacyItemId`),
//!   not the order line's `lineItemId`: intake maps it to the line sold from it. Its
//!   states (RETURN_STARTED, ITEM_SHIPPED, ITEM_DELIVERED, CLOSED) are where the goods
//!   are, not a decision on the return: `CLOSED` ends one refunded or not.

use crate::error::ChannelError;
use crate::json::{At, Items, Json};
use crate::model::{Channel, ChannelEvent};

fn records<'a>(root: &At<'a>, keys: &[&str]) -> Result<Items<'a>, ChannelError> {
    if let Some(list) = root.first(keys) {
        return list.array();
    }
    match root.array() {
        Ok(list) => Ok(list),
        Err(_) => Ok(Items::one(*root)),
    }
}

fn trendyol(root: &At<'_>) -> Result<Vec<ChannelEvent>, ChannelError> {
    let mut out = Vec::new();
    for claim in records(root, &["content"])? {
        let id = claim.req("id")?.id_text()?;
        let order = claim.req("orderNumber")?.id_text()?;
        let mut lines = Vec::new();
        let mut statuses = Vec::new();
        let mut reason = None;
        for item in claim.list("items")? {
            let line = item.req("orderLine")?.req("id")?.id_text()?;
            let units = item.list("claimItems")?;
            for u in &units {
                if let Some(s) = u.get("claimItemStatus").and_then(|s| s.get("name")) {
                    let s = s.str()?.to_string();
                    if !statuses.contains(&s) {
                        statuses.push(s);
                    }
                }
                if reason.is_none() {
                    reason = match u.get("customerClaimItemReason") {
                        Some(r) => r.opt_text("name")?,
                        None => None,
                    };
                }
            }
            let count = u32::try_from(units.len()).unwrap_or(u32::MAX).max(1);
            lines.push((line, count));
        }
        out.push(ChannelEvent {
            kind: "claim".into(),
            order_external_id: Some(order),
            external_id: id,
            status: (!statuses.is_empty()).then(|| statuses.join(",")),
            amount: None,
            lines,
            reason,
            restock: false,
        });
    }
    Ok(out)
}

fn hepsiburada(root: &At<'_>) -> Result<Vec<ChannelEvent>, ChannelError> {
    let mut out = Vec::new();
    for claim in records(root, &["items", "Items"])? {
        let line = claim.req("line")?;
        let quantity = claim.req("quantity")?.quantity()?;
        let amount = match line.get("totalPrice") {
            Some(p) => Some(match p.get("amount") {
                Some(a) => a.decimal()?,
                None => p.decimal()?,
            }),
            None => None,
        };
        out.push(ChannelEvent {
            kind: claim
                .opt_text("type")?
                .map_or_else(|| "claim".to_string(), |t| t.to_ascii_lowercase()),
            order_external_id: Some(claim.req("orderNumber")?.id_text()?),
            external_id: claim.req("claimNumber")?.id_text()?,
            status: claim.opt_text("status")?,
            amount,
            lines: vec![(line.req("lineItemId")?.id_text()?, quantity)],
            reason: claim.opt_text("reason")?,
            restock: false,
        });
    }
    Ok(out)
}

fn ebay(root: &At<'_>) -> Result<Vec<ChannelEvent>, ChannelError> {
    let mut out = Vec::new();
    for ret in records(root, &["members"])? {
        let info = ret.get("creationInfo");
        let item = info.as_ref().and_then(|i| i.get("item"));
        let line = match &item {
            Some(i) => {
                let id = i.opt_text("itemId")?.unwrap_or_default();
                let q = match i.get("returnQuantity") {
                    Some(q) => q.quantity()?,
                    None => 1,
                };
                vec![(id, q)]
            }
            None => Vec::new(),
        };
        out.push(ChannelEvent {
            kind: "return".into(),
            order_external_id: Some(ret.req("orderId")?.id_text()?),
            external_id: ret.req("returnId")?.id_text()?,
            status: ret.opt_text_first(&["state", "status"])?,
            amount: None,
            lines: line,
            reason: match &info {
                Some(i) => i.opt_text("reason")?,
                None => None,
            },
            restock: false,
        });
    }
    Ok(out)
}

/// Parses a claims / returns feed of `channel` (Trendyol, Hepsiburada or eBay; other
/// channels report refunds inside their order payloads and return an empty list).
pub fn parse_events(channel: Channel, body: &[u8]) -> Result<Vec<ChannelEvent>, ChannelError> {
    let name = channel.as_str();
    if body.len() > super::MAX_PAYLOAD_BYTES {
        return Err(ChannelError::PayloadTooLarge {
            channel: name,
            bytes: body.len(),
            max: super::MAX_PAYLOAD_BYTES,
        });
    }
    let json = Json::parse(body).map_err(|e| ChannelError::MalformedJson {
        channel: name,
        offset: e.offset,
        reason: e.reason,
    })?;
    let root = At::root(&json, name);
    match channel {
        Channel::Trendyol => trendyol(&root),
        Channel::Hepsiburada => hepsiburada(&root),
        Channel::Ebay => ebay(&root),
        _ => Ok(Vec::new()),
    }
}
