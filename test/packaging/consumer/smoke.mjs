// The ESM smoke script, run in a fresh project where the packed tarballs are installed from files
// (test/packaging/setup/global-setup.ts): every module loaded with import. Prints one JSON object.

import { Controller, Get, Module } from '@nestjs/common'
import { NestFactory } from '@nestjs/core'
import { main } from '@svidkit/cli'
import { SpiffeId } from '@svidkit/core'
import { isSvidkitError, SpiffeIdError, SvidkitError } from '@svidkit/core/errors'
import { svid } from '@svidkit/express'
import { svidkitFastify } from '@svidkit/fastify'
import { Caller, SvidkitModule } from '@svidkit/nestjs'
import { TestCA } from '@svidkit/testing'
import express from 'express'
import Fastify from 'fastify'
import observe from './observe.cjs'

const modules = { main, SpiffeId, isSvidkitError, SpiffeIdError, SvidkitError, svid, svidkitFastify, TestCA }
const nest = { NestFactory, Controller, Get, Module, SvidkitModule, Caller }
console.log(JSON.stringify(await observe({ ...modules, express, Fastify, nest })))
