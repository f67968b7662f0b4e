//! The message texts shipped with ordersmith, in English and Turkish.
//!
//! Each (stage, locale) has a subject (the e-mail subject and the push title), an
//! e-mail body and a short body (for SMS and push). They are plain UTF-8 text with
//! named `{variables}`; [`super::TemplateSet::shipped`] loads them through the same
//! checks as a host's own templates, so a typo here fails the tests, never a customer.

use super::{Locale, TemplateKey};

/// One stage's texts in one locale.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShippedText {
    /// The stage.
    pub key: TemplateKey,
    /// The language.
    pub locale: Locale,
    /// E-mail subject and push title.
    pub subject: &'static str,
    /// E-mail body.
    pub email_body: &'static str,
    /// SMS text and push body.
    pub short_body: &'static str,
}

const fn text(
    key: TemplateKey,
    locale: Locale,
    subject: &'static str,
    email_body: &'static str,
    short_body: &'static str,
) -> ShippedText {
    ShippedText {
        key,
        locale,
        subject,
        email_body,
        short_body,
    }
}

use Locale::{En, Tr};
use TemplateKey::*;

/// Every shipped text: each stage in English and Turkish.
pub const SHIPPED: &[ShippedText] = &[
    // order_received
    text(
        OrderReceived,
        En,
        "We received your order {order_ref}",
        "Hello {customer_name},\n\nThank you for your order. We have received order {order_ref} and will let you know as soon as it is confirmed.",
        "We received your order {order_ref}. We will let you know when it is confirmed.",
    ),
    text(
        OrderReceived,
        Tr,
        "{order_ref} numaralı siparişinizi aldık",
        "Merhaba {customer_name},\n\nSiparişiniz için teşekkür ederiz. {order_ref} numaralı siparişinizi aldık; onaylandığında size haber vereceğiz.",
        "{order_ref} numaralı siparişinizi aldık. Onaylandığında size haber vereceğiz.",
    ),
    // order_confirmed
    text(
        OrderConfirmed,
        En,
        "Your order {order_ref} is confirmed",
        "Hello {customer_name},\n\nGood news: your order {order_ref} is confirmed and we are preparing it.",
        "Your order {order_ref} is confirmed.",
    ),
    text(
        OrderConfirmed,
        Tr,
        "{order_ref} numaralı siparişiniz onaylandı",
        "Merhaba {customer_name},\n\n{order_ref} numaralı siparişiniz onaylandı ve hazırlanıyor.",
        "{order_ref} numaralı siparişiniz onaylandı.",
    ),
    // order_on_hold_action_needed
    text(
        OrderOnHoldActionNeeded,
        En,
        "Action needed for your order {order_ref}",
        "Hello {customer_name},\n\nYour order {order_ref} is on hold: {hold_reason}\n\nPlease complete this step so we can continue: {action_url}\n\nYour order stays on hold until then.",
        "Your order {order_ref} is on hold and needs your action: {action_url}",
    ),
    text(
        OrderOnHoldActionNeeded,
        Tr,
        "{order_ref} numaralı siparişiniz için işlem yapmanız gerekiyor",
        "Merhaba {customer_name},\n\n{order_ref} numaralı siparişiniz beklemeye alındı: {hold_reason}\n\nSiparişinize devam edebilmemiz için lütfen şu adımı tamamlayın: {action_url}\n\nBu adım tamamlanana kadar siparişiniz beklemede kalacak.",
        "{order_ref} numaralı siparişiniz beklemede, işlem yapmanız gerekiyor: {action_url}",
    ),
    // order_shipped
    text(
        OrderShipped,
        En,
        "Your order {order_ref} is on its way",
        "Hello {customer_name},\n\nYour order {order_ref} has been shipped with {carrier}. Tracking number: {tracking_number}.\n\nTrack your parcel: {tracking_url}",
        "Your order {order_ref} has shipped with {carrier}. Track it: {tracking_url}",
    ),
    text(
        OrderShipped,
        Tr,
        "{order_ref} numaralı siparişiniz yola çıktı",
        "Merhaba {customer_name},\n\n{order_ref} numaralı siparişiniz {carrier} ile kargoya verildi. Takip numarası: {tracking_number}.\n\nKargonuzu buradan takip edebilirsiniz: {tracking_url}",
        "{order_ref} numaralı siparişiniz {carrier} ile kargoya verildi. Takip: {tracking_url}",
    ),
    // out_for_delivery
    text(
        OutForDelivery,
        En,
        "Your order {order_ref} is out for delivery",
        "Hello {customer_name},\n\nYour order {order_ref} is out for delivery with {carrier} today.\n\nFollow your parcel: {tracking_url}",
        "Your order {order_ref} is out for delivery today. Track it: {tracking_url}",
    ),
    text(
        OutForDelivery,
        Tr,
        "{order_ref} numaralı siparişiniz dağıtıma çıktı",
        "Merhaba {customer_name},\n\n{order_ref} numaralı siparişiniz bugün {carrier} tarafından dağıtıma çıkarıldı.\n\nKargonuzu buradan takip edebilirsiniz: {tracking_url}",
        "{order_ref} numaralı siparişiniz bugün dağıtıma çıktı. Takip: {tracking_url}",
    ),
    // delivered
    text(
        Delivered,
        En,
        "Your order {order_ref} has been delivered",
        "Hello {customer_name},\n\nYour order {order_ref} has been delivered. We hope you enjoy it!\n\nIf anything is not right, just reply to this message.",
        "Your order {order_ref} has been delivered. Enjoy!",
    ),
    text(
        Delivered,
        Tr,
        "{order_ref} numaralı siparişiniz teslim edildi",
        "Merhaba {customer_name},\n\n{order_ref} numaralı siparişiniz teslim edildi. Güle güle kullanın!\n\nBir sorun olursa bu mesajı yanıtlamanız yeterli.",
        "{order_ref} numaralı siparişiniz teslim edildi. Güle güle kullanın!",
    ),
    // delivery_failed
    text(
        DeliveryFailed,
        En,
        "We could not deliver your order {order_ref}",
        "Hello {customer_name},\n\n{carrier} tried to deliver your order {order_ref} but could not. They usually try again, or leave the parcel at a nearby pickup point.\n\nSee the latest status: {tracking_url}",
        "{carrier} could not deliver your order {order_ref}. Latest status: {tracking_url}",
    ),
    text(
        DeliveryFailed,
        Tr,
        "{order_ref} numaralı siparişiniz teslim edilemedi",
        "Merhaba {customer_name},\n\n{order_ref} numaralı siparişinizin teslimatı {carrier} tarafından denendi ancak gerçekleştirilemedi. Genellikle teslimat yeniden denenir ya da paket yakındaki bir teslim noktasına bırakılır.\n\nGüncel durumu buradan görebilirsiniz: {tracking_url}",
        "{order_ref} numaralı siparişiniz {carrier} tarafından teslim edilemedi. Güncel durum: {tracking_url}",
    ),
    // order_cancelled
    text(
        OrderCancelled,
        En,
        "Your order {order_ref} has been cancelled",
        "Hello {customer_name},\n\nYour order {order_ref} has been cancelled. Reason: {cancel_reason}\n\nIf you have already paid, we will refund you and let you know.",
        "Your order {order_ref} has been cancelled.",
    ),
    text(
        OrderCancelled,
        Tr,
        "{order_ref} numaralı siparişiniz iptal edildi",
        "Merhaba {customer_name},\n\n{order_ref} numaralı siparişiniz iptal edildi. Nedeni: {cancel_reason}\n\nÖdeme yaptıysanız ücret iadeniz yapılacak ve size haber vereceğiz.",
        "{order_ref} numaralı siparişiniz iptal edildi.",
    ),
    // refund_issued
    text(
        RefundIssued,
        En,
        "Your refund for order {order_ref}",
        "Hello {customer_name},\n\nWe have refunded {refund_amount} for your order {order_ref}. Depending on your bank, it can take a few business days to appear on your statement.",
        "We have refunded {refund_amount} for your order {order_ref}.",
    ),
    text(
        RefundIssued,
        Tr,
        "{order_ref} numaralı siparişinizin iadesi yapıldı",
        "Merhaba {customer_name},\n\n{order_ref} numaralı siparişiniz için {refund_amount} tutarında iade yaptık. Bankanıza bağlı olarak tutarın hesabınıza yansıması birkaç iş günü sürebilir.",
        "{order_ref} numaralı siparişiniz için {refund_amount} iade edildi.",
    ),
];
