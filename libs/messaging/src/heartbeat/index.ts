export { Heartbeat, HEARTBEAT_OPTIONS, type HeartbeatOptions } from './heartbeat.js';
