// The text-mode commands of the line protocol (docs/line-protocol.md): what each asks of the hub, and the
// lines a connection answers with. TCP and Unix use them as they are; UDP (docs/udp.md) with its options.
import type { Hub } from '../hub/hub.js'
import { HubError } from '../hub/hub-error.js'
import type { RoomMessage } from '../hub/member.js'
import type { JoinResult, Session } from '../hub/session.js'
import { actionPrefix, type Command, formatAnswer, formatOk } from './codec/line.js'
import { encodeEvent } from './line-bytes.js'

/** Where a transport's text commands depart from the line protocol of TCP and Unix. */
export interface TextCommandOptions {
  /** Whether plain text and `/me` come back to their sender. @default false */
  echo: boolean
  /**
   * What a `/join` answer carries after its `OK` line: the room's recent messages, or (`'count'`) only how
   * many `/history N` can show, inside the `OK` line. @default 'messages'
   */
  joinHistory: 'messages' | 'count'
  /** The message of `ERR 403 not-in-room`, for a command that needs a room while in none. */
  notInRoomMessage: string
}

/** The line protocol's text commands, as TCP and Unix connections carry them out. */
export const textCommandDefaults = {
  echo: false,
  joinHistory: 'messages',
  notInRoomMessage: 'you are in no room; /join ROOM first',
} as const satisfies TextCommandOptions

/** What a text command needs from the connection it came on. */
export interface TextCommandContext {
  hub: Hub
  /** The room plain lines go to, or null when the connection is in none. */
  currentRoom(): string | null
  /** Makes `room` the one plain lines go to (after `/join`). */
  enterRoom(room: string): void
  /** Switches the connection to JSON lines (`/json`). */
  useJson(): void
  /** Switches the connection to text (`/text`); absent where a text line implies text mode already. */
  useText?(): void
  /** Says BYE and closes the connection (`/quit`). */
  quit(): void
  /** The bytes of a room's message in a `/history` or `/join` answer. @default its text line */
  encodeMessage?(message: RoomMessage): Buffer
  /** How this transport departs from TCP and Unix. @default textCommandDefaults */
  options?: Partial<TextCommandOptions>
}

/** Carries out a text command; the answer is its lines (a room's messages already encoded), or a refusal. */
export async function runTextCommand(
  context: TextCommandContext,
  session: Session,
  command: Command,
): Promise<Array<string | Buffer> | HubError> {
  switch (command.kind) {
    case 'blank':
      return []
    case 'say':
    case 'me':
      return say(context, session, command.kind === 'me' ? actionPrefix + command.text : command.text)
    case 'msg': {
      const sent = await session.direct(command.to, command.text)
      return sent instanceof HubError ? sent : [formatAnswer.msg(command.to)]
    }
    case 'nick': {
      const claim = await session.setNick(command.name, command.key)
      return claim instanceof HubError ? claim : [formatAnswer.nick(claim.nick, claim.key)]
    }
    case 'join':
      return join(context, session, command.room)
    case 'leave': {
      const room = command.room ?? context.currentRoom()
      const left = room === null ? notInRoom(context) : await session.leave(room)
      return left instanceof HubError ? left : [formatAnswer.leave(room!, context.currentRoom())]
    }
    case 'rooms':
      return [formatAnswer.rooms(await context.hub.rooms())]
    case 'who': {
      const room = command.room ?? context.currentRoom()
      const members = room === null ? notInRoom(context) : await session.who(room)
      return members instanceof HubError ? members : [formatAnswer.who(room!, members)]
    }
    case 'history': {
      const room = context.currentRoom()
      const last = command.last ?? context.hub.limits.recentOnJoin
      const page = room === null ? notInRoom(context) : await session.history(room, { last })
      if (page instanceof HubError) return page
      return [
        formatAnswer.history(page.room, page.messages.length),
        ...encodeMessages(context, page.messages),
      ]
    }
    case 'help':
      return formatAnswer.help()
    case 'ping':
      return [formatAnswer.ping()]
    case 'quit':
      context.quit()
      return []
    case 'text':
      context.useText?.()
      return [formatAnswer.text()]
    case 'json':
      context.useJson()
      return [JSON.stringify({ ok: true, op: 'json' })]
  }
}

async function say(context: TextCommandContext, session: Session, text: string): Promise<[] | HubError> {
  const room = context.currentRoom()
  if (room === null) return notInRoom(context)
  // Deviation from JSON publish: a person sees what they typed already, so it is not echoed (unless the
  // transport asks, as UDP does: there the line coming back is the only sign that it arrived).
  const echo = context.options?.echo ?? textCommandDefaults.echo
  const sent = await session.publish(room, text, { echo })
  return sent instanceof HubError ? sent : []
}

async function join(
  context: TextCommandContext,
  session: Session,
  room: string,
): Promise<Array<string | Buffer> | HubError> {
  const joined = await session.join(room)
  if (joined instanceof HubError) return joined
  context.enterRoom(joined.room)
  if ((context.options?.joinHistory ?? textCommandDefaults.joinHistory) === 'count')
    return [joinCount(joined)]
  return [formatAnswer.join(joined.room, joined.members), ...encodeMessages(context, joined.history.messages)]
}

// `OK join dev (2 here: ann, bob; /history N shows the last N of 17)`: the join in one line.
function joinCount({ room, members, history }: JoinResult): string {
  const here = `${members.length} here: ${members.join(', ')}`
  const earlier = history.lastOffset > 0 ? `; /history N shows the last N of ${history.lastOffset}` : ''
  return formatOk(`join ${room} (${here}${earlier})`)
}

function encodeMessages(context: TextCommandContext, messages: readonly RoomMessage[]): Buffer[] {
  return messages.map((message) => context.encodeMessage?.(message) ?? encodeEvent(message, 'text'))
}

function notInRoom(context: TextCommandContext): HubError {
  const message = context.options?.notInRoomMessage ?? textCommandDefaults.notInRoomMessage
  return new HubError('not-in-room', 403, message)
}
