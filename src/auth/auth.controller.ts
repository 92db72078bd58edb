import { Controller, Get, Header, HttpCode, Param, ParseUUIDPipe, Post, Query, Req, Res, UseGuards } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiCreatedResponse,
  ApiExcludeEndpoint,
  ApiFoundResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiProduces,
  ApiTags,
  ApiTooManyRequestsResponse,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import { SkipThrottle, Throttle, ThrottlerGuard } from '@nestjs/throttler';
import type { Request, Response } from 'express';
import { ErrorResponseDto } from '../common/error-response.js';
import { Authenticated, CurrentUser, Public } from './auth.decorators.js';
import { LoginQueryDto, SessionStateDto } from './auth.dto.js';
import { claimConfirmPage, claimDonePage, loginFailedPage, logoutConfirmPage } from './auth-pages.js';
import { DEFAULT_NEXT } from './next-path.js';
import { AuthService, claimPath, loginUrl } from './auth.service.js';
import type { AuthUser } from './auth.types.js';
import { LoginFailedError } from './oidc-client.service.js';
import { SWAGGER_UI_SCRIPT } from './swagger-ui-extension.js';
import { ClaimableTokenDto, GeneratedTokenDto, GenerateTokenQueryDto, TokenDto, toClaimableTokenDto, toTokenDto } from './tokens.dto.js';

/**
 * The throttler of the auth routes (per client IP, counted in Redis, shared by all replicas).
 * Named `default` so the answers carry the standard Retry-After and X-RateLimit-* headers.
 */
export const AUTH_THROTTLER = 'default';

const wantsHtml = (req: Request) => req.accepts(['json', 'html']) === 'html';

@ApiTags('auth')
@UseGuards(ThrottlerGuard)
@ApiTooManyRequestsResponse({ description: 'Too many attempts from this address; see Retry-After', type: ErrorResponseDto })
@Controller('auth')
export class AuthController {
  constructor(private readonly auth: AuthService) {}

  @Public()
  @Get('login')
  @ApiOperation({ summary: 'Log in with the identity provider (browser)', description: 'Redirects to the OpenID Connect provider, then back to `next`.' })
  @ApiFoundResponse({ description: 'Redirect to the identity provider' })
  @ApiBadRequestResponse({ description: '`next` is not a local path', type: ErrorResponseDto })
  async login(@Query() query: LoginQueryDto, @Req() req: Request, @Res() res: Response): Promise<void> {
    await this.auth.startLogin(req, res, query.next);
  }

  @Public()
  @Get('redirect')
  @ApiOperation({ summary: 'Where the identity provider sends the browser back (OAuth redirect URI)' })
  @ApiFoundResponse({ description: 'Logged in: redirect to `next`' })
  @ApiUnauthorizedResponse({ description: 'The login was refused or its state does not match', type: ErrorResponseDto })
  async redirect(@Req() req: Request, @Res() res: Response): Promise<void> {
    try {
      res.redirect(302, await this.auth.finishLogin(req, res));
    } catch (error) {
      if (!(error instanceof LoginFailedError)) throw error;
      if (!wantsHtml(req)) throw error;
      res.status(401).type('html').send(loginFailedPage(error.reason, loginUrl()));
    }
  }

  @Public()
  @Get('logout')
  @ApiOperation({
    summary: 'Log out (asks first)',
    description: 'Logged in: a page that asks, whose button POSTs here (a link from another site cannot log you out). Not logged in: back to /api/docs.',
  })
  @ApiProduces('text/html', 'application/json')
  @ApiOkResponse({ description: 'The confirmation page' })
  @ApiFoundResponse({ description: 'Not logged in: redirect to /api/docs' })
  logoutPage(@CurrentUser() user: AuthUser | undefined, @Req() req: Request, @Res() res: Response): void {
    if (!user || user.via !== 'session') {
      res.redirect(302, DEFAULT_NEXT);
      return;
    }
    res.setHeader('Cache-Control', 'no-store');
    if (wantsHtml(req)) res.type('html').send(logoutConfirmPage({ userName: user.name, action: '/api/auth/logout' }));
    else res.json({ authenticated: true, message: 'POST /api/auth/logout (from this site) to log out', logout_href: '/api/auth/logout' });
  }

