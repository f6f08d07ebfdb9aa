// The argument handling every example shares, kept out of them so each program shows only its sockets:
// `--name value` options, `--help`, and a usage message with exit code 2 for anything malformed.
import { parseArgs } from 'node:util'

/** An option's value as read: a string when it has a default, possibly absent when it has none. */
type OptionValues<D> = { [K in keyof D]: D[K] extends string ? string : string | undefined }

/**
 * Reads `process.argv`: the `--name value` options named in `defaults` (each with its default, or undefined for
 * none), and the words after them. Prints `usage` and exits 0 for `--help`; prints the problem and `usage` and
 * exits 2 for an unknown or incomplete option.
 */
export function readCommandLine<D extends Record<string, string | undefined>>(
  usage: string,
  defaults: D,
): { values: OptionValues<D>; positionals: string[] } {
  const options: Record<string, { type: 'string'; default?: string }> = {}
  for (const [name, value] of Object.entries(defaults)) {
    options[name] = value === undefined ? { type: 'string' } : { type: 'string', default: value }
  }
  let parsed: ReturnType<typeof parseArgs>
  try {
    parsed = parseArgs({
      options: { ...options, help: { type: 'boolean', short: 'h' } },
      allowPositionals: true,
      strict: true,
    })
  } catch (error) {
    return exitWithUsage(usage, error instanceof Error ? error.message : String(error))
  }
  if (parsed.values.help) {
    console.log(usage)
    process.exit(0)
  }
  return { values: parsed.values as OptionValues<D>, positionals: parsed.positionals }
}

/** Prints `problem` and `usage` on stderr and exits 2, the usual code for a wrong command line. */
export function exitWithUsage(usage: string, problem: string): never {
  console.error(`${problem}\n\n${usage}`)
  process.exit(2)
}

/**
 * The whole number in `text`, between `min` and `max`; otherwise says which option is wrong and exits 2.
 * `name` is the option's name as typed, without dashes.
 */
export function readInteger(usage: string, name: string, text: string | undefined, min: number, max: number) {
  const value = Number(text)
  if (text === undefined || text.trim() === '' || !Number.isInteger(value) || value < min || value > max) {
    exitWithUsage(
      usage,
      `--${name} must be a whole number from ${min} to ${max}, not ${JSON.stringify(text)}`,
    )
  }
  return value
}

/** A port from `text`: 0 (any free port, for servers) to 65535. */
export function readPort(usage: string, text: string | undefined, name = 'port'): number {
  return readInteger(usage, name, text, 0, 65535)
}

/** `host:port` as people write it, with an IPv6 address in brackets: `127.0.0.1:9090`, `[::1]:9090`. */
export function formatHostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`
}
