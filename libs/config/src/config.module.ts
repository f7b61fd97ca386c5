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
    // Loaded when the app is created, not when this module is imported, so a bad
    // variable surfaces as a start-up error the bootstrap can report cleanly.
    return {
      module: FlotillaConfigModule,
      providers: [
        { provide: ENV, useFactory: () => loadEnv(EnvClass, source) },
        { provide: Naming, inject: [ENV], useFactory: (env: BaseEnv) => new Naming(env.NAMESPACE) },
      ],
      exports: [ENV, Naming],
    };
  }
}
