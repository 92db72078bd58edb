import express, { NextFunction, Request, RequestHandler, Response } from 'express';
import { toErrorBody } from './all-exceptions.filter.js';

/** Wraps a body parser so its errors (bad JSON, too large) answer in the error shape. */
function guarded(parser: RequestHandler): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) =>
    parser(req, res, (err?: unknown) => {
      if (!err) return next();
      const body = toErrorBody(err);
      // The rest of the body was not read: close the connection rather than drain it.
      if (body.statusCode === 413) res.setHeader('Connection', 'close');
      res.status(body.statusCode).json(body);
    });
}

export function bodyParsers(limitBytes: number): RequestHandler[] {
  return [guarded(express.json({ limit: limitBytes, type: ['application/json', 'application/*+json'] })), guarded(express.urlencoded({ limit: limitBytes, extended: false }))];
}
