//! Webhook authentication, before anything is parsed.
//!
//! | channel | scheme | header |
//! |---|---|---|
//! | Shopify | base64 HMAC-SHA256 of the raw body, app secret | `X-Shopify-Hmac-SHA256` (or `Shopify-Hmac-Sha256`) |
//! | WooCommerce | base64 HMAC-SHA256 of the raw body, webhook secret; unsigned `webhook_id=N` ping on creation | `X-WC-Webhook-Signature` |
//! | eBay | ECDSA (P-256) with SHA-1 digest over the raw body, or over the same JSON written compactly as eBay's SDKs re-serialise it; public key by `kid` | `X-EBAY-SIGNATURE` (base64 JSON `{alg, kid, signature, digest}`) |
//! | Trendyol | Basic credentials you chose, or an API key | `Authorization` / `x-api-key` |
//! | Hepsiburada | Basic credentials given by ticket | `Authorization` |
//!
//! Header names are matched without regard to case. Every secret comparison is in
//! constant time (HMAC verification, `subtle` for credentials). Several secrets can be
//! given during a rotation: the body is authentic if any of them signed it. A body
//! that was re-encoded (whitespace, key order, escapes) no longer matches its signature:
//! verify the bytes exactly as received.
//!
//! ```
//! use ordersmith_channels::webhook::{shopify_signature, verify_shopify, Headers};
//!
//! let body = br#"{"id":1}"#;
//! let sig = shopify_signature(b"secret", body);
//! let headers = Headers::new([("x-shopify-hmac-sha256", sig.as_str())]);
//! assert!(verify_shopify(&headers, body, &[b"secret"]).is_ok());
//! let err = verify_shopify(&headers, br#"{"id": 1}"#, &[b"secret"]).unwrap_err();
//! assert_eq!(err.code(), "WEBHOOK_UNAUTHENTICATED");
//! ```

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use ordersmith::errors::{ErrorKind, OrdersmithError};
use p256::ecdsa::signature::hazmat::PrehashVerifier;
use p256::ecdsa::{DerSignature, VerifyingKey};
use p256::pkcs8::DecodePublicKey;
use serde::Serialize;
use sha1::Sha1;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::json::{At, Json};

/// Longest header value read (a signature header is far shorter).
const MAX_HEADER_LEN: usize = 4096;

/// Why a delivery is not authentic. Nothing was parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize)]
#[serde(untagged)]
pub enum WebhookError {
    /// The authentication header is absent.
    #[error("{channel}: header {header} is missing")]
    MissingHeader {
        /// The channel.
        channel: &'static str,
        /// The header expected.
        header: &'static str,
    },
    /// The header is present but not in the channel's format.
    #[error("{channel}: header {header} is malformed: {reason}")]
    BadHeader {
        /// The channel.
        channel: &'static str,
        /// The header.
        header: &'static str,
        /// Why.
        reason: &'static str,
    },
    /// The signature or credentials do not match: forged, tampered, truncated or
    /// re-encoded body, or wrong secret.
    #[error("{channel}: the signature or credentials do not match")]
    Unauthenticated {
        /// The channel.
        channel: &'static str,
    },
    /// A key or secret given to the verifier is unusable.
    #[error("{channel}: the verification key is unusable: {reason}")]
    BadKey {
        /// The channel.
        channel: &'static str,
        /// Why.
        reason: &'static str,
    },
}

impl WebhookError {
    /// Every code this enum returns.
    pub const CODES: &'static [&'static str] = &[
        "WEBHOOK_MISSING_HEADER",
        "WEBHOOK_BAD_HEADER",
        "WEBHOOK_UNAUTHENTICATED",
        "WEBHOOK_BAD_KEY",
    ];

    /// The stable code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::MissingHeader { .. } => "WEBHOOK_MISSING_HEADER",
            Self::BadHeader { .. } => "WEBHOOK_BAD_HEADER",
            Self::Unauthenticated { .. } => "WEBHOOK_UNAUTHENTICATED",
            Self::BadKey { .. } => "WEBHOOK_BAD_KEY",
        }
    }
}

impl OrdersmithError for WebhookError {
    fn code(&self) -> &'static str {
        WebhookError::code(self)
    }
    fn kind(&self) -> ErrorKind {
        crate::error::kind_of(self.code())
    }
}

/// Request headers, looked up without regard to case.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Headers(Vec<(String, String)>);

impl Headers {
    /// Headers from (name, value) pairs.
    pub fn new<K: Into<String>, V: Into<String>>(pairs: impl IntoIterator<Item = (K, V)>) -> Self {
        Headers(
            pairs
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        )
    }

    /// The first value of `name` (any case).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn require(&self, channel: &'static str, names: &[&'static str]) -> Result<&str, WebhookError> {
        let header = names.first().copied().unwrap_or("?");
        let value = names
            .iter()
            .find_map(|n| self.get(n))
            .ok_or(WebhookError::MissingHeader { channel, header })?;
        if value.len() > MAX_HEADER_LEN {
            return Err(WebhookError::BadHeader {
                channel,
                header,
                reason: "too long",
            });
        }
        Ok(value.trim())
    }
}

