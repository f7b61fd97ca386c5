export { Heartbeat, HEARTBEAT_OPTIONS, type HeartbeatOptions } from './heartbeat.js';
export { HeartbeatListener, type HeartbeatHandler } from './heartbeat-listener.js';
