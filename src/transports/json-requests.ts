// Carries out switchboard.v1 requests against a hub session, for every transport that speaks JSON.
import type { Hub } from '../hub/hub.js'
import { HubError } from '../hub/hub-error.js'
import type { HistoryPage } from '../hub/history.js'
import type { RoomMessage } from '../hub/member.js'
import type { Session } from '../hub/session.js'
import { encodeData, formatError, formatReply, type Request } from './codec/json-protocol.js'

/** The reply to send, whether the client asked to leave, and the refusal if it was one (for counters). */
export interface RequestOutcome {
  reply: string
  quit: boolean
  error: HubError | null
}

/** Runs one request and formats its reply (errors included, with the request's id). */
export async function runRequest(hub: Hub, session: Session, request: Request): Promise<RequestOutcome> {
  const { id } = request
  const result = await perform(hub, session, request)
  if (result instanceof HubError) return { reply: formatError(id, result), quit: false, error: result }
  const reply = formatReply(request.op === 'ping' ? 'pong' : request.op, id, result)
  return { reply, quit: request.op === 'quit', error: null }
}

async function perform(
  hub: Hub,
  session: Session,
  request: Request,
): Promise<Record<string, unknown> | HubError> {
  switch (request.op) {
    case 'nick': {
      const claim = await session.setNick(request.name, request.key)
      return claim instanceof HubError ? claim : { nick: claim.nick, key: claim.key }
    }
    case 'join': {
      const joined = await session.join(request.room, request.resume)
      return joined instanceof HubError
        ? joined
        : { room: joined.room, members: joined.members, history: wireHistory(joined.history) }
    }
    case 'leave': {
      const left = await session.leave(request.room)
      return left instanceof HubError ? left : { room: request.room }
    }
    case 'publish': {
      const message = await session.publish(request.room, request.data, { echo: request.echo })
      return message instanceof HubError
        ? message
        : { room: message.room, offset: message.offset, epoch: message.epoch, ts: message.ts }
    }
    case 'direct': {
      const sent = await session.direct(request.to, request.data)
      return sent instanceof HubError ? sent : { to: sent.to, ts: sent.ts }
    }
    case 'who': {
      const members = request.connections
        ? await session.whoConnections(request.room)
        : await session.who(request.room)
      return members instanceof HubError ? members : { room: request.room, members }
    }
    case 'rooms':
      return { rooms: await hub.rooms() }
    case 'history': {
      const query = request.after
        ? { after: request.after }
        : { last: request.last ?? hub.limits.recentOnJoin }
      const page = await session.history(request.room, query)
      return page instanceof HubError ? page : { history: wireHistory(page) }
    }
    case 'ping':
      return {}
    case 'quit':
      return {}
  }
}

/** A history page as it travels in JSON, message data encoded. */
export function wireHistory(page: HistoryPage): Record<string, unknown> {
  return {
    room: page.room,
    epoch: page.epoch,
    lastOffset: page.lastOffset,
    gap: page.gap,
    messages: page.messages.map(wireMessage),
  }
}

/** A room message as it travels in JSON. */
export function wireMessage(message: RoomMessage): Record<string, unknown> {
  return { ...message, data: encodeData(message.data) }
}
