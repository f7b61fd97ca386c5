export { RabbitModule } from './rabbit.module.js';
export { RABBIT_OPTIONS, type RabbitModuleOptions, type ResolvedRabbitOptions } from './rabbit-options.js';
export { RabbitConnection } from './rabbit-connection.js';
export {
  consumerDeadLetterQueues,
  declareDeadLetterQueues,
  declareTopology,
  PLATFORM_SERVICES,
  RETRY_TIERS,
  retryDelay,
  retryTier,
  eventsQueueDepth,
  topologyNames,
  topologyResources,
  type TopologyNames,
  type TopologySpec,
} from './topology.js';
export { RpcServer, type RpcHandler, type RpcRequestMeta } from './rpc-server.js';
export { RpcClient, type RpcCallOptions } from './rpc-client.js';
export { validatePayload } from './validate-payload.js';
export { EventPublisher } from './event-publisher.js';
export { BroadcastListener, broadcastQueuePrefix, type BroadcastHandler } from './broadcast-listener.js';
export { EventConsumer, NonRetryableEventError, type EventHandler } from './event-consumer.js';
export { AmqpHeaders } from './wire.js';
export {
  CALLER_TOKEN_HEADER,
  CallerRefused,
  InternalCaller,
  isAdminCaller,
  requestDigest,
  RPC_TOKEN_AUDIENCE,
  SIGNATURE_HEADER,
  SIGNER_HEADER,
  type RefusalReason,
  type VerifiedCaller,
} from './internal-caller.js';
