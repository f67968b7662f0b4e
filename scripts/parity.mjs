#!/usr/bin/env node
// The binding-parity table, generated from the code (never edited by hand):
// every public operation of the Rust engine (and of the channels crate's intake,
// push planner, webhook checks and parsers) with the Python, Node and Kotlin names that
// reach it, and every error code with its Rust variant, Python class and Node class.
// (Kotlin's error cases are one per kind, whatever the code: see
// bindings-mobile/src/errors.rs, which maps the core's classification.)
//
//   node scripts/parity.mjs           writes docs/parity.md
//   node scripts/parity.mjs --check   fails if an operation or a code is missing in a
//                                     binding, or docs/parity.md is out of date
//
// How a binding name is found: each exported binding function (Python: in a
// `#[pymethods]` impl or marked `#[pyfunction]`; Node: marked `#[napi...]`; Kotlin: in
// a `#[uniffi::export]` impl or marked `#[uniffi::export]`) is followed
// through the helper functions of its crate to the Rust operations it calls
// (`.confirm_order(`, `::verify_shopify(`). A new `pub fn` in `impl Engine` therefore
// fails the check until a binding calls it, or until EXEMPT below says why it has no
// binding of its own: binding it is the mechanical fix.
// An exemption for an operation a binding does reach is stale and fails the check too,
// so the list only ever holds real gaps, each with its reason.
//
// Needs the Node addon built (`bindings-node/ordersmith.node`) for the error catalogue.

import fs from 'node:fs'
import path from 'node:path'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const read = (p) => fs.readFileSync(path.join(root, p), 'utf8')
const rsFiles = (dir) =>
  fs
    .readdirSync(path.join(root, dir), { recursive: true })
    .filter((f) => f.endsWith('.rs'))
    .map((f) => path.join(dir, f))

const camel = (s) => s.replace(/_([a-z0-9])/g, (_, c) => c.toUpperCase())

/** Rust operations with no binding method of their own, and why. */
const EXEMPT = {
  'Intake::import': 'bindings import payloads (import_payload parses, then calls it)',
  'intake::return_reason': 'the intake\'s reading of a claim\'s reason text, applied by import_events when a claim becomes an RMA (the RMA carries the reason)',
  'StockPushPlanner::with_limits': 'bindings use each channel\'s published limits (StockPushPlanner::new)',
  'StockPushPlanner::limits': 'the limits show in each planned request (batch sizes, not_before)',
  'Engine::export_dump': 'bindings name a file: export_dump_to_file writes the same dump to a new one',
  'Engine::import_dump': 'bindings name a file: import_dump_from_file reads it',
}

/** The RMA steps Python reaches under their own names, each building its
 * `ReturnCommand` for `execute_return` (so the call the script follows is that one). */
function returnSteps(lang = 'Python') {
  const steps = {
    request_return: 'Request',
    override_return: 'Override',
    reject_return: 'Reject',
    request_return_label: 'RequestLabel',
    record_return_label: 'RecordLabel',
    mark_return_in_transit: 'MarkInTransit',
    receive_return: 'Receive',
    inspect_return: 'Inspect',
    resolve_return: 'Resolve',
    close_return: 'Close',
  }
  return Object.fromEntries(
    Object.entries(steps).map(([name, variant]) => [
      `Engine::${name}`,
      `${lang}'s ${lang === 'Kotlin' ? camel(name) : name} builds ReturnCommand::${variant} and runs it through execute_return`,
    ]),
  )
}

/** Operations one binding reaches through another name, and why (per language). */
const EXEMPT_IN = {
  python: {
    'Engine::record_payment': 'Python takes an amount in the order currency (record_payment_amount)',
    'Engine::record_refund': 'Python takes an amount in the order currency (record_refund_amount)',
    'Engine::edit_order': 'Python edits with the flat input shape (edit_order_input)',
    'Engine::execute': 'Python has one method per command',
    'Engine::list_orders': 'Python pages with list_orders_page and walks with list_all_orders',
    ...returnSteps(),
  },
  node: {},
  kotlin: {
    'Engine::record_payment': 'Kotlin takes an amount in the order currency (recordPayment calls record_payment_amount)',
    'Engine::record_refund': 'Kotlin takes an amount in the order currency (recordRefund calls record_refund_amount)',
    'Engine::execute': 'Kotlin has one method per command',
    'Engine::list_orders': 'Kotlin pages with listOrders and listOrdersPage (list_orders_page)',
    'Engine::list_all_orders': 'Kotlin walks pages with listOrdersPage and its cursor (a phone shows a page at a time)',
    'Engine::edit_order': 'Kotlin edits with the flat input shape (editOrder calls edit_order_input)',
    'Engine::expire_reservations': 'Kotlin sweeps with sweepExpiredReservations, which returns the same outcome and the orders it touched',
    'Engine::in_memory': 'Kotlin\'s inMemory is a private in-memory SQLite database (the store a phone uses), not the core\'s memory store',
    'Engine::config': 'Kotlin gives its options to open and inMemory (EngineOptions); what they set is read back per part (invoicing, ship-by)',
    'Engine::store': 'the mobile engine owns its SQLite store; a phone reads and writes it through the engine',
    ...returnSteps('Kotlin'),
    ...channelsOnServers(),
  },
}

