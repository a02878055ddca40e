// The CommonJS smoke script: the same observations as smoke.mjs, every module loaded with require().
const { main } = require('@svidkit/cli')
const { SpiffeId } = require('@svidkit/core')
const { isSvidkitError, SpiffeIdError, SvidkitError } = require('@svidkit/core/errors')
const { svid } = require('@svidkit/express')
const { svidkitFastify } = require('@svidkit/fastify')
const { Caller, SvidkitModule } = require('@svidkit/nestjs')
const { TestCA } = require('@svidkit/testing')
const express = require('express')
const Fastify = require('fastify')
// Nest 12 is ESM-only: these two are loaded through require(esm).
const { Controller, Get, Module } = require('@nestjs/common')
const { NestFactory } = require('@nestjs/core')
const observe = require('./observe.cjs')

const modules = { main, SpiffeId, isSvidkitError, SpiffeIdError, SvidkitError, svid, svidkitFastify, TestCA }
const nest = { NestFactory, Controller, Get, Module, SvidkitModule, Caller }
observe({ ...modules, express, Fastify, nest }).then(
  (out) => console.log(JSON.stringify(out)),
  (err) => {
    console.error(err)
    process.exit(1)
  },
)
