// /metrics in Prometheus's text format. On a port of its own (METRICS_PORT, for a network only
// Prometheus reaches), or on the API's port behind `Authorization: Bearer $METRICS_TOKEN`; on the
// API's port without a token only outside production.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { timingSafeEqual } from 'node:crypto';
import type { App } from '../instance.js';

/** What this module uses of the application instance. */
type Services = Pick<App, 'config' | 'metrics'>;

async function send(app: Services, response: ServerResponse): Promise<void> {
  const body = await app.metrics.registry.metrics();
  response.writeHead(200, { 'content-type': app.metrics.registry.contentType });
  response.end(body);
}

const sameSecret = (given: string, expected: string) => given.length === expected.length && timingSafeEqual(Buffer.from(given), Buffer.from(expected));

/** Answers /metrics on the API's port if it is served there; false when the request is not for it. */
export function serveMetrics(app: Services, request: IncomingMessage, response: ServerResponse): boolean {
  if (request.url?.split('?')[0] !== '/metrics' || app.config.metrics.port !== undefined) return false;
  const { token } = app.config.metrics;
  const given = /^Bearer\s+(\S+)$/i.exec(request.headers.authorization ?? '')?.[1] ?? '';
  if (token ? !sameSecret(given, token) : app.config.nodeEnv === 'production') {
    response.writeHead(token ? 401 : 404, { 'content-type': 'text/plain; charset=utf-8' });
    response.end(token ? 'unauthorized' : 'not found');
    return true;
  }
  void send(app, response);
  return true;
}

/** The server of METRICS_PORT: /metrics and nothing else. */
export function createMetricsServer(app: Services): Server {
  return createServer((request, response) => {
    if (request.method === 'GET' && request.url?.split('?')[0] === '/metrics') return void send(app, response);
    response.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' });
    response.end('not found');
  });
}
