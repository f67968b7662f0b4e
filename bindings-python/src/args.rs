//! Argument conversion for every method: each argument type names its argument, so a
//! value of the wrong type or range raises `ordersmith.EngineInputError` (code
//! `ENGINE_INVALID_INPUT`, `details["field"]` the argument's name), never a bare
//! `TypeError` or `OverflowError` from pyo3.
//!
//! pyo3 hands an extractor only the value, not the argument's name, so the name travels
//! in the type: `quantity: Int<u32, names::quantity>`. What is accepted follows the stub
//! (`_native.pyi`), so code that passes `mypy --strict` does not fail at run time:
//! - `int`: any object with `__index__` (Python ints, numpy and pandas integer scalars),
//!   but not `bool` and not `float`;
//! - `str`: `str` (and subclasses);
//! - `Mapping[str, int]`: any `collections.abc.Mapping` (a dict, a `MappingProxyType`,
//!   a pandas Series' `to_dict()`, ...);
//! - `Sequence[str]`: any iterable of `str` except a bare `str`;
//! - paths: `str` or `os.PathLike`;
//! - `bytes`: `bytes` or `bytearray` (a webhook body exactly as received; a `str` is
//!   refused, since re-encoding it could change the bytes a signature covers);
//! - `Mapping[str, str]`: any `collections.abc.Mapping` of `str` to `str`.

use std::collections::BTreeMap;
use std::marker::PhantomData;
use std::path::PathBuf;

use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyBool, PyFloat, PyInt, PyMapping, PyString};

use crate::errors::invalid_input;

/// An argument's name, carried by a zero-sized type.
pub(crate) trait ArgName {
    /// The name as Python spells it.
    const NAME: &'static str;
}

macro_rules! arg_names {
    ($($name:ident,)*) => {
        /// One type per argument name.
        #[allow(non_camel_case_types)]
        pub(crate) mod names {
            $(
                #[doc = concat!("The argument `", stringify!($name), "`.")]
                pub(crate) struct $name;
                impl super::ArgName for $name {
                    const NAME: &'static str = stringify!($name);
                }
            )*
        }
    };
}

arg_names! {
        after,
        api_key,
        barcode,
        body,
        failed_keys,
        header,
        headers,
        import_marketplace_fulfilled,
        import_test_orders,
        inventory_item_id,
        location_id,
        mapping_json,
        marketplace_id,
        password,
        product_type,
        offer_ids,
        fulfilled_by_marketplace,
        public_keys,
        request_id,
        secrets,
        seller_id,
        target,
        username,
        variant,
        variant_id,
        page_size,
        actor,
        add,
        allow_split,
        backorder_limit,
        buffer,
        bundle,
        channel,
        carrier,
        components,
        counted,
        fulfilment,
        height_mm,
        label_ref,
        length_mm,
        parcel,
        service,
        short_pick,
        refund_shipping,
        provider,
        provider_ref,
        payment,
        method,
        overrides,
        code,
        locale,
        tracking_number,
        weight_grams,
        width_mm,
        currency,
        delta,
        from_,
        id,
        idempotency_key,
        kind,
        lead_time_days,
        limit,
        location,
        locations,
        json,
        currencies,
        carrier_services,
        weights_grams,
        name,
        note,
        on_shortage,
        on_reservation_expiry,
        payment_stops_reservation_clock,
        order_id,
        order_ids,
        path,
        policy,
        pool_size,
        priority,
        quantities,
        quantity,
        reason,
        reference,
        region,
        remove,
        reserve_on_confirm,
        review_period_days,
        schema,
        share_percent,
        since,
        sku,
        skus,
        sourcing,
        status,
        synchronous,
        threshold,
        to,
        units,
        url,
        window_days,
        number,
        shipment,
        rma,
        resolution,
        customer_id,
}

static INDEX: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

fn type_name(value: &Borrowed<'_, '_, PyAny>) -> String {
    value
        .get_type()
        .name()
        .map(|n| n.to_string())
        .unwrap_or_else(|_| "?".into())
}

