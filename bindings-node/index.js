'use strict'
// The npm package `ordersmith` (CommonJS entry; `index.mjs` is the ES module entry).
//
// The addon (`ordersmith.node`, built by `npm run build`) holds every class and
// function; this file only routes its failures through `errors.js`, so every error a
// caller sees is an OrdersmithError subclass with `.code`, `.kind` and `.details`, for
// synchronous calls and rejected Promises alike. The types are `index.d.ts`, generated
// from the Rust sources by napi-rs.

const native = require('./ordersmith.node')
const errors = require('./errors.js')

const marker = native.ERROR_MARKER
const convert = (err) => errors.toError(marker, err)

// Objects cross the boundary as JSON text (V8's JSON and serde_json are many times
// faster than one N-API call per property): a plain object or array argument is sent
// as JSON_MARKER + JSON.stringify(arg) (a Date inside becomes its ISO string), and a
// result string starting with the marker is parsed. The addon accepts either form.
const JSON_MARKER = '\u0002'

function isPlain(value) {
  if (value === null || typeof value !== 'object') return false
  if (Array.isArray(value)) return true
  const proto = Object.getPrototypeOf(value)
  return proto === Object.prototype || proto === null
}

const encode = (arg) => (isPlain(arg) ? JSON_MARKER + JSON.stringify(arg) : arg)
const decode = (value) =>
  typeof value === 'string' && value.charCodeAt(0) === 2 ? JSON.parse(value.slice(1)) : value

function guard(fn) {
  return function guarded(...args) {
    let result
    try {
      result = fn.apply(this, args.map(encode))
    } catch (err) {
      throw convert(err)
    }
    if (result instanceof Promise) {
      return result.then(
        (value) => fixBulk(decode(value)),
        (err) => {
          throw convert(err)
        },
      )
    }
    return decode(result)
  }
}

// Bulk results carry per-item failures as JSON ({index, error}, {line, error}); give
// them classes too.
function fixBulk(value) {
  if (value && Array.isArray(value.errors) && (Array.isArray(value.orders) || Array.isArray(value.placed))) {
    for (const item of value.errors) {
      if (item && item.error && !(item.error instanceof Error)) item.error = errors.fromJson(item.error)
    }
  }
  return value
}

// A native class as callers see it: the same prototype (so `instanceof` holds for every
// instance, however it was made), its methods and static factories guarded, and `new`
// converting constructor failures. napi's static methods are read-only, hence a new
// constructor function rather than patching them.
function guardClass(cls) {
  for (const name of Object.getOwnPropertyNames(cls.prototype)) {
    const desc = Object.getOwnPropertyDescriptor(cls.prototype, name)
    if (name === 'constructor' || !desc || typeof desc.value !== 'function') continue
    Object.defineProperty(cls.prototype, name, { ...desc, value: guard(desc.value) })
  }
  const Class = function (...args) {
    if (!new.target) throw new TypeError(`Class constructor ${cls.name} cannot be invoked without 'new'`)
    try {
      return Reflect.construct(cls, args.map(encode), cls)
    } catch (err) {
      throw convert(err)
    }
  }
  Object.defineProperty(Class, 'name', { value: cls.name })
  Class.prototype = cls.prototype
  for (const name of Object.getOwnPropertyNames(cls)) {
    if (['length', 'name', 'prototype', 'caller', 'arguments'].includes(name)) continue
    const value = cls[name]
    Class[name] = typeof value === 'function' ? guard(value) : value
  }
  return Class
}

const exported = { ...errors }
delete exported.toError
delete exported.fromJson
delete exported.MODULE_CLASSES
for (const [name, value] of Object.entries(native)) {
  if (typeof value === 'function' && /^[A-Z]/.test(name)) {
    exported[name] = guardClass(value)
  } else if (typeof value === 'function') {
    exported[name] = guard(value)
  } else {
    exported[name] = value
  }
}

module.exports = exported
