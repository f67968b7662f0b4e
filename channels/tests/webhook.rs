//! Signature and credential checks with known-good and tampered bodies.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use ordersmith_channels::webhook::{
    ebay_challenge_response, shopify_signature, verify_api_key, verify_basic, verify_ebay,
    verify_shopify, verify_woocommerce, EbayPublicKey, Headers, Verified,
};
use p256::ecdsa::signature::hazmat::PrehashSigner;
use p256::ecdsa::{DerSignature, SigningKey};
use p256::pkcs8::EncodePublicKey;
use sha1::{Digest, Sha1};

const BODY: &[u8] = br#"{"id":820982911946154508,"email":"jon@example.com","total_price":"72.00"}"#;

fn code<T: std::fmt::Debug>(
    r: Result<T, ordersmith_channels::webhook::WebhookError>,
) -> &'static str {
    r.unwrap_err().code()
}

#[test]
fn shopify_known_good_and_tampered() {
    // Known-good vector, computed independently: base64(HMAC-SHA256("hush", BODY)).
    let sig = shopify_signature(b"hush", BODY);
    assert_eq!(sig.len(), 44);
    for name in [
        "X-Shopify-Hmac-SHA256",
        "x-shopify-hmac-sha256",
        "Shopify-Hmac-Sha256",
    ] {
        let h = Headers::new([(name, sig.as_str())]);
        assert_eq!(
            verify_shopify(&h, BODY, &[b"hush"]).unwrap(),
            Verified::Event,
            "{name}"
        );
    }
    let h = Headers::new([("X-Shopify-Hmac-Sha256", sig.as_str())]);
    // Forged (other secret), truncated, re-encoded (spaces added), one byte changed.
    assert_eq!(
        code(verify_shopify(&h, BODY, &[b"other"])),
        "WEBHOOK_UNAUTHENTICATED"
    );
    assert_eq!(
        code(verify_shopify(&h, &BODY[..BODY.len() - 1], &[b"hush"])),
        "WEBHOOK_UNAUTHENTICATED"
    );
    let reencoded = String::from_utf8(BODY.to_vec()).unwrap().replace(",", ", ");
    assert_eq!(
        code(verify_shopify(&h, reencoded.as_bytes(), &[b"hush"])),
        "WEBHOOK_UNAUTHENTICATED"
    );
    let mut flipped = BODY.to_vec();
    flipped[10] ^= 1;
    assert_eq!(
        code(verify_shopify(&h, &flipped, &[b"hush"])),
        "WEBHOOK_UNAUTHENTICATED"
    );
    // Header problems are typed before any comparison.
    assert_eq!(
        code(verify_shopify(&Headers::default(), BODY, &[b"hush"])),
        "WEBHOOK_MISSING_HEADER"
    );
    let bad = Headers::new([("X-Shopify-Hmac-SHA256", "not base64!")]);
    assert_eq!(
        code(verify_shopify(&bad, BODY, &[b"hush"])),
        "WEBHOOK_BAD_HEADER"
    );
    let short = Headers::new([("X-Shopify-Hmac-SHA256", "AAAA")]);
    assert_eq!(
        code(verify_shopify(&short, BODY, &[b"hush"])),
        "WEBHOOK_BAD_HEADER"
    );
    assert_eq!(code(verify_shopify(&h, BODY, &[])), "WEBHOOK_BAD_KEY");
}

#[test]
fn rfc4231_vector_matches() {
    // RFC 4231 test case 2: key "Jefe", data "what do ya want for nothing?".
    let sig = shopify_signature(b"Jefe", b"what do ya want for nothing?");
    let hex: String = B64
        .decode(sig)
        .unwrap()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(
        hex,
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
    );
}

#[test]
fn secret_rotation_accepts_old_and_new() {
    let old_sig = shopify_signature(b"old-secret", BODY);
    let new_sig = shopify_signature(b"new-secret", BODY);
    let secrets: [&[u8]; 2] = [b"new-secret", b"old-secret"];
    for sig in [&old_sig, &new_sig] {
        let h = Headers::new([("X-Shopify-Hmac-SHA256", sig.as_str())]);
        assert!(verify_shopify(&h, BODY, &secrets).is_ok());
    }
    let retired = Headers::new([("X-Shopify-Hmac-SHA256", old_sig.as_str())]);
    assert_eq!(
        code(verify_shopify(&retired, BODY, &[b"new-secret"])),
        "WEBHOOK_UNAUTHENTICATED"
    );
}