/// A Python integer as `i128`: `int`, or anything with `__index__` (numpy, pandas);
/// `None` for bools, floats and everything else.
pub(crate) fn index_value(value: &Bound<'_, PyAny>) -> PyResult<Option<i128>> {
    if value.is_instance_of::<PyBool>() || value.is_instance_of::<PyFloat>() {
        return Ok(None);
    }
    if value.is_instance_of::<PyInt>() {
        return Ok(value.extract::<i128>().ok().or(Some(i128::MAX)));
    }
    if !value.hasattr("__index__")? {
        return Ok(None);
    }
    let index = INDEX.import(value.py(), "operator", "index")?;
    match index.call1((value,)) {
        Ok(int) => Ok(int.extract::<i128>().ok().or(Some(i128::MAX))),
        Err(_) => Ok(None),
    }
}

/// An integer argument of type `T` (`u32`, `usize`, `i64`, ...).
pub(crate) struct Int<T, N>(pub(crate) T, PhantomData<N>);

impl<'a, 'py, T, N> FromPyObject<'a, 'py> for Int<T, N>
where
    T: TryFrom<i128> + num_bounds::Bounds,
    N: ArgName,
{
    type Error = PyErr;

    fn extract(obj: Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        int_value::<T>(&obj.to_owned(), N::NAME).map(|v| Int(v, PhantomData))
    }
}

/// The bounds of the integer types arguments use, for messages.
pub(crate) mod num_bounds {
    /// The range of an integer type.
    pub(crate) trait Bounds {
        /// Smallest value.
        const MIN: i128;
        /// Largest value.
        const MAX: i128;
    }
    macro_rules! bounds {
        ($($t:ty),*) => {$(
            impl Bounds for $t {
                const MIN: i128 = <$t>::MIN as i128;
                const MAX: i128 = <$t>::MAX as i128;
            }
        )*};
    }
    bounds!(u8, u32, u64, usize, i64);
}

fn range_text<T: num_bounds::Bounds>() -> String {
    format!("expected an int from {} to {}", T::MIN, T::MAX)
}

/// A `str` argument.
pub(crate) struct Text<N>(pub(crate) String, PhantomData<N>);

impl<N> Text<N> {
    /// The text.
    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }
}

impl<'a, 'py, N: ArgName> FromPyObject<'a, 'py> for Text<N> {
    type Error = PyErr;

    fn extract(obj: Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        match obj.cast::<PyString>() {
            Ok(s) => Ok(Text(s.extract::<String>()?, PhantomData)),
            Err(_) => Err(invalid_input(
                obj.py(),
                N::NAME,
                &format!("expected a str, not {}", type_name(&obj)),
            )),
        }
    }
}

/// A `bool` argument (also numpy's `bool_`).
pub(crate) struct Flag<N>(pub(crate) bool, PhantomData<N>);

impl<'a, 'py, N: ArgName> FromPyObject<'a, 'py> for Flag<N> {
    type Error = PyErr;

    fn extract(obj: Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        obj.extract::<bool>()
            .map(|b| Flag(b, PhantomData))
            .map_err(|_| {
                invalid_input(
                    obj.py(),
                    N::NAME,
                    &format!("expected a bool, not {}", type_name(&obj)),
                )
            })
    }
}

/// A path argument: `str` or `os.PathLike`.
pub(crate) struct PathArg<N>(pub(crate) PathBuf, PhantomData<N>);

impl<'a, 'py, N: ArgName> FromPyObject<'a, 'py> for PathArg<N> {
    type Error = PyErr;

    fn extract(obj: Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        obj.extract::<PathBuf>()
            .map(|p| PathArg(p, PhantomData))
            .map_err(|_| {
                invalid_input(
                    obj.py(),
                    N::NAME,
                    &format!("expected a str or os.PathLike, not {}", type_name(&obj)),
                )
            })
    }
}

/// A `Sequence[str]` argument: any iterable of `str` but a bare `str`.
pub(crate) struct TextList<N>(pub(crate) Vec<String>, PhantomData<N>);

impl<N> Default for TextList<N> {
    fn default() -> Self {
        TextList(Vec::new(), PhantomData)
    }
}

impl<'a, 'py, N: ArgName> FromPyObject<'a, 'py> for TextList<N> {
    type Error = PyErr;

    fn extract(obj: Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        let py = obj.py();
        let wrong = || {
            invalid_input(
                py,
                N::NAME,
                &format!("expected a sequence of str, not {}", type_name(&obj)),
            )
        };
        if obj.is_instance_of::<PyString>() {
            return Err(wrong());
        }
        let mut out = Vec::new();
        for (i, item) in obj.try_iter().map_err(|_| wrong())?.enumerate() {
            let item = item?;
            let text = item.cast::<PyString>().map_err(|_| {
                invalid_input(
                    py,
                    &format!("{}[{i}]", N::NAME),
                    &format!("expected a str, not {}", type_name(&item.as_borrowed())),
                )
            })?;
            out.push(text.extract::<String>()?);
        }
        Ok(TextList(out, PhantomData))
    }
}

