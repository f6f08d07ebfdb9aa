// The switchboard chat page: one WebSocket speaking switchboard.v1 (docs/protocol.md) for rooms, history,
// presence, a nickname every tab shares through its key, and resume {offset, epoch} after a disconnect.
// Every piece of text from the network reaches the page through textContent, never as markup.

const nickPattern = /^[A-Za-z0-9_.-]{1,32}$/
const roomPattern = /^[A-Za-z0-9_.#-]{1,64}$/
// localStorage, so every tab of this origin uses the same name: {nick, key}.
const identityStorageKey = 'switchboard.identity'
// sessionStorage, so a reload of this tab comes back to its rooms: {rooms, current}.
const roomsStorageKey = 'switchboard.rooms'
const retryDelaysMs = [500, 1000, 2000, 5000, 10000]
const nickColors = 8

const $ = (id) => document.getElementById(id)
const ui = {
  status: $('status'),
  nickForm: $('nick-form'),
  nickInput: $('nick-input'),
  nickHint: $('nick-hint'),
  roomList: $('room-list'),
  joinForm: $('join-form'),
  roomInput: $('room-input'),
  roomHint: $('room-hint'),
  roomTitle: $('room-title'),
  logs: $('logs'),
  sendForm: $('send-form'),
  messageInput: $('message-input'),
  people: $('people'),
  peopleCount: $('people-count'),
}

/** Each room this tab is in: its log, who is there, the last message shown, events held during its join. */
const rooms = new Map()
let current = 'lobby'
let socket = null
/** {nick, key} once the server has welcomed us; null while disconnected. */
let me = null
let wasConnected = false
let nextRequestId = 1
const pendingReplies = new Map()
let retryAttempt = 0
let retryTimer = 0
let stopped = false

// ---- connection ----

function connect() {
  clearTimeout(retryTimer)
  const query = new URLSearchParams({ room: current })
  const identity = loadIdentity()
  if (identity) {
    query.set('nick', identity.nick)
    query.set('key', identity.key)
  }
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:'
  const ws = new WebSocket(`${scheme}//${location.host}/ws?${query}`, 'switchboard.v1')
  socket = ws
  // Until a room's join is answered, its events wait, so history and live messages stay in order.
  for (const room of rooms.values()) room.held = []
  setConnection('connecting', 'Connecting…')
  ws.addEventListener('message', (event) => {
    if (ws === socket && typeof event.data === 'string') onFrame(event.data)
  })
  ws.addEventListener('close', (event) => {
    if (ws === socket) onClose(event)
  })
}

function onClose(event) {
  socket = null
  me = null
  for (const resolve of pendingReplies.values()) {
    resolve({ ok: false, error: { code: 'disconnected', message: 'the connection closed' } })
  }
  pendingReplies.clear()
  if (wasConnected) note(rooms.get(current), 'Connection lost.', 'error')
  wasConnected = false
  const identity = loadIdentity()
  if ((event.code === 4409 || event.code === 4400) && identity) {
    // The query was refused: the stored name is someone else's now (or invalid). Come back as a guest.
    localStorage.removeItem(identityStorageKey)
    note(
      rooms.get(current),
      `The name ${identity.nick} is not yours any more (${event.reason}); pick another name.`,
      'error',
    )
    return connect()
  }
  if (event.code === 4403 || event.code === 4000) {
    stopped = true
    return setConnection('closed', `Disconnected: ${event.reason || 'by the server'}. Reload to come back.`)
  }
  const delayMs = retryDelaysMs[Math.min(retryAttempt, retryDelaysMs.length - 1)]
  retryAttempt++
  // Jitter, so a restarted server is not met by every page in the same millisecond.
  const waitMs = Math.round(delayMs * (0.75 + Math.random() * 0.5))
  setConnection('closed', `Disconnected — reconnecting in ${Math.ceil(waitMs / 1000)} s…`)
  retryTimer = setTimeout(connect, waitMs)
}

addEventListener('online', () => {
  if (socket === null && !stopped) connect()
})

function request(body) {
  return new Promise((resolve) => {
    if (socket === null || socket.readyState !== WebSocket.OPEN) {
      return resolve({ ok: false, error: { code: 'disconnected', message: 'not connected' } })
    }
    const id = nextRequestId++
    pendingReplies.set(id, resolve)
    socket.send(JSON.stringify({ id, ...body }))
  })
}

function onFrame(text) {
  let frame
  try {
    frame = JSON.parse(text)
  } catch {
    return // The server sends only JSON; anything else is not ours to show.
  }
  if ('ok' in frame) {
    const resolve = pendingReplies.get(frame.id)
    pendingReplies.delete(frame.id)
    if (resolve) resolve(frame)
    else if (!frame.ok) note(rooms.get(current), `Server: ${frame.error.message}`, 'error')
    return
  }
  if (frame.type === 'welcome') return onWelcome(frame)
  if (frame.type === 'direct') return showMessage(rooms.get(current), frame)
  const room = rooms.get(frame.room)
  if (room === undefined) return
  if (room.held) room.held.push(frame)
  else onRoomEvent(room, frame)
}

function onRoomEvent(room, event) {
  if (event.type === 'message') showMessage(room, event)
  else if (event.type === 'presence') onPresence(room, event)
}

function onWelcome(welcome) {
  me = { nick: welcome.nick, key: welcome.key }
  retryAttempt = 0
  if (wasConnected === false && rooms.get(current).log.childElementCount > 0) {
    note(rooms.get(current), `Reconnected as ${me.nick}.`)
  }
  wasConnected = true
  setConnection('open', `Connected as ${me.nick}`)
  if (!isGuest(me.nick)) ui.nickInput.value = me.nick
  for (const room of rooms.values()) void joinRoom(room)
}

// ---- rooms and history ----

async function joinRoom(room) {
  room.held ??= []
  const via = socket
  const resume = room.resume
  const reply = await request({ op: 'join', room: room.name, ...(resume ? { resume } : {}) })
  if (!reply.ok) {
    // After a disconnect the next welcome joins again; a refusal (too many rooms) holds nothing more.
    if (reply.error.code !== 'disconnected') {
      room.held = null
      note(room, `Could not join: ${reply.error.message}`, 'error')
    }
    return
  }
  room.members = new Set(reply.members)
  if (room.name === current) renderPeople()
  await showHistory(room, reply.history, resume)
  // Cut off while paging: the next connection holds its own events and joins again.
  if (socket !== via) return
  const held = room.held ?? []
  room.held = null
  for (const event of held) onRoomEvent(room, event)
}

// A page holds at most 500 messages: ask for the next ones until the room's last offset is reached.
async function showHistory(room, firstPage, resume) {
  let page = firstPage
  let from = resume
  if (!resume && page.messages.length > 0) note(room, 'Recent messages', 'divider')
  for (;;) {
    if (page.gap) showGap(room, page.gap, from)
    for (const message of page.messages) showMessage(room, message)
    if (page.messages.length === 0 || room.resume?.epoch !== page.epoch) {
      room.resume = { offset: page.lastOffset, epoch: page.epoch }
    }
    if (room.resume.offset >= page.lastOffset) return
    from = room.resume
    const reply = await request({ op: 'history', room: room.name, after: from })
    if (!reply.ok) return
    page = reply.history
  }
}

function showGap(room, gap, from) {
  if (gap.reason === 'epoch-changed') {
    note(
      room,
      'History gap: the server lost what was said here before (it restarted). A new conversation starts here.',
      'gap',
    )
    return
  }
  const missed = from ? gap.firstOffset - from.offset - 1 : 0
  const count = missed > 0 ? `${missed} message${missed === 1 ? '' : 's'}` : 'Some messages'
  note(
    room,
    `History gap: ${count} you missed ${missed === 1 ? 'is' : 'are'} no longer kept by the server.`,
    'gap',
  )
}

function addRoom(name) {
  let room = rooms.get(name)
  if (room) return room
  const log = document.createElement('ol')
  log.className = 'log'
  log.setAttribute('role', 'log')
  log.setAttribute('aria-label', `Messages in ${name}`)
  log.tabIndex = 0
  log.hidden = true
  ui.logs.append(log)
  room = { name, log, members: new Set(), resume: null, held: null, unread: 0 }
  rooms.set(name, room)
  return room
}

function switchTo(name) {
  current = name
  for (const room of rooms.values()) room.log.hidden = room.name !== name
  const room = rooms.get(name)
  room.unread = 0
  room.log.scrollTop = room.log.scrollHeight
  ui.roomTitle.textContent = name
  renderRooms()
  renderPeople()
  saveRooms()
}

async function leaveRoom(name) {
  const reply = await request({ op: 'leave', room: name })
  if (!reply.ok && reply.error.code !== 'disconnected' && reply.error.code !== 'not-in-room') {
    return note(rooms.get(name), `Could not leave: ${reply.error.message}`, 'error')
  }
  rooms.get(name)?.log.remove()
  rooms.delete(name)
  if (current === name) switchTo(rooms.keys().next().value)
  else renderRooms()
  saveRooms()
}

// ---- what the log shows ----

function showMessage(room, event) {
  if (event.type === 'message') {
    // A reconnect may deliver a message twice (resume and live events overlap): show each offset once.
    const seen = room.resume
    if (seen && seen.epoch === event.epoch && event.offset <= seen.offset) return
    room.resume = { offset: event.offset, epoch: event.epoch }
  }
  const item = document.createElement('li')
  item.className = 'message'
  const text = typeof event.data === 'string' ? event.data : `[binary ${byteLength(event.data)} bytes]`
  const isAction = typeof event.data === 'string' && text.startsWith('/me ')
  const from = nickElement(event.from)
  if (event.type === 'direct') {
    item.classList.add('direct')
    from.append(` → ${event.to === me?.nick ? 'you' : event.to} (private)`)
  }
  if (event.from === me?.nick) item.classList.add('mine')
  if (isAction) item.classList.add('action')
  const body = document.createElement('span')
  body.className = 'text'
  body.textContent = isAction ? text.slice(4) : text
  if (isAction) from.prepend('* ')
  item.append(timeElement(event.ts), from, body)
  if (typeof event.offset === 'number') item.dataset.offset = String(event.offset)
  append(room, item)
}

function onPresence(room, event) {
  if (event.event === 'join') room.members.add(event.member)
  else room.members.delete(event.member)
  if (room.name === current) renderPeople()
  const item = document.createElement('li')
  item.className = 'note presence'
  item.append(timeElement(event.ts), nickElement(event.member), event.event === 'join' ? ' joined' : ' left')
  append(room, item, false)
}

function note(room, text, kind = 'info') {
  if (room === undefined) return
  const item = document.createElement('li')
  item.className = `note ${kind}`
  item.textContent = text
  append(room, item, false)
}

// Only messages count as unread; notes and presence do not.
function append(room, item, counts = true) {
  const { log } = room
  const atBottom = log.scrollHeight - log.scrollTop - log.clientHeight < 48
  log.append(item)
  if (atBottom) log.scrollTop = log.scrollHeight
  if (counts && room.name !== current) {
    room.unread++
    renderRooms()
  }
}

function timeElement(ts) {
  const time = document.createElement('time')
  const date = new Date(ts)
  time.dateTime = date.toISOString()
  time.title = date.toLocaleString()
  const today = date.toDateString() === new Date().toDateString()
  const clock = date.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })
  time.textContent = today ? clock : `${date.toLocaleDateString()} ${clock}`
  return time
}

