// The text-mode commands of the line protocol (docs/line-protocol.md): what each asks of the hub, and the
// lines a connection answers with.
import type { Hub } from '../hub/hub.js'
import { HubError } from '../hub/hub-error.js'
import type { HubEvent } from '../hub/member.js'
import type { Session } from '../hub/session.js'
import { actionPrefix, type Command, formatAnswer } from './codec/line.js'
import { encodeEvent } from './line-bytes.js'

/** What a text command needs from the connection it came on. */
export interface TextCommandContext {
  hub: Hub
  /** The room plain lines go to, or null when the connection is in none. */
  currentRoom(): string | null
  /** Makes `room` the one plain lines go to (after `/join`). */
  enterRoom(room: string): void
  /** Switches the connection to JSON lines (`/json`). */
  useJson(): void
  /** Says BYE and closes the connection (`/quit`). */
  quit(): void
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
    case 'me': {
      const room = context.currentRoom()
      if (room === null) return notInRoom()
      const text = command.kind === 'me' ? actionPrefix + command.text : command.text
      // Deviation from JSON publish: a person sees what they typed already, so it is not echoed.
      const sent = await session.publish(room, text, { echo: false })
      return sent instanceof HubError ? sent : []
    }
    case 'msg': {
      const sent = await session.direct(command.to, command.text)
      return sent instanceof HubError ? sent : [formatAnswer.msg(command.to)]
    }
    case 'nick': {
      const claim = await session.setNick(command.name, command.key)
      return claim instanceof HubError ? claim : [formatAnswer.nick(claim.nick, claim.key)]
    }
    case 'join': {
      const joined = await session.join(command.room)
      if (joined instanceof HubError) return joined
      context.enterRoom(joined.room)
      return [formatAnswer.join(joined.room, joined.members), ...encodeMessages(joined.history.messages)]
    }
    case 'leave': {
      const room = command.room ?? context.currentRoom()
      const left = room === null ? notInRoom() : await session.leave(room)
      return left instanceof HubError ? left : [formatAnswer.leave(room!, context.currentRoom())]
    }
    case 'rooms':
      return [formatAnswer.rooms(await context.hub.rooms())]
    case 'who': {
      const room = command.room ?? context.currentRoom()
      const members = room === null ? notInRoom() : await session.who(room)
      return members instanceof HubError ? members : [formatAnswer.who(room!, members)]
    }
    case 'history': {
      const room = context.currentRoom()
      const last = command.last ?? context.hub.limits.recentOnJoin
      const page = room === null ? notInRoom() : await session.history(room, { last })
      if (page instanceof HubError) return page
      return [formatAnswer.history(page.room, page.messages.length), ...encodeMessages(page.messages)]
    }
    case 'help':
      return formatAnswer.help()
    case 'ping':
      return [formatAnswer.ping()]
    case 'quit':
      context.quit()
      return []
    case 'text':
      return [formatAnswer.text()]
    case 'json':
      context.useJson()
      return [JSON.stringify({ ok: true, op: 'json' })]
  }
}

function encodeMessages(messages: readonly HubEvent[]): Buffer[] {
  return messages.map((message) => encodeEvent(message, 'text'))
}

function notInRoom(): HubError {
  return new HubError('not-in-room', 403, 'you are in no room; /join ROOM first')
}
