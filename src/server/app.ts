/** The express application of an ingress process: routes in, errors out as JSON. */
import express, { type Express, type Router } from 'express';
import type { Logger } from 'pino';
import { errorHandler, sendError } from './http-errors.ts';

export function createApp(routers: Router[], logger: Logger): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', true);
  for (const router of routers) app.use(router);
  app.use((_req, res) => sendError(res, 404, 'not_found', 'no such route'));
  app.use(errorHandler(logger));
  return app;
}
