import type { INestApplication } from '@nestjs/common';
import type { Request, Response } from 'express';
import { DocumentBuilder, OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import { SWAGGER_UI_CSS } from './auth/swagger-ui-extension.js';
import { AppConfig } from './config/app-config.js';
import { VERSION } from './health/version.js';

export function buildOpenApiDocument(app: INestApplication): OpenAPIObject {
  const builder = new DocumentBuilder()
    .setTitle('Sightline API')
    .setDescription(
      'Open geospatial imagery hub: upload geotagged pictures, register raster datasets, harvest catalogs, ' +
        'and read everything through a STAC API.\n\n' +
        '**Authentication.** In a browser, [log in](/api/auth/login?next=/api/docs) (OpenID Connect): the session ' +
        'cookie then works with "Try it out". Scripts send `Authorization: Bearer <token>`: a personal API token ' +
        '(`POST /api/users/me/tokens`, or `POST /api/auth/tokens/generate` then claim it in a browser) or an access ' +
        'token of the identity provider. Use "Authorize" to try routes with a token.',
    )
    .setVersion(VERSION)
    .addBearerAuth({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' }, 'bearer')
    .addCookieAuth('sightline.sid', { type: 'apiKey', in: 'cookie', name: 'sightline.sid' }, 'session');
  return SwaggerModule.createDocument(app, builder.build(), {
    operationIdFactory: (controllerKey: string, methodKey: string) => `${controllerKey.replace(/Controller$/, '')}_${methodKey}`,
  });
}

/** Sorts object keys recursively, so the committed openapi.json diffs cleanly. */
export function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((k) => [k, sortKeys((value as Record<string, unknown>)[k])]),
    );
  }
  return value;
}

export function setupSwagger(app: INestApplication): OpenAPIObject {
  const config = app.get(AppConfig);
  const document = buildOpenApiDocument(app);
  document.servers = [{ url: new URL(config.PUBLIC_URL).origin }];
  SwaggerModule.setup('api/docs', app, document, {
    jsonDocumentUrl: 'api/docs/openapi.json',
    yamlDocumentUrl: 'api/docs/openapi.yaml',
    customSiteTitle: 'Sightline API',
    // Shows who is logged in (or a login link); a script file, as the CSP forbids inline scripts.
    customJs: '/api/auth/swagger-ui.js',
    customCss: SWAGGER_UI_CSS,
    // STAC clients ask for the media type the landing page's service-desc link advertises.
    patchDocumentOnRequest: <TRequest, TResponse>(req: TRequest, res: TResponse, doc: OpenAPIObject) => {
      const accept = String((req as Request).headers.accept ?? '');
      if (accept.includes('application/vnd.oai.openapi+json')) (res as Response).type('application/vnd.oai.openapi+json;version=3.0');
      return doc;
    },
    swaggerOptions: {
      persistAuthorization: true,
      withCredentials: true,
      tagsSorter: 'alpha',
      displayRequestDuration: true,
    },
  });
  return document;
}
