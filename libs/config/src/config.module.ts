import { type DynamicModule, Global, Module } from '@nestjs/common';
import { loadEnv, type BaseEnv } from './env.js';
import { Naming } from './naming.js';

/** Injection token of the validated environment object. */
export const ENV = Symbol('ENV');

/**
 * Validates the environment once at boot (failing with the variable's name) and
 * provides it as `ENV` plus the installation's {@link Naming}.
 */
@Global()
@Module({})
export class FlotillaConfigModule {
  static forRoot<T extends BaseEnv>(EnvClass: new () => T, source = process.env): DynamicModule {
    const env = loadEnv(EnvClass, source);
    return {
      module: FlotillaConfigModule,
      providers: [
        { provide: ENV, useValue: env },
        { provide: Naming, useValue: new Naming(env.NAMESPACE) },
      ],
      exports: [ENV, Naming],
    };
  }
}
