// The chat page of `serve`: the three files of the package's web/ folder, read on each request (they are
// small, and an edited file shows on reload), with validators so a browser revalidates instead of refetching.
import { createHash } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import type { IncomingMessage, ServerResponse } from 'node:http'

/** The package's web/ folder: compiled code runs from dist/src/cli/, and web/ sits at the package root. */
export const webDirectory = new URL('../../../web/', import.meta.url)

/** Each URL path the page is made of, the file under web/ that answers it, and its content type. */
export const webFiles: Readonly<Record<string, { file: string; contentType: string }>> = {
  '/': { file: 'index.html', contentType: 'text/html; charset=utf-8' },
  '/app.js': { file: 'app.js', contentType: 'text/javascript; charset=utf-8' },
  '/style.css': { file: 'style.css', contentType: 'text/css; charset=utf-8' },
}

// The page loads nothing from elsewhere and talks only to its own host (CSP Level 3 lets 'self' match ws:
// and wss: on the same host; the explicit schemes keep older Safari working). No inline code or styles.
const contentSecurityPolicy = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "connect-src 'self' ws: wss:",
  'img-src data:',
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ')

/**
 * Answers GET or HEAD for one of the page's files ({@link webFiles}) and returns true; returns false, having
 * sent nothing, for any other path. A file missing from the package is a JSON 404 naming it.
 */
export function serveWebFile(
  request: IncomingMessage,
  response: ServerResponse,
  path: string,
  directory: URL = webDirectory,
): boolean {
  const entry = Object.hasOwn(webFiles, path) ? webFiles[path] : undefined
  if (entry === undefined) return false
  void readFile(new URL(entry.file, directory)).then(
    (body) => sendFile(request, response, body, entry.contentType),
    () =>
      sendJson(response, 404, {
        code: 'not-found',
        message: `web/${entry.file} is missing from this installation`,
      }),
  )
  return true
}

function sendFile(
  request: IncomingMessage,
  response: ServerResponse,
  body: Buffer,
  contentType: string,
): void {
  const etag = `"${createHash('sha1').update(body).digest('base64url')}"`
  const headers: Record<string, string | number> = {
    'Content-Type': contentType,
    // Same URLs across versions (no hashed names): the browser may keep a copy but asks each time, and a
    // matching ETag costs a 304 with no body.
    'Cache-Control': 'no-cache',
    ETag: etag,
    'X-Content-Type-Options': 'nosniff',
  }
  if (contentType.startsWith('text/html')) {
    headers['Content-Security-Policy'] = contentSecurityPolicy
    headers['Referrer-Policy'] = 'no-referrer'
  }
  if (hasMatchingTag(request.headers['if-none-match'], etag)) {
    response.writeHead(304, headers)
    response.end()
    return
  }
  response.writeHead(200, { ...headers, 'Content-Length': body.length })
  response.end(request.method === 'HEAD' ? undefined : body)
}

// RFC 9110 §13.1.2: a list of entity tags, or `*`; weak tags compare equal to their strong form.
function hasMatchingTag(header: string | undefined, etag: string): boolean {
  if (header === undefined) return false
  return header.split(',').some((tag) => {
    const trimmed = tag.trim()
    return trimmed === '*' || trimmed.replace(/^W\//, '') === etag
  })
}

function sendJson(response: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body)
  response.writeHead(status, {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(text),
  })
  response.end(text)
}
