// Stands in for what protoc-gen-es generates from an `orders.proto` with `service Orders { rpc
// GetOrder(GetOrderRequest) returns (Order); rpc DeleteOrder(GetOrderRequest) returns (Order); }`:
// the declarations the README's Usage snippet (connect-readme.ts) compiles against.
import type { Message } from '@bufbuild/protobuf'
import type { GenMessage, GenService } from '@bufbuild/protobuf/codegenv2'

export type GetOrderRequest = Message<'orders.v1.GetOrderRequest'> & { id: number }
export declare const GetOrderRequestSchema: GenMessage<GetOrderRequest>

export type Order = Message<'orders.v1.Order'> & { id: number; servedTo: string }
export declare const OrderSchema: GenMessage<Order>

export declare const Orders: GenService<{
  getOrder: { methodKind: 'unary'; input: typeof GetOrderRequestSchema; output: typeof OrderSchema }
  deleteOrder: { methodKind: 'unary'; input: typeof GetOrderRequestSchema; output: typeof OrderSchema }
}>