function nickElement(nick) {
  const span = document.createElement('span')
  span.className = `nick nick-c${colorOf(nick)}`
  span.textContent = nick
  return span
}

function colorOf(nick) {
  let hash = 0
  for (const char of nick) hash = (hash * 31 + char.charCodeAt(0)) >>> 0
  return hash % nickColors
}

// Bytes travel as {"base64": "…"}: the length follows from the text and its padding.
function byteLength(data) {
  const base64 = typeof data?.base64 === 'string' ? data.base64 : ''
  const padding = base64.endsWith('==') ? 2 : base64.endsWith('=') ? 1 : 0
  return Math.max(0, Math.floor((base64.length * 3) / 4) - padding)
}

// ---- side panels ----

function renderRooms() {
  const items = [...rooms.values()].map((room) => {
    const item = document.createElement('li')
    const open = document.createElement('button')
    open.type = 'button'
    open.className = 'room'
    open.textContent = room.name
    if (room.name === current) open.setAttribute('aria-current', 'true')
    if (room.unread > 0) {
      const badge = document.createElement('span')
      badge.className = 'unread'
      badge.textContent = String(room.unread)
      badge.title = `${room.unread} new`
      open.append(' ', badge)
    }
    open.addEventListener('click', () => switchTo(room.name))
    item.append(open)
    if (rooms.size > 1) {
      const leave = document.createElement('button')
      leave.type = 'button'
      leave.className = 'leave'
      leave.textContent = '×'
      leave.setAttribute('aria-label', `Leave ${room.name}`)
      leave.addEventListener('click', () => void leaveRoom(room.name))
      item.append(leave)
    }
    return item
  })
  ui.roomList.replaceChildren(...items)
}