/** The channels crate is not in the mobile binding: intake, webhooks and stock pushes
 * run where the channels can reach the shop (a server taking webhooks and polling
 * APIs, in Rust, Python or Node); a phone works on the orders they import. */
function channelsOnServers() {
  const why = 'channel intake, webhooks and stock pushes run on a server the channels can reach; a phone works on the orders they import'
  return Object.fromEntries(
    [
      'Intake::import_events', 'Intake::import_payload', 'Intake::new', 'intake::changed_since_last_push',
      'intake::mark_pushed', 'StockPushPlanner::acknowledge', 'StockPushPlanner::in_flight',
      'StockPushPlanner::new', 'StockPushPlanner::next_allowed', 'StockPushPlanner::plan',
      'StockPushPlanner::target', 'StockPushPlanner::throttled', 'webhook::verify_api_key',
      'webhook::verify_basic', 'webhook::verify_ebay', 'webhook::verify_shopify',
      'webhook::verify_woocommerce', 'adapters::parse_order', 'claims::parse_events',
    ].map((op) => [op, why]),
  )
}

/** `(name, start)` of every `fn` item and its body text up to the next `fn` item. */
function functions(text) {
  const re = /^[ \t]*(?:pub(?:\([^)]*\))? )?(?:async )?(?:unsafe )?fn (\w+)/gm
  const found = []
  let m
  while ((m = re.exec(text))) found.push({ name: m[1], start: m.index })
  return found.map((f, i) => ({
    ...f,
    body: text.slice(f.start, i + 1 < found.length ? found[i + 1].start : text.length),
    attrs: text.slice(Math.max(0, f.start - 600), f.start),
  }))
}

