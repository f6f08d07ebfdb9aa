// How the harnesses put a caught error into a row or onto stderr: its message, without the stack.

/** The message of `error`, or the thrown value as text when it is not an Error. */
export function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}