  @Public()
  @Post('logout')
  @ApiOperation({
    summary: 'Log out',
    description:
      "Ends the session, then the identity provider's session when it offers RP-initiated logout. Refused (403) from another site, like every cookie-authenticated write.",
  })
  @ApiFoundResponse({ description: "Redirect to the provider's logout, or to /api/docs" })
  async logout(@Req() req: Request, @Res() res: Response): Promise<void> {
    res.redirect(302, await this.auth.logout(req, res));
  }

  @Public()
  @SkipThrottle({ [AUTH_THROTTLER]: true })
  @Get('session')
  @ApiOperation({ summary: 'Who is logged in (never 401): for pages such as Swagger UI' })
  @ApiOkResponse({ type: SessionStateDto })
  session(@CurrentUser() user: AuthUser | undefined): Promise<SessionStateDto> {
    return this.auth.sessionState(user);
  }

  @Public()
  @Throttle({ [AUTH_THROTTLER]: { limit: 10, ttl: 60_000 } })
  @Post('tokens/generate')
  @ApiOperation({
    summary: 'Start the command-line token flow',
    description: 'Returns an unclaimed token and its claim link. The token is refused (401) until a logged-in person claims it, within 10 minutes; then it acts as that person.',
  })
  @ApiCreatedResponse({ type: GeneratedTokenDto })
  generate(@Query() query: GenerateTokenQueryDto): Promise<GeneratedTokenDto> {
    return this.auth.generateToken(query.description);
  }

  @Public()
  @Get('tokens/:id/claim')
  @ApiOperation({
    summary: 'Open the claim link of a generated token: a confirmation page, never a claim',
    description:
      'Logs in first when needed, then shows what is being granted (the token acts as you, with all your rights), the token description ' +
      'and when it was requested, and a button that claims it (POST). Opening the link never claims anything, however the browser got ' +
      'there, so a link another person sends cannot make you claim their token. As JSON: the token waiting to be claimed.',
  })
  @ApiProduces('text/html', 'application/json')
  @ApiOkResponse({ description: 'The confirmation page (HTML), or the token waiting to be claimed (JSON)', type: ClaimableTokenDto })
  @ApiFoundResponse({ description: 'Not logged in: redirect to the login, then back here' })
  @ApiNotFoundResponse({ description: 'No such token waits to be claimed', type: ErrorResponseDto })
  async claimPage(@Param('id', ParseUUIDPipe) id: string, @CurrentUser() user: AuthUser | undefined, @Req() req: Request, @Res() res: Response): Promise<void> {
    if (!user) {
      res.redirect(302, loginUrl(claimPath(id)));
      return;
    }
    res.setHeader('Cache-Control', 'no-store');
    const { token, alreadyYours, claimBefore } = await this.auth.claimable(user, id);
    if (!wantsHtml(req)) {
      res.json(toClaimableTokenDto(token, alreadyYours, claimBefore, claimPath(id)));
      return;
    }
    if (alreadyYours) res.type('html').send(claimDonePage({ token, userName: user.name }));
    else res.type('html').send(claimConfirmPage({ token, userName: user.name, role: user.role, claimBefore, action: claimPath(id) }));
  }

  @Authenticated()
  @Post('tokens/:id/claim')
  @HttpCode(200)
  @Header('Cache-Control', 'no-store')
  @ApiOperation({ summary: 'Claim a generated token: it now acts as you', description: 'Answers the confirmation page to a browser form, the token otherwise.' })
  @ApiOkResponse({ type: TokenDto })
  @ApiNotFoundResponse({ description: 'No such token waits to be claimed', type: ErrorResponseDto })
  async claim(@Param('id', ParseUUIDPipe) id: string, @CurrentUser() user: AuthUser, @Req() req: Request, @Res() res: Response): Promise<void> {
    const token = await this.auth.claim(user, id);
    if (wantsHtml(req)) res.type('html').send(claimDonePage({ token, userName: user.name }));
    else res.json(toTokenDto(token));
  }

  @Public()
  @SkipThrottle({ [AUTH_THROTTLER]: true })
  @Get('swagger-ui.js')
  @ApiExcludeEndpoint()
  @Header('Content-Type', 'application/javascript; charset=utf-8')
  @Header('Cache-Control', 'public, max-age=300')
  swaggerUiScript(): string {
    return SWAGGER_UI_SCRIPT;
  }
}
