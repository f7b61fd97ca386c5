import { type DynamicModule, Module, type Provider } from '@nestjs/common';
import { JWT_SECRET, TokenVerifier, tokenVerifierProvider } from './token-verifier.js';

export interface AuthModuleOptions {
  /** Provider (or factory) of the HMAC secret. */
  secret: Omit<Provider<string>, 'provide'> & { inject?: unknown[]; useFactory: (...args: never[]) => string };
  /** Extra providers, e.g. `ACTIVE_USER_CHECK`, `REVOCATION_CHECK`. */
  providers?: Provider[];
  /** Of those, what the app's own providers inject too (e.g. `REVOCATION_CHECK`, to revoke tokens). */
  exports?: DynamicModule['exports'];
  imports?: DynamicModule['imports'];
}

/**
 * Bearer-token verification for an HTTP service. The app registers `JwtAuthGuard`
 * then `RolesGuard` as global guards (in its own providers, so their order is its
 * choice): every route then needs a valid token unless `@Public()`, and
 * `@Roles('admin')` limits a route to admins.
 */
@Module({})
export class AuthModule {
  static forRoot(options: AuthModuleOptions): DynamicModule {
    return {
      module: AuthModule,
      imports: options.imports ?? [],
      providers: [
        { provide: JWT_SECRET, ...options.secret } as Provider,
        ...(options.providers ?? []),
        tokenVerifierProvider,
      ],
      exports: [JWT_SECRET, TokenVerifier, ...(options.exports ?? [])],
    };
  }
}