/** Rust operations: `pub fn` in `impl <Type>` blocks of the given files, and free `pub fn`s. */
function rustOps() {
  const ops = new Map() // "Type::name" -> file
  const implBlocks = [
    { files: rsFiles('core/src/engine'), type: 'Engine', re: /^impl Engine \{/m },
    { files: ['channels/src/intake/mod.rs'], type: 'Intake', re: /^impl<'a> Intake<'a> \{/m },
    { files: ['channels/src/push.rs'], type: 'StockPushPlanner', re: /^impl StockPushPlanner \{/m },
  ]
  for (const { files, type, re } of implBlocks) {
    for (const file of files) {
      const text = read(file)
      let offset = 0
      for (;;) {
        const rest = text.slice(offset)
        const m = rest.match(re)
        if (!m) break
        const start = offset + m.index
        const end = text.indexOf('\n}\n', start)
        const block = text.slice(start, end < 0 ? text.length : end)
        for (const f of block.matchAll(/^    pub fn (\w+)/gm)) ops.set(`${type}::${f[1]}`, file)
        offset = end < 0 ? text.length : end + 2
      }
    }
  }
  for (const f of read('channels/src/webhook.rs').matchAll(/^pub fn (verify_\w+)/gm)) ops.set(`webhook::${f[1]}`, 'channels/src/webhook.rs')
  for (const f of read('channels/src/intake/mod.rs').matchAll(/^pub fn (\w+)/gm)) ops.set(`intake::${f[1]}`, 'channels/src/intake/mod.rs')
  ops.set('adapters::parse_order', 'channels/src/adapters/mod.rs')
  ops.set('claims::parse_events', 'channels/src/adapters/claims.rs')
  return ops
}


/** Exported name of a binding function, or null when it is not exported. */
function exportedName(lang, f, inPymethods) {
  if (lang === 'kotlin') {
    // uniffi exports every method of an exported impl, and free functions marked so;
    // Kotlin's name is the camel-cased Rust name.
    const attrs = f.attrs.split(/\n\s*\n|[;}]\n/).pop()
    if (inPymethods || /#\[uniffi::export\b/.test(attrs)) return camel(f.name)
    return null
  }
  if (lang === 'python') {
    const attrs = f.attrs.split(/\n\s*\n|\}\n/).pop()
    const named = attrs.match(/#\[pyo3\([^\]]*name = "(\w+)"/)
    if (attrs.includes('#[pyfunction]') || inPymethods) return named ? named[1] : f.name
    return null
  }
  const attrs = f.attrs.split(/\n\s*\n|[;}]\n/).pop()
  if (!/#\[napi\b/.test(attrs)) return null
  const named = attrs.match(/js_name = "(\w+)"/)
  return named ? named[1] : camel(f.name)
}

/** For one binding crate: Rust operation -> exported names that reach it. */
function bindingNames(lang, dir, ops) {
  const opByName = new Map()
  for (const op of ops.keys()) {
    const name = op.split('::')[1]
    if (!opByName.has(name)) opByName.set(name, [])
    opByName.get(name).push(op)
  }
  const all = []
  for (const file of rsFiles(dir)) {
    const text = read(file)
    // Spans of #[pymethods] impl blocks.
    const spans = []
    const exportedImpl = lang === 'kotlin' ? /#\[uniffi::export[^\]]*\]\s*\nimpl[^{]*\{/g : /#\[pymethods\]\s*\nimpl[^{]*\{/g
    for (const m of text.matchAll(exportedImpl)) {
      const end = text.indexOf('\n}\n', m.index)
      spans.push([m.index, end < 0 ? text.length : end])
    }
    for (const f of functions(text)) {
      const inPy = spans.some(([a, b]) => f.start > a && f.start < b)
      all.push({ ...f, file, exported: exportedName(lang, f, inPy) })
    }
  }
  // `use ordersmith::engine::{Engine as CoreEngine}`: a call `CoreEngine::new(` is
  // `Engine::new`.
  const alias = new Map()
  for (const file of rsFiles(dir)) {
    for (const u of read(file).matchAll(/^use [^;]*;/gms)) {
      for (const m of u[0].matchAll(/\b(\w+) as (\w+)\b/g)) alias.set(m[2], m[1])
    }
  }
  const local = new Map()
  for (const f of all) {
    if (!local.has(f.name)) local.set(f.name, [])
    local.get(f.name).push(f)
  }
  // Calls as [qualifier, name]: `Type::name(` or `module::name(`, `.name(` (method,
  // qualifier '.'), or a bare `name(` (qualifier '').
  // pyo3's `py.import("datetime")` / `CELL.import(py, "decimal", ..)` load Python
  // modules; they are not `Intake::import`, so a call whose first argument is a string
  // or the interpreter token is left out.
  const pyImport = (m, rest) => m[3] === 'import' && /^\s*(?:"|py\b|value\.py\(\))/.test(rest)
  const calls = (body) =>
    [...body.matchAll(/(?:(\w+)::|(\.)\s*)?\b(\w+)\s*(?:::<[^>]*>)?\(/g)]
      .filter((m) => !pyImport(m, body.slice(m.index + m[0].length, m.index + m[0].length + 20)))
      .map((m) => [m[1] ?? m[2] ?? '', m[3]])
  const matches = (op, [written]) => {
    const qualifier = alias.get(written) ?? written
    const type = op.split('::')[0]
    const isModule = type[0] === type[0].toLowerCase()
    if (qualifier === '.') return !isModule && !op.endsWith('::new')
    if (isModule) return qualifier === '' || qualifier === type || qualifier.startsWith('ordersmith_')
    return qualifier === type
  }
  const reach = (f, seen) => {
    const out = new Set()
    for (const call of calls(f.body.replace(/^[^{]*\{/, ''))) {
      const c = call[1]
      for (const op of opByName.get(c) ?? []) if (matches(op, call)) out.add(op)
      for (const g of local.get(c) ?? []) {
        if (g.exported || seen.has(g)) continue
        seen.add(g)
        for (const op of reach(g, seen)) out.add(op)
      }
    }
    return out
  }
  const names = new Map()
  for (const f of all) {
    if (!f.exported) continue
    for (const op of reach(f, new Set([f]))) {
      if (!names.has(op)) names.set(op, new Set())
      names.get(op).add(f.exported)
    }
  }
  return names
}

/** Rust variant of each code: `Self::Variant ... => "CODE"` under `impl Type`. */
function rustVariants() {
  const out = new Map()
  for (const file of [...rsFiles('core/src'), ...rsFiles('channels/src')]) {
    const text = read(file)
    for (const m of text.matchAll(/(?:Self|(\w+))::(\w+)\b[^=;]*?=>\s*"([A-Z][A-Z0-9_]+)"/g)) {
      const before = text.slice(0, m.index)
      const impl = [...before.matchAll(/^impl(?:<[^>]*>)? (\w+)/gm)].pop()
      const type = m[1] ?? (impl ? impl[1] : '?')
      if (!out.has(m[3])) out.set(m[3], `${type}::${m[2]}`)
    }
  }
  return out
}

/** Python class of each (module, kind), from the tables in ordersmith/__init__.py. */
function pythonClasses() {
  const text = read('bindings-python/python/ordersmith/__init__.py')
  const byModuleKind = new Map()
  for (const m of text.matchAll(/\("(\w+)", "(\w+)"\): (\w+),/g)) byModuleKind.set(`${m[1]}/${m[2]}`, m[3])
  const block = text.slice(text.indexOf('_BY_MODULE: Dict'), text.indexOf('_BY_MODULE_AND_KIND'))
  const byModule = new Map([...block.matchAll(/"(\w+)": (\w+),/g)].map((m) => [m[1], m[2]]))
  return (info) => byModuleKind.get(`${info.module}/${info.kind}`) ?? byModule.get(info.module) ?? null
}

function build() {
  const require = createRequire(path.join(root, 'bindings-node', 'index.js'))
  const node = require('./index.js')
  const ops = rustOps()
  const py = bindingNames('python', 'bindings-python/src', ops)
  const js = bindingNames('node', 'bindings-node/src', ops)
  const kt = bindingNames('kotlin', 'bindings-mobile/src', ops)
  const missing = []
  const stale = []
  const lines = [
    '# Binding parity',
    '',
    'Generated by `node scripts/parity.mjs` from the Rust sources of the engine, the',
    'channels crate and the bindings; `scripts/test --node` fails when an operation has no',
    'Python, Node or Kotlin name (or an exemption saying why), when an error code has no',
    'Python or Node class, or when this file is out of date. Do not edit.',
    '',
    '## Operations',
    '',
    '| Rust | defined in | Python | Node | Kotlin |',
    '|---|---|---|---|---|',
  ]
  for (const [op, file] of [...ops].sort((a, b) => a[1].localeCompare(b[1]) || a[0].localeCompare(b[0]))) {
    const p = [...(py.get(op) ?? [])].sort()
    const n = [...(js.get(op) ?? [])].sort()
    const k = [...(kt.get(op) ?? [])].sort()
    const cell = (names, lang) => {
      const exempt = EXEMPT[op] ?? EXEMPT_IN[lang][op]
      if (names.length) {
        // An exemption for something a binding now reaches is stale: drop it.
        if (EXEMPT_IN[lang][op] || (EXEMPT[op] && p.length && n.length && k.length)) {
          const where = EXEMPT[op] ? 'EXEMPT' : `EXEMPT_IN.${lang}`
          if (!stale.includes(`${op} (${where})`)) stale.push(`${op} (${where})`)
        }
        return names.map((x) => `\`${x}\``).join(', ')
      }
      if (exempt) return `— (${exempt})`
      missing.push(`${op}: no ${{ python: 'Python', node: 'Node', kotlin: 'Kotlin' }[lang]} binding`)
      return '**missing**'
    }
    lines.push(`| \`${op}\` | \`${file}\` | ${cell(p, 'python')} | ${cell(n, 'node')} | ${cell(k, 'kotlin')} |`)
  }
  const variants = rustVariants()
  const pyClass = pythonClasses()
  lines.push('', '## Error codes', '', '| code | kind | Rust | Python | Node |', '|---|---|---|---|---|')
  for (const info of node.errorCodes()) {
    const nodeClass = node.errorClass(info.code)
    const nodeName = nodeClass === node.OrdersmithError ? null : nodeClass.name
    const pyName = pyClass(info)
    if (!nodeName) missing.push(`${info.code}: no Node error class for module ${info.module}`)
    if (!pyName) missing.push(`${info.code}: no Python error class for module ${info.module}`)
    const rust = variants.get(info.code) ?? '?'
    lines.push(`| \`${info.code}\` | ${info.kind} | \`${rust}\` | ${pyName ? `\`${pyName}\`` : '**missing**'} | ${nodeName ? `\`${nodeName}\`` : '**missing**'} |`)
  }
  for (const op of stale) missing.push(`${op}: exempted in scripts/parity.mjs but bound; remove the exemption`)
  return { text: lines.join('\n') + '\n', missing }
}

const { text, missing } = build()
const target = path.join(root, 'docs', 'parity.md')
if (process.argv.includes('--check')) {
  const problems = [...missing]
  const current = fs.existsSync(target) ? fs.readFileSync(target, 'utf8') : ''
  if (current !== text) problems.push('docs/parity.md is out of date: run `node scripts/parity.mjs`')
  if (problems.length) {
    console.error(`binding parity: ${problems.length} problem(s)\n  ${problems.join('\n  ')}`)
    process.exit(1)
  }
  console.log('binding parity: every operation is bound in Python, Node and Kotlin, every error code in Python and Node')
} else {
  fs.writeFileSync(target, text)
  console.log(`wrote docs/parity.md${missing.length ? ` (${missing.length} missing: ${missing.join('; ')})` : ''}`)
}
