// A dependency-free test runner: kotlin.test assertions, no JUnit platform, so the
// suite needs only kotlinc and JNA (see ../../README.md). Each test is a named lambda;
// the run prints one line per test and exits non-zero if any failed.
package dev.ordersmith.tests

import kotlin.system.exitProcess

class Suite(val name: String) {
    val tests = mutableListOf<Pair<String, () -> Unit>>()
    fun test(name: String, body: () -> Unit) {
        tests += name to body
    }
}

fun main(args: Array<String>) {
    val suites = listOf(conversions(), errors(), pickerFlow(), invoices(), kpis(), rules(), returns(), imports(), orderEdits(), stockMoves(), options(), listing(), bulk(), notifications(), carriers(), dumps(), readme())
    val only = args.firstOrNull()
    var passed = 0
    val failed = mutableListOf<String>()
    val started = System.nanoTime()
    for (suite in suites) {
        for ((name, body) in suite.tests) {
            val full = "${suite.name} > $name"
            if (only != null && !full.contains(only)) continue
            try {
                body()
                passed++
                println("  ok    $full")
            } catch (e: Throwable) {
                failed += full
                println("  FAIL  $full\n        $e")
                e.stackTrace.take(6).forEach { println("          at $it") }
            }
        }
    }
    val ms = (System.nanoTime() - started) / 1_000_000
    println("${passed + failed.size} tests, $passed passed, ${failed.size} failed ($ms ms)")
    if (passed == 0 || failed.isNotEmpty()) exitProcess(1)
}
