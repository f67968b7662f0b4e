//! Bundles (kits): variants sold as a set of components, with derived availability.

use std::collections::HashSet;

use crate::ids::{LocationId, VariantId};

use super::error::StockError;
use super::ledger::{Bundle, StockLedger};
use super::limits;

impl StockLedger {
    /// Defines a bundle from registered component variants and units per bundle. The
    /// bundle id must not be a registered variant; components must not be bundles, must
    /// be distinct, and need at least one unit each. Defining the same bundle again is a
    /// no-op; a different definition for the same id is [`StockError::AlreadyExists`].
    pub fn define_bundle(
        &mut self,
        bundle: VariantId,
        components: Vec<(VariantId, u32)>,
    ) -> Result<(), StockError> {
        let invalid = |reason| StockError::InvalidBundle {
            bundle: bundle.clone(),
            reason,
        };
        if components.is_empty() {
            return Err(invalid("a bundle needs at least one component"));
        }
        if components.len() > limits::MAX_BUNDLE_COMPONENTS {
            return Err(StockError::TooMany {
                what: "bundle components",
                count: components.len(),
                max: limits::MAX_BUNDLE_COMPONENTS,
            });
        }
        if self.slot_of(&bundle).is_some() {
            return Err(invalid("the bundle id is already a stocked variant"));
        }
        let mut seen = HashSet::new();
        for (component, per) in &components {
            if *per == 0 || *per > limits::MAX_QUANTITY {
                return Err(StockError::InvalidQuantity {
                    quantity: i64::from(*per),
                    max: limits::MAX_QUANTITY,
                });
            }
            if *component == bundle || self.bundles.contains_key(component) {
                return Err(invalid("a component cannot be a bundle"));
            }
            if self.slot_of(component).is_none() {
                return Err(StockError::UnknownVariant {
                    variant: component.clone(),
                });
            }
            if !seen.insert(component) {
                return Err(invalid("a component is listed twice"));
            }
        }
        match self.bundles.get(&bundle) {
            Some(existing) if existing.components == components => Ok(()),
            Some(_) => Err(StockError::AlreadyExists {
                what: "bundle",
                id: bundle.to_string(),
            }),
            None => {
                self.bundles
                    .insert(bundle.clone(), Bundle { bundle, components });
                Ok(())
            }
        }
    }

    /// The bundle's definition, if `bundle` is one.
    pub fn bundle(&self, bundle: &VariantId) -> Option<&Bundle> {
        self.bundles.get(bundle)
    }

    /// Every defined bundle, in no particular order.
    pub fn bundles(&self) -> impl Iterator<Item = &Bundle> {
        self.bundles.values()
    }

    /// Bundles that can be sold at a location: the minimum over components of
    /// `floor(sellable / units per bundle)`.
    pub fn bundle_available(
        &self,
        bundle: &VariantId,
        location: &LocationId,
    ) -> Result<u64, StockError> {
        let def = self
            .bundles
            .get(bundle)
            .ok_or_else(|| StockError::UnknownVariant {
                variant: bundle.clone(),
            })?;
        self.check_location(location)?;
        Ok(self.bundle_sellable(def, location))
    }

    pub(super) fn bundle_sellable(&self, def: &Bundle, location: &LocationId) -> u64 {
        def.components
            .iter()
            .map(|(component, per)| {
                self.sellable(component, location)
                    .checked_div(u64::from(*per))
                    .unwrap_or(0)
            })
            .min()
            .unwrap_or(0)
    }

    /// Bundles sellable over every location (summed per location, since a bundle
    /// ships from one place).
    pub fn bundle_total_sellable(&self, bundle: &VariantId) -> u64 {
        let Some(def) = self.bundles.get(bundle) else {
            return 0;
        };
        self.locations
            .keys()
            .map(|l| self.bundle_sellable(def, l))
            .fold(0u64, u64::saturating_add)
    }
}