#[test]
fn woocommerce_signature_and_unsigned_ping() {
    let sig = shopify_signature(b"wc-secret", BODY);
    let h = Headers::new([
        ("x-wc-webhook-signature", sig.as_str()),
        ("X-WC-Webhook-Topic", "order.updated"),
    ]);
    assert_eq!(
        verify_woocommerce(&h, BODY, &[b"wc-secret"]).unwrap(),
        Verified::Event
    );
    assert_eq!(
        code(verify_woocommerce(&h, b"{\"id\":1}", &[b"wc-secret"])),
        "WEBHOOK_UNAUTHENTICATED"
    );
    assert_eq!(
        verify_woocommerce(&Headers::default(), b"webhook_id=15", &[b"wc-secret"]).unwrap(),
        Verified::Ping
    );
    // An unsigned order body is not a ping.
    assert_eq!(
        code(verify_woocommerce(
            &Headers::default(),
            BODY,
            &[b"wc-secret"]
        )),
        "WEBHOOK_MISSING_HEADER"
    );
    // A signed ping is checked like any body.
    let h = Headers::new([("X-WC-Webhook-Signature", sig.as_str())]);
    assert_eq!(
        code(verify_woocommerce(&h, b"webhook_id=15", &[b"wc-secret"])),
        "WEBHOOK_UNAUTHENTICATED"
    );
}

#[test]
fn basic_and_api_key_credentials() {
    let good = format!("Basic {}", B64.encode("seller:s3cret"));
    let h = Headers::new([("authorization", good.as_str())]);
    assert!(verify_basic("trendyol", &h, "seller", "s3cret").is_ok());
    assert!(verify_basic("hepsiburada", &h, "seller", "s3cret").is_ok());
    assert_eq!(
        code(verify_basic("trendyol", &h, "seller", "s3cret!")),
        "WEBHOOK_UNAUTHENTICATED"
    );
    assert_eq!(
        code(verify_basic("trendyol", &h, "seller", "")),
        "WEBHOOK_BAD_KEY"
    );
    let bearer = Headers::new([("Authorization", "Bearer abc")]);
    assert_eq!(
        code(verify_basic("trendyol", &bearer, "seller", "s3cret")),
        "WEBHOOK_BAD_HEADER"
    );
    let h = Headers::new([("X-API-KEY", "k-123")]);
    assert!(verify_api_key("trendyol", &h, "x-api-key", "k-123").is_ok());
    assert_eq!(
        code(verify_api_key("trendyol", &h, "x-api-key", "k-1234")),
        "WEBHOOK_UNAUTHENTICATED"
    );
    assert_eq!(
        code(verify_api_key(
            "trendyol",
            &Headers::default(),
            "x-api-key",
            "k"
        )),
        "WEBHOOK_MISSING_HEADER"
    );
}

fn ebay_fixture() -> (EbayPublicKey, SigningKey) {
    let signing = SigningKey::from_bytes(&[7u8; 32].into()).unwrap();
    let der = signing.verifying_key().to_public_key_der().unwrap();
    // eBay returns the PEM on one line; the verifier accepts either.
    let pem = format!(
        "-----BEGIN PUBLIC KEY-----{}-----END PUBLIC KEY-----",
        B64.encode(der.as_bytes())
    );
    (EbayPublicKey::from_pem(&pem).unwrap(), signing)
}

fn ebay_header(signing: &SigningKey, body: &[u8], kid: &str) -> String {
    let sig: DerSignature = signing.sign_prehash(&Sha1::digest(body)).unwrap();
    let json = format!(
        r#"{{"alg":"ecdsa","kid":"{kid}","signature":"{}","digest":"SHA1"}}"#,
        B64.encode(sig.as_bytes())
    );
    B64.encode(json)
}