/// What an authentic delivery is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verified {
    /// A signed (or authenticated) event: parse it.
    Event,
    /// WooCommerce's unsigned creation ping: answer 200, parse nothing.
    Ping,
}

type HmacSha256 = Hmac<Sha256>;

fn hmac_matches(
    channel: &'static str,
    header: &'static str,
    signature_b64: &str,
    body: &[u8],
    secrets: &[&[u8]],
) -> Result<(), WebhookError> {
    let signature = B64
        .decode(signature_b64)
        .map_err(|_| WebhookError::BadHeader {
            channel,
            header,
            reason: "not base64",
        })?;
    if signature.len() != 32 {
        return Err(WebhookError::BadHeader {
            channel,
            header,
            reason: "not a SHA-256 digest",
        });
    }
    if secrets.is_empty() || secrets.iter().any(|s| s.is_empty()) {
        return Err(WebhookError::BadKey {
            channel,
            reason: "no secret, or an empty one",
        });
    }
    let mut ok = false;
    for secret in secrets {
        let mut mac = HmacSha256::new_from_slice(secret).map_err(|_| WebhookError::BadKey {
            channel,
            reason: "unusable HMAC key",
        })?;
        mac.update(body);
        // `verify_slice` compares in constant time; every secret is tried, so the time
        // does not tell which one matched.
        ok |= mac.verify_slice(&signature).is_ok();
    }
    if ok {
        Ok(())
    } else {
        Err(WebhookError::Unauthenticated { channel })
    }
}

/// base64 HMAC-SHA256 of `body` with `secret`: what Shopify and WooCommerce send (for
/// tests and for hosts that forward deliveries).
pub fn shopify_signature(secret: &[u8], body: &[u8]) -> String {
    let mut mac = match HmacSha256::new_from_slice(secret) {
        Ok(m) => m,
        Err(_) => return String::new(),
    };
    mac.update(body);
    B64.encode(mac.finalize().into_bytes())
}

/// Verifies a Shopify delivery against the current secret and, during a rotation, the
/// previous one.
pub fn verify_shopify(
    headers: &Headers,
    body: &[u8],
    secrets: &[&[u8]],
) -> Result<Verified, WebhookError> {
    const H: &str = "X-Shopify-Hmac-SHA256";
    let sig = headers.require("shopify", &[H, "Shopify-Hmac-Sha256"])?;
    hmac_matches("shopify", H, sig, body, secrets).map(|()| Verified::Event)
}

/// Verifies a WooCommerce delivery. The unsigned creation ping (`webhook_id=N`, no
/// signature header) is [`Verified::Ping`]; any other unsigned body is refused.
pub fn verify_woocommerce(
    headers: &Headers,
    body: &[u8],
    secrets: &[&[u8]],
) -> Result<Verified, WebhookError> {
    const H: &str = "X-WC-Webhook-Signature";
    match headers.get(H) {
        None if crate::adapters::woo::is_ping(body) => Ok(Verified::Ping),
        _ => {
            let sig = headers.require("woo_commerce", &[H])?;
            hmac_matches("woo_commerce", H, sig, body, secrets).map(|()| Verified::Event)
        }
    }
}

fn ct_equal(a: &[u8], b: &[u8]) -> bool {
    // Hash first so the comparison takes the same time whatever the lengths.
    let ha: [u8; 32] = Sha256::digest(a).into();
    let hb: [u8; 32] = Sha256::digest(b).into();
    bool::from(ha.ct_eq(&hb))
}

/// Verifies HTTP Basic credentials (Trendyol, Hepsiburada), in constant time.
pub fn verify_basic(
    channel: &'static str,
    headers: &Headers,
    username: &str,
    password: &str,
) -> Result<Verified, WebhookError> {
    const H: &str = "Authorization";
    if username.is_empty() || password.is_empty() {
        return Err(WebhookError::BadKey {
            channel,
            reason: "empty username or password",
        });
    }
    let value = headers.require(channel, &[H])?;
    let (scheme, encoded) = value.split_once(' ').ok_or(WebhookError::BadHeader {
        channel,
        header: H,
        reason: "expected \"Basic <credentials>\"",
    })?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return Err(WebhookError::BadHeader {
            channel,
            header: H,
            reason: "not Basic authentication",
        });
    }
    let given = B64
        .decode(encoded.trim())
        .map_err(|_| WebhookError::BadHeader {
            channel,
            header: H,
            reason: "credentials are not base64",
        })?;
    let expected = format!("{username}:{password}");
    if ct_equal(&given, expected.as_bytes()) {
        Ok(Verified::Event)
    } else {
        Err(WebhookError::Unauthenticated { channel })
    }
}