function renderPeople() {
  const room = rooms.get(current)
  const names = [...room.members].sort((a, b) => a.localeCompare(b))
  ui.people.replaceChildren(
    ...names.map((name) => {
      const item = document.createElement('li')
      item.append(nickElement(name))
      if (name === me?.nick) item.append(' (you)')
      return item
    }),
  )
  ui.peopleCount.textContent = `(${names.length})`
}

function setConnection(state, text) {
  document.body.dataset.connection = state
  ui.status.textContent = text
}

// ---- nickname ----

function isGuest(nick) {
  return nick.startsWith('guest-')
}

function loadIdentity() {
  try {
    const identity = JSON.parse(localStorage.getItem(identityStorageKey) ?? 'null')
    return typeof identity?.nick === 'string' && typeof identity?.key === 'string' ? identity : null
  } catch {
    return null // A damaged entry is as good as none: the page starts as a guest.
  }
}

async function claimNick(name, key) {
  const reply = await request({ op: 'nick', name, ...(key ? { key } : {}) })
  if (!reply.ok) {
    ui.nickHint.textContent =
      reply.error.code === 'nick-taken' ? `${name} is taken by someone else.` : reply.error.message
    return
  }
  me = { nick: reply.nick, key: reply.key }
  localStorage.setItem(identityStorageKey, JSON.stringify(me))
  ui.nickInput.value = me.nick
  ui.nickHint.textContent = `You are ${me.nick}.`
  setConnection('open', `Connected as ${me.nick}`)
  renderPeople()
}

