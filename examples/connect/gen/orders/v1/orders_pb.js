// The Orders service of ../../../orders.proto in the shape protoc-gen-es v2 generates it (`buf
// generate` with `plugin: es`): the file's descriptor, embedded as base64, and one descriptor per
// message and service. Written by hand here so the example needs no code generator; in your service,
// generate it.
import { fileDesc, messageDesc, serviceDesc } from '@bufbuild/protobuf/codegenv2'

export const file_orders_v1_orders = /*@__PURE__*/ fileDesc(
  'ChZvcmRlcnMvdjEvb3JkZXJzLnByb3RvEglvcmRlcnMudjEiIQoPR2V0T3JkZXJSZXF1ZXN0Eg4KAmlkGAEgASgFUgJpZCIkChJEZWxldGVPcmRlclJlcXVlc3QSDgoCaWQYASABKAVSAmlkIkgKBU9yZGVyEg4KAmlkGAEgASgFUgJpZBISCgRpdGVtGAIgASgJUgRpdGVtEhsKCXNlcnZlZF90bxgDIAEoCVIIc2VydmVkVG8iLwoTRGVsZXRlT3JkZXJSZXNwb25zZRIYCgdkZWxldGVkGAEgASgIUgdkZWxldGVkMpABCgZPcmRlcnMSOAoIR2V0T3JkZXISGi5vcmRlcnMudjEuR2V0T3JkZXJSZXF1ZXN0GhAub3JkZXJzLnYxLk9yZGVyEkwKC0RlbGV0ZU9yZGVyEh0ub3JkZXJzLnYxLkRlbGV0ZU9yZGVyUmVxdWVzdBoeLm9yZGVycy52MS5EZWxldGVPcmRlclJlc3BvbnNlYgZwcm90bzM',
)
export const GetOrderRequestSchema = /*@__PURE__*/ messageDesc(file_orders_v1_orders, 0)
export const DeleteOrderRequestSchema = /*@__PURE__*/ messageDesc(file_orders_v1_orders, 1)
export const OrderSchema = /*@__PURE__*/ messageDesc(file_orders_v1_orders, 2)
export const DeleteOrderResponseSchema = /*@__PURE__*/ messageDesc(file_orders_v1_orders, 3)
export const Orders = /*@__PURE__*/ serviceDesc(file_orders_v1_orders, 0)
