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
    // return_requested
    text(
        ReturnRequested,
        En,
        "We received your return request {rma_ref}",
        "Hello {customer_name},\n\nWe received your request {rma_ref} to return items from order {order_ref}. We will let you know as soon as it is reviewed.",
        "We received your return request {rma_ref} for order {order_ref}.",
    ),
    text(
        ReturnRequested,
        Tr,
        "{rma_ref} numaralı iade talebinizi aldık",
        "Merhaba {customer_name},\n\n{order_ref} numaralı siparişiniz için {rma_ref} numaralı iade talebinizi aldık. İncelendiğinde size haber vereceğiz.",
        "{order_ref} numaralı siparişiniz için {rma_ref} numaralı iade talebinizi aldık.",
    ),
    // return_approved
    text(
        ReturnApproved,
        En,
        "Your return {rma_ref} is approved",
        "Hello {customer_name},\n\nYour return {rma_ref} for order {order_ref} is approved. We will send you the return instructions shortly.",
        "Your return {rma_ref} for order {order_ref} is approved.",
    ),
    text(
        ReturnApproved,
        Tr,
        "{rma_ref} numaralı iadeniz onaylandı",
        "Merhaba {customer_name},\n\n{order_ref} numaralı siparişiniz için {rma_ref} numaralı iadeniz onaylandı. İade talimatlarını kısa süre içinde göndereceğiz.",
        "{order_ref} numaralı siparişiniz için {rma_ref} numaralı iadeniz onaylandı.",
    ),
    // return_rejected
    text(
        ReturnRejected,
        En,
        "We could not accept your return {rma_ref}",
        "Hello {customer_name},\n\nWe are sorry: your return {rma_ref} for order {order_ref} could not be accepted ({reject_reason}). Reply to this message if you think this is a mistake.",
        "Your return {rma_ref} for order {order_ref} could not be accepted: {reject_reason}",
    ),
    text(
        ReturnRejected,
        Tr,
        "{rma_ref} numaralı iadenizi kabul edemedik",
        "Merhaba {customer_name},\n\nÜzgünüz: {order_ref} numaralı siparişiniz için {rma_ref} numaralı iadeniz kabul edilemedi ({reject_reason}). Bir hata olduğunu düşünüyorsanız bu mesajı yanıtlayın.",
        "{order_ref} numaralı siparişiniz için {rma_ref} numaralı iadeniz kabul edilemedi: {reject_reason}",
    ),
    // return_label_ready
    text(
        ReturnLabelReady,
        En,
        "Your return label for {rma_ref} is ready",
        "Hello {customer_name},\n\nYour return label for {rma_ref} (order {order_ref}) is ready. Hand the parcel to {carrier} with tracking number {tracking_number}.",
        "Return {rma_ref} (order {order_ref}): hand the parcel to {carrier}, tracking number {tracking_number}.",
    ),
    text(
        ReturnLabelReady,
        Tr,
        "{rma_ref} iadeniz için kargo etiketi hazır",
        "Merhaba {customer_name},\n\n{order_ref} numaralı siparişinizin {rma_ref} numaralı iadesi için kargo etiketi hazır. Paketinizi {tracking_number} takip numarasıyla {carrier} şubesine teslim edin.",
        "{rma_ref} iadesi ({order_ref}): paketinizi {carrier} şubesine teslim edin, takip numarası {tracking_number}.",
    ),
    // return_in_transit
    text(
        ReturnInTransit,
        En,
        "Your return {rma_ref} is on its way to us",
        "Hello {customer_name},\n\nYour return {rma_ref} for order {order_ref} is on its way to us.",
        "Your return {rma_ref} for order {order_ref} is on its way to us.",
    ),
    text(
        ReturnInTransit,
        Tr,
        "{rma_ref} numaralı iadeniz yolda",
        "Merhaba {customer_name},\n\n{order_ref} numaralı siparişiniz için {rma_ref} numaralı iadeniz bize doğru yolda.",
        "{order_ref} numaralı siparişiniz için {rma_ref} numaralı iadeniz yolda.",
    ),
    // return_received
    text(
        ReturnReceived,
        En,
        "We received your return {rma_ref}",
        "Hello {customer_name},\n\nYour returned items for {rma_ref} (order {order_ref}) have arrived. We will inspect them and let you know.",
        "Your returned items for {rma_ref} (order {order_ref}) have arrived.",
    ),
    text(
        ReturnReceived,
        Tr,
        "{rma_ref} numaralı iadenizi teslim aldık",
        "Merhaba {customer_name},\n\n{order_ref} numaralı siparişinizin {rma_ref} numaralı iadesindeki ürünler bize ulaştı. Kontrol edip size haber vereceğiz.",
        "{rma_ref} numaralı iadenizdeki ürünler bize ulaştı ({order_ref}).",
    ),
    // return_inspected
    text(
        ReturnInspected,
        En,
        "We inspected your return {rma_ref}",
        "Hello {customer_name},\n\nWe have inspected the items of your return {rma_ref} for order {order_ref}. We will settle it shortly.",
        "We inspected your return {rma_ref} for order {order_ref}.",
    ),
    text(
        ReturnInspected,
        Tr,
        "{rma_ref} numaralı iadenizi kontrol ettik",
        "Merhaba {customer_name},\n\n{order_ref} numaralı siparişiniz için {rma_ref} numaralı iadenizdeki ürünleri kontrol ettik. Kısa süre içinde sonuçlandıracağız.",
        "{order_ref} numaralı siparişiniz için {rma_ref} numaralı iadenizi kontrol ettik.",
    ),
    // return_resolved
    text(
        ReturnResolved,
        En,
        "Your return {rma_ref} is settled",
        "Hello {customer_name},\n\nYour return {rma_ref} for order {order_ref} is settled: {resolution} of {resolution_amount}.",
        "Return {rma_ref} (order {order_ref}) settled: {resolution} of {resolution_amount}.",
    ),
    text(
        ReturnResolved,
        Tr,
        "{rma_ref} numaralı iadeniz sonuçlandı",
        "Merhaba {customer_name},\n\n{order_ref} numaralı siparişiniz için {rma_ref} numaralı iadeniz sonuçlandı: {resolution_amount} tutarında {resolution}.",
        "{rma_ref} iadesi ({order_ref}) sonuçlandı: {resolution_amount} tutarında {resolution}.",
    ),
    // return_closed
    text(
        ReturnClosed,
        En,
        "Your return {rma_ref} is closed",
        "Hello {customer_name},\n\nYour return {rma_ref} for order {order_ref} is closed. Thank you for shopping with us.",
        "Your return {rma_ref} for order {order_ref} is closed.",
    ),
    text(
        ReturnClosed,
        Tr,
        "{rma_ref} numaralı iadeniz kapatıldı",
        "Merhaba {customer_name},\n\n{order_ref} numaralı siparişiniz için {rma_ref} numaralı iadeniz kapatıldı. Bizi tercih ettiğiniz için teşekkür ederiz.",
        "{order_ref} numaralı siparişiniz için {rma_ref} numaralı iadeniz kapatıldı.",
    ),
];
