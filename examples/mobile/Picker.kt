// A warehouse picker's day on a phone, offline, on one SQLite file:
// list today's fulfilment work, scan each product's barcode (GTIN check digit
// verified by the engine), confirm the pick, pack, get a label, hand over.
//
// Run it (scripts/test --mobile does exactly this):
//   java -Djna.library.path=target/release -cp <bindings.jar>:<jna.jar>:<kotlin-stdlib.jar>:<example.jar> \
//        dev.ordersmith.example.PickerKt picker.db
package dev.ordersmith.example

import dev.ordersmith.*
import java.math.BigDecimal
import java.time.Instant

/** The phone's product catalog: barcode to SKU (the engine keeps no barcodes). */
val PRODUCTS = mapOf(
    "8690000000012" to "TEA-500G",
    "8690000000029" to "MUG-RED",
    "8690000000036" to "COFFEE-1KG",
)

/** What the scanner reads at each shelf: one misread first, to show the check. */
val SCANS = mapOf(
    "TEA-500G" to listOf("8690000000013", "8690000000012"),
    "MUG-RED" to listOf("8690000000029"),
    "COFFEE-1KG" to listOf("8690000000036"),
)

const val WAREHOUSE = "IST-1"
/** Parcels get GS1 SSCCs from this phone's serial range; missing units wait as backorders. */
val OPTIONS = EngineOptions(ShortPickPolicy.BACKORDER, SsccOptions(0u, "8690000", 1uL, 99_999uL))
val PICKER = CallContext(actor = "user:picker-7")

/** The label desk: buys a label for every label request the engine emits. */
class LabelDesk(private val engine: Engine) : EffectSink {
    private var next = 1
    override fun deliver(effect: Effect): Boolean {
        if (effect.topic != "fulfilment.label_requested") return true
        val order = engine.order(effect.aggregateId)
        for (fo in order.fulfilments) {
            for (parcel in fo.parcels.filter { it.status == ParcelStatus.LABEL_REQUESTED }) {
                val label = Label("yurtici", parcel.requestedService ?: "standard", "YK${100000 + next++}", null)
                engine.recordLabel(order.id, fo.id, parcel.id, label, PICKER)
                println("    label desk: ${label.carrier} ${label.trackingNumber} for ${parcel.id}")
            }
        }
        return true
    }
}

/** A first run on an empty file: a warehouse with stock and three confirmed orders. */
fun seed(engine: Engine) {
    engine.addLocation(Location(WAREHOUSE, "Istanbul warehouse", 1u, "TR-34", LocationKind.WAREHOUSE))
    for ((sku, units) in listOf("TEA-500G" to 40u, "MUG-RED" to 12u, "COFFEE-1KG" to 8u)) {
        engine.registerVariant(sku)
        engine.receive(sku, WAREHOUSE, units, "PO-2026-11")
    }
    val now = Instant.now()
    val orders = listOf(
        "WEB-1001" to listOf(NewLine("TEA-500G", 2u, BigDecimal("89.90"), "Black tea 500 g"),
                             NewLine("MUG-RED", 1u, BigDecimal("120.00"), "Red mug")),
        "WEB-1002" to listOf(NewLine("COFFEE-1KG", 1u, BigDecimal("349.50"), "Coffee beans 1 kg")),
        "POS-0007" to listOf(NewLine("TEA-500G", 1u, BigDecimal("89.90"), "Black tea 500 g")),
    )
    for ((ref, lines) in orders) {
        val placed = engine.placeOrder(NewOrder("web", ref, now, "TRY", lines, null), null)
        engine.confirmOrder(placed.id, null)
    }
}

/** Scans until the barcode is a valid GTIN of the SKU wanted; false if none was. */
fun scan(sku: String): Boolean {
    for (code in SCANS[sku].orEmpty()) {
        val gtin = try {
            parseGtin(code)
        } catch (e: OrdersmithException.InvalidInput) {
            println("    scan $code refused (${e.code}): scan again")
            continue
        }
        if (PRODUCTS[gtin] == sku) {
            println("    scan $gtin = $sku")
            return true
        }
        println("    scan $gtin is ${PRODUCTS[gtin] ?: "an unknown product"}, not $sku")
    }
    return false
}

fun main(args: Array<String>) {
    val path = args.firstOrNull() ?: "picker.db"
    val engine = Engine.open(path, null, OPTIONS)
    if (engine.listOrders(1u, null).isEmpty()) seed(engine)
    val desk = LabelDesk(engine)

    val work = engine.fulfilmentWork(WAREHOUSE)
    println("Today's work at $WAREHOUSE: ${work.size} fulfilment order(s)")
    for (item in work) {
        val lines = item.pickList.joinToString { "${it.quantity} × ${it.sku}" }
        println("  ${item.externalRef ?: item.orderId} ${item.fulfilment.id}: $lines")
    }

    for (item in work) {
        val fo = item.fulfilment.id
        println("${item.externalRef ?: item.orderId} / $fo")
        val picked = item.pickList.filter { scan(it.sku) }.map { LineUnits(it.lineId, it.quantity) }
        if (picked.isEmpty()) continue
        engine.pick(item.orderId, fo, picked, emptyList(), PICKER)
        println("    picked ${picked.sumOf { it.quantity.toInt() }} unit(s)")
        var order = engine.pack(item.orderId, fo, picked, ParcelSize(1500u, 300u, 200u, 150u), PICKER)
        val parcel = order.fulfilments.single { it.id == fo }.parcels.last()
        println("    packed ${parcel.id}, SSCC ${parcel.sscc}")
        engine.requestLabel(item.orderId, fo, parcel.id, "standard", PICKER)
        engine.drainEffects(desk)
        order = engine.handOver(item.orderId, fo, parcel.id, PICKER)
        println("    handed over ${parcel.id}: order ${order.fulfilmentStatus.name.lowercase()}, " +
            "total ${order.total.amount} ${order.total.currency}")
    }
    engine.drainEffects(desk)
    println("Work left at $WAREHOUSE: ${engine.fulfilmentWork(WAREHOUSE).size}")
    for (sku in PRODUCTS.values) {
        val level = engine.stockLevels(sku)
        println("  $sku on hand ${level.onHand}, sellable ${level.sellable}")
    }
}
