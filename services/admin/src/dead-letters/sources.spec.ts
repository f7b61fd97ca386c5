import { describe, expect, it } from '@jest/globals';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Naming } from '@flotilla/config';
import { Streams } from '@flotilla/contracts';
import { PLATFORM_SERVICES } from '@flotilla/messaging';
import { deadLetterSources, sourceNames } from './sources.js';

const SERVICES_DIR = join(process.cwd(), 'services');

describe('dead-letter sources', () => {
  it('name every service that joins the bus, as its app module names itself', () => {
    const named = readdirSync(SERVICES_DIR).flatMap((dir) => {
      const match = /\bservice: '([a-z][a-z0-9-]*)'/.exec(readFileSync(join(SERVICES_DIR, dir, 'src', 'app.module.ts'), 'utf8'));
      return match ? [match[1]] : [];
    });
    expect([...PLATFORM_SERVICES].sort()).toEqual(named.sort());
  });

  it('are each service’s dead-letter queue and each stream’s :dead stream, in the namespace', () => {
    const sources = deadLetterSources(new Naming('ns'));
    expect(sources.queues).toEqual(PLATFORM_SERVICES.map((s) => `ns.${s}.events.dlq`));
    expect(sources.streams).toEqual(Object.values(Streams).map((name) => ({ name, origin: `ns:${name}`, dead: `ns:${name}:dead` })));
    expect(sourceNames(sources)).toEqual(expect.arrayContaining(['ns.admin.events.dlq', 'ns:votes', 'ns:requests']));
  });
});