ui.nickForm.addEventListener('submit', (event) => {
  event.preventDefault()
  const name = ui.nickInput.value.trim()
  if (!nickPattern.test(name) || isGuest(name)) {
    ui.nickHint.textContent = 'A name is 1–32 letters, digits, _ - or . and does not start with guest-.'
    return ui.nickInput.focus()
  }
  if (me === null) {
    ui.nickHint.textContent = 'Not connected yet; try again in a moment.'
    return
  }
  if (name !== me.nick) void claimNick(name)
})

// Another tab took or changed the name: use it here too, with its key, so the person counts once.
addEventListener('storage', (event) => {
  if (event.key !== identityStorageKey) return
  const identity = loadIdentity()
  if (identity && me && identity.nick !== me.nick) void claimNick(identity.nick, identity.key)
})

// ---- composing ----

ui.sendForm.addEventListener('submit', (event) => {
  event.preventDefault()
  const text = ui.messageInput.value
  if (text.trim() === '') return
  if (me === null) {
    ui.status.textContent = 'Not connected: your message is kept here until the connection is back.'
    return
  }
  ui.messageInput.value = ''
  void publish(current, text)
})

async function publish(roomName, text) {
  const reply = await request({ op: 'publish', room: roomName, data: text })
  if (reply.ok) return
  note(rooms.get(roomName), `Not sent: ${reply.error.message}`, 'error')
  if (ui.messageInput.value === '') ui.messageInput.value = text
}

ui.messageInput.addEventListener('keydown', (event) => {
  if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
    event.preventDefault()
    ui.sendForm.requestSubmit()
  }
})

ui.joinForm.addEventListener('submit', (event) => {
  event.preventDefault()
  const name = ui.roomInput.value.trim()
  if (!roomPattern.test(name)) {
    ui.roomHint.textContent = 'A room name is 1–64 letters, digits, _ - . or #.'
    return ui.roomInput.focus()
  }
  ui.roomHint.textContent = ''
  ui.roomInput.value = ''
  const isNew = !rooms.has(name)
  const room = addRoom(name)
  switchTo(name)
  if (isNew && me !== null) void joinRoom(room)
  ui.messageInput.focus()
})

// ---- start ----

function saveRooms() {
  sessionStorage.setItem(roomsStorageKey, JSON.stringify({ rooms: [...rooms.keys()], current }))
}

function loadRooms() {
  try {
    const saved = JSON.parse(sessionStorage.getItem(roomsStorageKey) ?? 'null')
    const names = Array.isArray(saved?.rooms) ? saved.rooms.filter((name) => roomPattern.test(name)) : []
    if (names.length === 0) return { names: ['lobby'], current: 'lobby' }
    return { names, current: names.includes(saved.current) ? saved.current : names[0] }
  } catch {
    return { names: ['lobby'], current: 'lobby' } // A damaged entry: start in the lobby.
  }
}

const saved = loadRooms()
for (const name of saved.names) addRoom(name)
switchTo(saved.current)
connect()
// A chat page is opened to write in it: start in the message box (the name field is one Shift+Tab away).
ui.messageInput.focus()
