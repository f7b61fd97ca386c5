import type { Naming } from '@flotilla/config';
import { Streams } from '@flotilla/contracts';
import { consumerDeadLetterQueues } from '@flotilla/messaging';

/** A dead-letter stream and the stream its entries failed in (and are replayed to). */
export interface DeadLetterStream {
  dead: string;
  origin: string;
  /** The stream's name before the key prefix, e.g. `votes`. */
  name: string;
}

/** Where dead letters are collected from: every consumer's dead-letter queue and every stream's `:dead` stream. */
export interface DeadLetterSources {
  queues: string[];
  streams: DeadLetterStream[];
}

/**
 * Derived, not listed: the dead-letter queue of every service as the topology names it,
 * and `<stream>:dead` (a StreamConsumer's default) of every stream in `Streams`.
 */
export function deadLetterSources(naming: Naming): DeadLetterSources {
  return {
    queues: consumerDeadLetterQueues(naming),
    streams: Object.values(Streams).map((name) => ({ name, origin: naming.key(name), dead: naming.key(`${name}:dead`) })),
  };
}

/** Each source by the name letters carry in `source`: a queue's name, a stream's (the one it failed in). */
export function sourceNames(sources: DeadLetterSources): string[] {
  return [...sources.queues, ...sources.streams.map((s) => s.origin)];
}