/// A `Mapping[str, int]` argument, keys in order.
pub(crate) struct Counts<T, N>(pub(crate) BTreeMap<String, T>, PhantomData<N>);

impl<'a, 'py, T, N> FromPyObject<'a, 'py> for Counts<T, N>
where
    T: TryFrom<i128> + num_bounds::Bounds,
    N: ArgName,
{
    type Error = PyErr;

    fn extract(obj: Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        let pairs = mapping_items(&obj.to_owned(), N::NAME)?;
        let mut out = BTreeMap::new();
        for (key, value) in pairs {
            let field = format!("{}[{key:?}]", N::NAME);
            let n = int_value::<T>(&value, &field)?;
            out.insert(key, n);
        }
        Ok(Counts(out, PhantomData))
    }
}

/// An int of type `T` read from `value`, errors naming `field`.
pub(crate) fn int_value<T: TryFrom<i128> + num_bounds::Bounds>(
    value: &Bound<'_, PyAny>,
    field: &str,
) -> PyResult<T> {
    let py = value.py();
    let range = range_text::<T>;
    let Some(i) = index_value(value)? else {
        return Err(invalid_input(
            py,
            field,
            &format!("{}, not {}", range(), type_name(&value.as_borrowed())),
        ));
    };
    T::try_from(i).map_err(|_| invalid_input(py, field, &format!("{}, got {i}", range())))
}

/// The `(str key, value)` pairs of any `collections.abc.Mapping`, errors naming `field`.
pub(crate) fn mapping_items<'py>(
    value: &Bound<'py, PyAny>,
    field: &str,
) -> PyResult<Vec<(String, Bound<'py, PyAny>)>> {
    let py = value.py();
    let mapping = value.cast::<PyMapping>().map_err(|_| {
        invalid_input(
            py,
            field,
            &format!(
                "expected a mapping, not {}",
                type_name(&value.as_borrowed())
            ),
        )
    })?;
    let mut out = Vec::new();
    for item in mapping.items()?.iter() {
        let (key, v): (Bound<'py, PyAny>, Bound<'py, PyAny>) = item.extract()?;
        let key = key
            .cast::<PyString>()
            .map_err(|_| invalid_input(py, field, "keys must be str"))?
            .extract::<String>()?;
        out.push((key, v));
    }
    Ok(out)
}

/// A `bytes` argument: `bytes` or `bytearray`.
pub(crate) struct RawBytes<N>(pub(crate) Vec<u8>, PhantomData<N>);

impl<'a, 'py, N: ArgName> FromPyObject<'a, 'py> for RawBytes<N> {
    type Error = PyErr;

    fn extract(obj: Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        if let Ok(b) = obj.cast::<pyo3::types::PyBytes>() {
            return Ok(RawBytes(b.as_bytes().to_vec(), PhantomData));
        }
        if let Ok(b) = obj.cast::<pyo3::types::PyByteArray>() {
            return Ok(RawBytes(b.to_vec(), PhantomData));
        }
        Err(invalid_input(
            obj.py(),
            N::NAME,
            &format!(
                "expected bytes (the body exactly as received), not {}",
                type_name(&obj)
            ),
        ))
    }
}

/// A `Mapping[str, str]` argument, pairs in the mapping's order.
pub(crate) struct TextMap<N>(pub(crate) Vec<(String, String)>, PhantomData<N>);

impl<N> Default for TextMap<N> {
    fn default() -> Self {
        TextMap(Vec::new(), PhantomData)
    }
}

impl<'a, 'py, N: ArgName> FromPyObject<'a, 'py> for TextMap<N> {
    type Error = PyErr;

    fn extract(obj: Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        let py = obj.py();
        let mut out = Vec::new();
        for (key, value) in mapping_items(&obj.to_owned(), N::NAME)? {
            let text = value.cast::<PyString>().map_err(|_| {
                invalid_input(
                    py,
                    &format!("{}[{key:?}]", N::NAME),
                    &format!("expected a str, not {}", type_name(&value.as_borrowed())),
                )
            })?;
            out.push((key, text.extract::<String>()?));
        }
        Ok(TextMap(out, PhantomData))
    }
}
