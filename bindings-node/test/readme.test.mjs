// The README's JavaScript examples run as written: its `js` blocks, in order, as one
// ES module in a fresh directory (its `shop.db` and `rules.json` are made there), with
// the package name pointed at this checkout's entry point.
import test from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

const here = fileURLToPath(new URL('.', import.meta.url))
const readme = readFileSync(join(here, '..', 'README.md'), 'utf8')
const entry = pathToFileURL(join(here, '..', 'index.mjs')).href

test("the README's js blocks run as one module", () => {
  const blocks = [...readme.matchAll(/```js\n([\s\S]*?)```/g)].map((m) => m[1])
  assert.ok(blocks.length >= 2, 'README.md has its js examples')
  const code = blocks.join('\n')
  assert.ok(code.includes("from 'ordersmith'"), 'the example imports the package by name')
  const dir = mkdtempSync(join(tmpdir(), 'ordersmith-readme-'))
  try {
    // The rule set the example loads, as a shop keeps it in a file: heavy orders are
    // tagged (weights are among the facts the example sets).
    const rules = {
      rules: [{
        name: 'bulky', trigger: 'order_placed',
        when: { field: 'weight_grams', op: '>=', value: 30000 },
        actions: [{ type: 'tag', add: ['bulky'] }],
      }],
    }
    writeFileSync(join(dir, 'rules.json'), JSON.stringify(rules))
    const file = join(dir, 'readme.mjs')
    // Printed at the end: what the example's last lines left, for the checks below.
    const probe = '\nconsole.log(JSON.stringify({ status: engine.order(order.id).status, invoice: invoice.number, rmas: o.rmas.map((r) => r.status) }))\n'
    writeFileSync(file, code.replaceAll("from 'ordersmith'", `from '${entry}'`) + probe)
    const out = execFileSync(process.execPath, [file], { cwd: dir, encoding: 'utf8' })
    const last = JSON.parse(out.trim().split('\n').pop())
    assert.match(last.invoice, /\d/, 'an invoice was issued with a number')
    assert.deepEqual(last.rmas, ['received'], 'the return was requested and received')
    assert.equal(last.status, 'processing')
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})
