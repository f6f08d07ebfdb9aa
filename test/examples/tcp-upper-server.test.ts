// examples/tcp-upper-server.ts run as a learner runs it, talked to by netcat and node:net.
import assert from 'node:assert/strict'
import { once } from 'node:events'
import { connect, createServer } from 'node:net'
import { describe, it, type TestContext } from 'node:test'
import { finish, listeningPort, runExample, spawnProgram } from './program.js'

/** Starts the server on a free port and resolves with it once it listens. */
async function startServer(t: TestContext) {
  const server = runExample(t, 'tcp-upper-server', ['--port', '0'])
  return { server, port: await listeningPort(server, 'tcp') }
}

describe('examples/tcp-upper-server', () => {
  it('answers each line nc sends in upper case, and prints the conversation', async (t) => {
    const { server, port } = await startServer(t)
    const nc = spawnProgram(t, 'nc', ['-N', '127.0.0.1', String(port)])
    nc.child.stdin.end('hello\nsockets\n')
    assert.deepStrictEqual(await finish(nc), { code: 0, lines: ['HELLO', 'SOCKETS'] })
    const peer = /^(127\.0\.0\.1:\d+) connected$/.exec(await server.stdout.next())?.[1]
    assert.ok(peer)
    assert.equal(await server.stdout.next(), `${peer} said "hello", answering "HELLO"`)
    assert.equal(await server.stdout.next(), `${peer} said "sockets", answering "SOCKETS"`)
    assert.equal(await server.stdout.next(), `${peer} disconnected`)
  })

  it('decodes a UTF-8 character split between two writes', async (t) => {
    const { port } = await startServer(t)
    const socket = connect({ port, host: '127.0.0.1', noDelay: true })
    t.after(() => socket.destroy())
    await once(socket, 'connect')
    // "grüße\n": ü is C3 BC, ß is C3 9F; the first write ends inside ü.
    await new Promise((resolve) => socket.write(Buffer.from('6772c3', 'hex'), resolve))
    socket.end(Buffer.from('bcc39f650a', 'hex'))
    const chunks: Buffer[] = []
    for await (const chunk of socket) chunks.push(chunk)
    // ß has no capital in toUpperCase: it becomes SS.
    assert.equal(Buffer.concat(chunks).toString(), 'GRÜSSE\n')
  })

  it('stops on SIGTERM with a client still connected, and exits 0', async (t) => {
    const { server, port } = await startServer(t)
    const socket = connect({ port, host: '127.0.0.1' })
    t.after(() => socket.destroy())
    const peer = /^(\S+) connected$/.exec(await server.stdout.next())?.[1]
    const ended = once(socket, 'end')
    server.child.kill('SIGTERM')
    // The server ends its side first; the client answers by ending its own.
    await ended
    socket.end()
    assert.deepStrictEqual(await finish(server), {
      code: 0,
      lines: ['stopping', `${peer} disconnected`, 'stopped'],
    })
  })

  it('says why and exits 1 when the port is taken', async (t) => {
    const other = createServer()
    await new Promise<void>((resolve) => other.listen(0, '127.0.0.1', resolve))
    t.after(() => other.close())
    const { port } = other.address() as { port: number }
    const server = runExample(t, 'tcp-upper-server', ['--port', String(port)])
    assert.equal((await finish(server)).code, 1)
    assert.match(server.stderr(), new RegExp(`^cannot listen on 127\\.0\\.0\\.1:${port}: .*EADDRINUSE`))
  })

  it('refuses a port that is not a number with its usage and exit code 2', async (t) => {
    const server = runExample(t, 'tcp-upper-server', ['--port', 'ninety'])
    assert.deepStrictEqual(await finish(server), { code: 2, lines: [] })
    assert.match(server.stderr(), /^--port must be a whole number from 0 to 65535, not "ninety"\n\nusage: /)
  })

  it('prints its usage for --help and exits 0', async (t) => {
    const { code, lines } = await finish(runExample(t, 'tcp-upper-server', ['--help']))
    assert.equal(code, 0)
    assert.match(lines[0], /^usage: node dist\/examples\/tcp-upper-server\.js /)
  })
})
