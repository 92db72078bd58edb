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
import { claimConfirmPage, claimDonePage, loginFailedPage } from './auth-pages.js';
import { AuthService, claimPath, loginUrl } from './auth.service.js';
import type { AuthUser } from './auth.types.js';
import { LoginFailedError } from './oidc-client.service.js';
import { SWAGGER_UI_SCRIPT } from './swagger-ui-extension.js';
import { GeneratedTokenDto, GenerateTokenQueryDto, TokenDto, toTokenDto } from './tokens.dto.js';

/**
 * The throttler of the auth routes (per client IP, counted in Redis, shared by all replicas).
 * Named `default` so the answers carry the standard Retry-After and X-RateLimit-* headers.
 */
export const AUTH_THROTTLER = 'default';

const wantsHtml = (req: Request) => req.accepts(['json', 'html']) === 'html';
/** A navigation another site started (browsers say so in Sec-Fetch-Site; clients without it are not browsers). */
const fromAnotherSite = (req: Request) => ['cross-site', 'same-site'].includes(String(req.headers['sec-fetch-site'] ?? ''));

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
  @ApiOperation({ summary: 'Log out', description: "Ends the session, then the identity provider's session when it offers RP-initiated logout." })
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
    summary: 'Claim a generated token by opening its link',
    description:
      'Logs in first when needed. Opened directly (typed, pasted, clicked in a terminal, or from this site), the token is claimed at once and ' +
      'acts as you from then on. Reached from another site, the page asks for confirmation instead (POST), so no other site can make you claim its token.',
  })
  @ApiProduces('text/html', 'application/json')
  @ApiOkResponse({ description: 'The token is claimed (an HTML page, or the token as JSON), or — from another site — a confirmation page' })
  @ApiFoundResponse({ description: 'Not logged in: redirect to the login, then back here' })
  @ApiNotFoundResponse({ description: 'No such token waits to be claimed', type: ErrorResponseDto })
  async claimPage(@Param('id', ParseUUIDPipe) id: string, @CurrentUser() user: AuthUser | undefined, @Req() req: Request, @Res() res: Response): Promise<void> {
    if (!user) {
      res.redirect(302, loginUrl(claimPath(id)));
      return;
    }
    res.setHeader('Cache-Control', 'no-store');
    const { token, alreadyYours } = await this.auth.claimable(user, id);
    if (alreadyYours) {
      if (wantsHtml(req)) res.type('html').send(claimDonePage({ token, userName: user.name }));
      else res.json(toTokenDto(token));
      return;
    }
    if (fromAnotherSite(req)) {
      res.type('html').send(claimConfirmPage({ token, userName: user.name, action: claimPath(id) }));
      return;
    }
    const claimed = await this.auth.claim(user, id);
    if (wantsHtml(req)) res.type('html').send(claimDonePage({ token: claimed, userName: user.name }));
    else res.json(toTokenDto(claimed));
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
