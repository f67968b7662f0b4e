'use strict'
// The binding-parity table (docs/parity.md) is generated from the code: this fails when
// an engine operation or an error code has no Python or Node name, or when the table is
// out of date (scripts/parity.mjs says which).
const test = require('node:test')
const assert = require('node:assert/strict')
const { spawnSync } = require('node:child_process')
const path = require('node:path')

test('every engine operation and error code is bound in Python and Node (docs/parity.md)', () => {
  const script = path.join(__dirname, '..', '..', 'scripts', 'parity.mjs')
  const run = spawnSync(process.execPath, [script, '--check'], { encoding: 'utf8' })
  assert.equal(run.status, 0, run.stderr || run.stdout)
})
