//! The uniffi generator, built from this workspace so it always matches the `uniffi`
//! version the library was compiled with (PyPI's `uniffi-bindgen` lags behind).
fn main() {
    uniffi::uniffi_bindgen_main()
}