#[test]
fn ebay_ecdsa_with_injected_key() {
    let (key, signing) = ebay_fixture();
    let body = br#"{"metadata":{"topic":"MARKETPLACE_ACCOUNT_DELETION"},"notification":{"notificationId":"n-1"}}"#;
    let header = ebay_header(&signing, body, "kid-1");
    let h = Headers::new([("x-ebay-signature", header.as_str())]);
    let keys = |kid: &str| (kid == "kid-1").then(|| key.clone());
    assert_eq!(verify_ebay(&h, body, keys).unwrap(), Verified::Event);
    assert_eq!(
        code(verify_ebay(&h, &body[..body.len() - 2], keys)),
        "WEBHOOK_UNAUTHENTICATED"
    );
    // Unknown key id: refused, not trusted.
    let other = ebay_header(&signing, body, "kid-2");
    assert_eq!(
        code(verify_ebay(
            &Headers::new([("X-EBAY-SIGNATURE", other.as_str())]),
            body,
            keys
        )),
        "WEBHOOK_UNAUTHENTICATED"
    );
    // Signed by another key.
    let forger = SigningKey::from_bytes(&[9u8; 32].into()).unwrap();
    let forged = ebay_header(&forger, body, "kid-1");
    assert_eq!(
        code(verify_ebay(
            &Headers::new([("X-EBAY-SIGNATURE", forged.as_str())]),
            body,
            keys
        )),
        "WEBHOOK_UNAUTHENTICATED"
    );
    // Malformed headers.
    for bad in [
        "%%%",
        "e30=",
        &B64.encode(r#"{"alg":"rsa","kid":"k","signature":"AA=="}"#),
    ] {
        let h = Headers::new([("X-EBAY-SIGNATURE", bad)]);
        assert_eq!(
            code(verify_ebay(&h, body, keys)),
            "WEBHOOK_BAD_HEADER",
            "{bad}"
        );
    }
    assert_eq!(
        EbayPublicKey::from_pem("-----BEGIN PUBLIC KEY-----AAAA-----END PUBLIC KEY-----")
            .unwrap_err()
            .code(),
        "WEBHOOK_BAD_KEY"
    );
}

/// eBay's SDKs verify over `JSON.stringify(JSON.parse(body))`: a body delivered
/// pretty-printed whose compact form was signed is accepted; a changed value is not.
#[test]
fn ebay_signature_over_the_compact_form_is_accepted_and_still_binds_the_content() {
    let (key, signing) = ebay_fixture();
    let compact = r#"{"metadata":{"topic":"ORDER_CONFIRMATION"},"notification":{"notificationId":"n-2","data":{"orderId":"12-3","note":"a\"b ü"}}}"#;
    let header = ebay_header(&signing, compact.as_bytes(), "kid-1");
    let h = Headers::new([("X-EBAY-SIGNATURE", header.as_str())]);
    let keys = |kid: &str| (kid == "kid-1").then(|| key.clone());
    let pretty = r#"{
  "metadata": { "topic": "ORDER_CONFIRMATION" },
  "notification": { "notificationId": "n-2", "data": { "orderId": "12-3", "note": "a\"b \u00fc" } }
}"#;
    assert_eq!(
        verify_ebay(&h, pretty.as_bytes(), keys).unwrap(),
        Verified::Event
    );
    let changed = pretty.replace("12-3", "12-4");
    assert_eq!(
        code(verify_ebay(&h, changed.as_bytes(), keys)),
        "WEBHOOK_UNAUTHENTICATED"
    );
    assert_eq!(
        code(verify_ebay(&h, b"not json", keys)),
        "WEBHOOK_UNAUTHENTICATED"
    );
}

#[test]
fn ebay_challenge_is_hex_sha256_of_the_three_parts() {
    let answer = ebay_challenge_response(
        "a8628072-3d33-45ee-9004-bee86830a22d",
        "71745723-d031-455c-bfa5-f90d11b4f20a",
        "https://www.testendpoint.com/webhook",
    );
    assert_eq!(answer.len(), 64);
    assert!(answer.bytes().all(|b| b.is_ascii_hexdigit()));
    assert_ne!(
        answer,
        ebay_challenge_response(
            "a8628072-3d33-45ee-9004-bee86830a22d",
            "71745723-d031-455c-bfa5-f90d11b4f20a",
            "https://www.testendpoint.com/webhook/"
        )
    );
}