/// Verifies an API key header (Trendyol's `x-api-key` option), in constant time.
pub fn verify_api_key(
    channel: &'static str,
    headers: &Headers,
    header: &'static str,
    expected: &str,
) -> Result<Verified, WebhookError> {
    if expected.is_empty() {
        return Err(WebhookError::BadKey {
            channel,
            reason: "empty API key",
        });
    }
    let given = headers.require(channel, &[header])?;
    if ct_equal(given.as_bytes(), expected.as_bytes()) {
        Ok(Verified::Event)
    } else {
        Err(WebhookError::Unauthenticated { channel })
    }
}

/// An eBay notification public key (from `getPublicKey`, injected by the host, which
/// caches it about an hour).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EbayPublicKey(VerifyingKey);

impl EbayPublicKey {
    /// Reads a PEM (`-----BEGIN PUBLIC KEY-----`, with or without line breaks, as
    /// eBay returns it) or bare base64 SubjectPublicKeyInfo.
    pub fn from_pem(pem: &str) -> Result<Self, WebhookError> {
        let bad = |reason| WebhookError::BadKey {
            channel: "ebay",
            reason,
        };
        let body: String = pem
            .replace("-----BEGIN PUBLIC KEY-----", "")
            .replace("-----END PUBLIC KEY-----", "")
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect();
        let der = B64.decode(body).map_err(|_| bad("not base64 PEM"))?;
        VerifyingKey::from_public_key_der(&der)
            .map(EbayPublicKey)
            .map_err(|_| bad("not a P-256 public key"))
    }
}

/// The parts of `X-EBAY-SIGNATURE`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EbaySignatureHeader {
    /// Key id, to fetch the public key.
    pub kid: String,
    /// DER signature bytes.
    pub signature: Vec<u8>,
}

/// Decodes `X-EBAY-SIGNATURE` (base64 JSON `{alg: "ecdsa", kid, signature, digest: "SHA1"}`).
pub fn ebay_signature_header(headers: &Headers) -> Result<EbaySignatureHeader, WebhookError> {
    const H: &str = "X-EBAY-SIGNATURE";
    let bad = |reason| WebhookError::BadHeader {
        channel: "ebay",
        header: H,
        reason,
    };
    let value = headers.require("ebay", &[H])?;
    let json = B64.decode(value).map_err(|_| bad("not base64"))?;
    let parsed = Json::parse(&json).map_err(|_| bad("not base64 JSON"))?;
    let at = At::root(&parsed, "ebay");
    let field = |k: &str| at.get(k).and_then(|v| v.str().ok().map(str::to_string));
    let alg = field("alg").ok_or(bad("no alg"))?;
    if !alg.eq_ignore_ascii_case("ecdsa") {
        return Err(bad("alg is not ecdsa"));
    }
    if let Some(d) = field("digest") {
        if !d.eq_ignore_ascii_case("sha1") {
            return Err(bad("digest is not SHA1"));
        }
    }
    let kid = field("kid").ok_or(bad("no kid"))?;
    let signature = B64
        .decode(field("signature").ok_or(bad("no signature"))?)
        .map_err(|_| bad("signature is not base64"))?;
    Ok(EbaySignatureHeader { kid, signature })
}

/// Verifies an eBay notification: `key_for(kid)` returns the injected public key for
/// the header's key id (`None`: refused as unauthenticated).
pub fn verify_ebay(
    headers: &Headers,
    body: &[u8],
    key_for: impl Fn(&str) -> Option<EbayPublicKey>,
) -> Result<Verified, WebhookError> {
    let header = ebay_signature_header(headers)?;
    let unauth = WebhookError::Unauthenticated { channel: "ebay" };
    let key = key_for(&header.kid).ok_or(unauth.clone())?;
    let sig = DerSignature::from_bytes(&header.signature).map_err(|_| WebhookError::BadHeader {
        channel: "ebay",
        header: "X-EBAY-SIGNATURE",
        reason: "signature is not DER ECDSA",
    })?;
    let verifies = |bytes: &[u8]| key.0.verify_prehash(&Sha1::digest(bytes), &sig).is_ok();
    if verifies(body) {
        return Ok(Verified::Event);
    }
    // eBay's official SDKs verify over the notification re-serialised compactly
    // (`JSON.stringify(JSON.parse(body))`), and no eBay page says which bytes are
    // signed: the same content in that form is accepted too. A body that is not JSON
    // has no such form.
    match Json::parse(body) {
        Ok(json) => {
            let compact = json.to_compact();
            if compact.as_bytes() != body && verifies(compact.as_bytes()) {
                Ok(Verified::Event)
            } else {
                Err(unauth)
            }
        }
        Err(_) => Err(unauth),
    }
}

/// eBay's endpoint validation answer: hex SHA-256 of challenge code, verification
/// token and endpoint URL, concatenated.
pub fn ebay_challenge_response(
    challenge_code: &str,
    verification_token: &str,
    endpoint: &str,
) -> String {
    let mut h = Sha256::new();
    h.update(challenge_code.as_bytes());
    h.update(verification_token.as_bytes());
    h.update(endpoint.as_bytes());
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}
