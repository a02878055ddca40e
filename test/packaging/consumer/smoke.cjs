// The CommonJS smoke script: the same observations as smoke.mjs, every module loaded with require().
const { main } = require('@svidkit/cli')
const { SpiffeId } = require('@svidkit/core')
const { isSvidkitError, SpiffeIdError, SvidkitError } = require('@svidkit/core/errors')
const { svid } = require('@svidkit/express')
const { svidkitFastify } = require('@svidkit/fastify')
const { TestCA } = require('@svidkit/testing')
const express = require('express')
const Fastify = require('fastify')
const observe = require('./observe.cjs')

const modules = { main, SpiffeId, isSvidkitError, SpiffeIdError, SvidkitError, svid, svidkitFastify, TestCA }
observe({ ...modules, express, Fastify }).then(
  (out) => console.log(JSON.stringify(out)),
  (err) => {
    console.error(err)
    process.exit(1)
  },
)
