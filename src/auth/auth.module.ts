import { Global, MiddlewareConsumer, Module, NestModule } from '@nestjs/common';
import { ThrottlerModule } from '@nestjs/throttler';
import { TypeOrmModule } from '@nestjs/typeorm';
import { ApiToken } from './api-token.entity.js';
import { AUTH_THROTTLER, AuthController } from './auth.controller.js';
import { AuthService } from './auth.service.js';
import { AuthenticationMiddleware } from './authentication.middleware.js';
import { BearerAuthService } from './bearer-auth.service.js';
import { AppConfig } from '../config/app-config.js';
import { PROCESS_ROLE } from '../queue/process-role.js';
import { DevIdentityProvider } from './dev-identity-provider.js';
import { OidcClientService } from './oidc-client.service.js';
import { RedisThrottlerStorage } from './redis-throttler.storage.js';
import { SessionMiddleware } from './session.middleware.js';
import { SessionsRepository } from './sessions.repository.js';
import { TokensController } from './tokens.controller.js';
import { TokensService } from './tokens.service.js';
import { UserSession } from './user-session.entity.js';
import { User } from './user.entity.js';
import { UsersController } from './users.controller.js';
import { UsersRepository } from './users.repository.js';
import { UsersService } from './users.service.js';

/** Where the rate limits of the auth routes are counted (Redis, shared by replicas). */
@Module({ providers: [RedisThrottlerStorage], exports: [RedisThrottlerStorage] })
class RateLimitStorageModule {}

@Global()
@Module({
  imports: [
    TypeOrmModule.forFeature([User, ApiToken, UserSession]),
    ThrottlerModule.forRootAsync({
      imports: [RateLimitStorageModule],
      inject: [RedisThrottlerStorage],
      useFactory: (storage: RedisThrottlerStorage) => ({
        storage,
        throttlers: [{ name: AUTH_THROTTLER, ttl: 60_000, limit: 30 }],
        errorMessage: 'Too many attempts from your address: wait a minute and try again',
      }),
    }),
  ],
  controllers: [AuthController, UsersController, TokensController],
  providers: [
    TokensService,
    UsersService,
    UsersRepository,
    SessionsRepository,
    OidcClientService,
    BearerAuthService,
    AuthService,
    { provide: DevIdentityProvider, inject: [AppConfig, PROCESS_ROLE], useFactory: DevIdentityProvider.create },
    SessionMiddleware,
    AuthenticationMiddleware,
  ],
  exports: [TokensService, UsersService],
})
export class AuthModule implements NestModule {
  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(SessionMiddleware, AuthenticationMiddleware).forRoutes('*path');
  }
}
