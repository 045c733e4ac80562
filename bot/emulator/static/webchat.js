// The offline web chat: plays Telegram users against the emulator's /_emulator/ API.
// Everything the bot sends is untrusted text: the DOM is built with textContent and
// createElement from the message entities, never with innerHTML.
"use strict";

const STORE = "servicebot.webchat";
const POLL_SECONDS = 25;
const LINK_SCHEMES = ["http:", "https:", "mailto:", "tel:"];

const state = {
  panes: new Map(), // chat id -> Pane: a user's private chat (id > 0) or a group (id < 0)
  users: [], // every user the emulator knows, for "write as" in groups
  active: null,
  sideBySide: false,
  cursor: 0, // the last event seq the poller has seen
  poll: null, // AbortController of the running long poll
  roles: false, // whether a new user may take a staff role (the offline runner's demo)
};

// --- small helpers ----------------------------------------------------------------------

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = text;
  return node;
}

async function api(path, body) {
  const options = body === undefined ? {} : {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
  };
  const response = await fetch(path, options);
  const data = await response.json();
  if (!data.ok) throw new Error(data.error || data.description || "request failed");
  return data;
}

function safeUrl(raw) {
  try {
    const url = new URL(raw, window.location.href);
    return LINK_SCHEMES.includes(url.protocol) ? url.href : null;
  } catch {
    return null;
  }
}

function osmUrl(location) {
  const lat = Number(location.latitude).toFixed(6);
  const lon = Number(location.longitude).toFixed(6);
  return `https://www.openstreetmap.org/?mlat=${lat}&mlon=${lon}#map=17/${lat}/${lon}`;
}

function externalLink(href, text) {
  const a = el("a", null, text);
  a.href = href;
  a.target = "_blank";
  a.rel = "noopener noreferrer";
  return a;
}

function timeOf(unix) {
  const date = new Date(unix * 1000);
  return date.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", hour12: false });
}

function save() {
  const open = [...state.panes.values()].map((p) => p.chat);
  localStorage.setItem(STORE, JSON.stringify({
    open, active: state.active, sideBySide: state.sideBySide,
  }));
}

function load() {
  try {
    return JSON.parse(localStorage.getItem(STORE)) || {};
  } catch {
    return {};
  }
}

// --- rendering text with entities -----------------------------------------------------------

// Plain stretches still get what Telegram clients link by themselves: /commands and URLs.
// ``pane`` is null inside links and code, where nothing more is linked.
const AUTO_LINK = /(\/[A-Za-z0-9_]{1,32}\b)|(https?:\/\/[^\s<>"]+[^\s<>".,;:!?)])/g;

function appendPlain(parent, text, pane) {
  if (!pane) {
    parent.append(text);
    return;
  }
  let last = 0;
  for (const match of text.matchAll(AUTO_LINK)) {
    const before = text.slice(0, match.index);
    // A slash inside a word or a path (a/b, 1/2) is no command.
    if (match[1] && before && /[\w/.:]$/.test(before)) continue;
    parent.append(text.slice(last, match.index));
    if (match[1]) {
      const command = el("button", "link-command", match[1]);
      command.type = "button";
      command.title = `Send ${match[1]}`;
      command.addEventListener("click", () => pane.sendText(match[1]));
      parent.append(command);
    } else if (safeUrl(match[2])) {
      parent.append(externalLink(safeUrl(match[2]), match[2]));
    } else {
      parent.append(match[0]);
    }
    last = match.index + match[0].length;
  }
  parent.append(text.slice(last));
}

function entityNode(entity, text) {
  switch (entity.type) {
    case "bold": return el("strong");
    case "italic": return el("em");
    case "underline": return el("u");
    case "strikethrough": return el("s");
    case "spoiler": {
      const node = el("span", "spoiler");
      node.tabIndex = 0;
      node.title = "Spoiler: click to show";
      node.addEventListener("click", () => node.classList.add("shown"));
      node.addEventListener("keydown", (event) => {
        if (event.key === "Enter" || event.key === " ") node.classList.add("shown");
      });
      return node;
    }
    case "code": return el("code");
    case "pre": {
      const node = el("pre");
      if (entity.language) node.dataset.language = entity.language;
      return node;
    }
    case "blockquote":
    case "expandable_blockquote": return el("blockquote");
    case "text_link": {
      const href = safeUrl(entity.url || "");
      return href ? externalLink(href) : el("span");
    }
    case "url": {
      const href = safeUrl(text.includes("://") ? text : `https://${text}`);
      return href ? externalLink(href) : el("span");
    }
    case "email": {
      const href = safeUrl(`mailto:${text}`);
      return href ? externalLink(href) : el("span");
    }
    default: return el("span");
  }
}

const LITERAL = new Set(["code", "pre"]);
const LINKS = new Set(["text_link", "url", "email"]);

// Offsets count UTF-16 code units, exactly as JavaScript strings index.
function renderEntities(parent, text, entities, pane) {
  const sorted = [...(entities || [])]
    .filter((e) => e.length > 0)
    .sort((a, b) => a.offset - b.offset || b.length - a.length);
  const build = (node, start, end, list, linking) => {
    let pos = start;
    let i = 0;
    while (i < list.length) {
      const entity = list[i];
      const from = Math.max(entity.offset, pos);
      const to = Math.min(entity.offset + entity.length, end);
      const inside = [];
      let j = i + 1;
      while (j < list.length && list[j].offset < to) {
        inside.push(list[j]);
        j += 1;
      }
      if (from < to) {
        if (from > pos) appendPlain(node, text.slice(pos, from), linking);
        const child = entityNode(entity, text.slice(from, to));
        if (LITERAL.has(entity.type)) child.textContent = text.slice(from, to);
        else build(child, from, to, inside, LINKS.has(entity.type) ? null : linking);
        node.append(child);
        pos = to;
      }
      i = j;
    }
    if (pos < end) appendPlain(node, text.slice(pos, end), linking);
  };
  build(parent, 0, text.length, sorted, pane);
}

// --- one chat ---------------------------------------------------------------------------------

class Pane {
  constructor(chat) {
    this.chat = chat;
    this.id = chat.id;
    this.isGroup = chat.id < 0;
    this.lastSeq = 0;
    this.unread = 0;
    this.replyKeyboard = null;
    this.nodes = new Map(); // message id -> element
    this.root = document.getElementById("pane-template").content.firstElementChild
      .cloneNode(true);
    this.root.id = `pane-${this.id}`;
    this.root.dataset.chatId = String(this.id);
    this.q = (selector) => this.root.querySelector(selector);
    this.messages = this.q(".messages");
    this.input = this.q(".text-input");
    // Follow new messages while the reader is at the bottom, also when the pane is resized
    // (another pane opened beside it, a phone turned).
    this.stuck = true;
    this.messages.addEventListener("scroll", () => { this.stuck = this.nearBottom(); });
    new ResizeObserver(() => {
      if (this.stuck) this.messages.scrollTop = this.messages.scrollHeight;
    }).observe(this.messages);
    const name = this.isGroup ? chat.title : chat.first_name;
    this.messages.setAttribute("aria-label", `Messages in ${name}`);
    this.root.setAttribute("aria-label", this.isGroup ? `Group ${name}` : `Chat as ${name}`);
    this.q(".pane-name").textContent = name;
    this.q(".pane-meta").textContent = this.isGroup
      ? `Group id ${chat.id} · write as any user`
      : `Telegram id ${chat.id} · ${chat.language_code === "en" ? "English" : "Bahasa Indonesia"}`
        + (chat.role && chat.role !== "citizen" ? ` · ${chat.role}` : "");
    this.q(".avatar").textContent =
      this.isGroup ? "👥" : (name || "?").trim().charAt(0).toUpperCase();
    this.q(".avatar").style.setProperty("--hue", String((Math.abs(chat.id) * 47) % 360));
    this.q(".sender").hidden = !this.isGroup;
    this.refreshSenders();

    this.tab = el("button", "tab");
    this.tab.type = "button";
    this.tab.id = `tab-${this.id}`;
    this.tab.setAttribute("role", "tab");
    this.tab.setAttribute("aria-controls", this.root.id);
    this.root.setAttribute("aria-labelledby", this.tab.id);
    this.tab.append(el("span", "tab-name", this.isGroup ? `👥 ${name}` : name),
      el("span", "badge"));
    this.tab.addEventListener("click", () => activate(this.id));
    this.tab.addEventListener("keydown", (event) => moveTab(event, this.id));

    this.wire();
  }

  wire() {
    this.q(".composer").addEventListener("submit", (event) => {
      event.preventDefault();
      const text = this.input.value;
      if (!text.trim()) return;
      this.input.value = "";
      this.closeCommands();
      this.sendText(text);
    });
    this.input.addEventListener("input", () => {
      const value = this.input.value;
      if (/^\/\w*$/.test(value)) this.openCommands(value.slice(1));
      else this.closeCommands();
    });
    this.input.addEventListener("keydown", (event) => {
      if (event.key === "Escape") this.closeCommands();
      if (event.key === "ArrowDown" && !this.q(".command-menu").hidden) {
        event.preventDefault();
        this.q(".command-menu button")?.focus();
      }
    });
    this.q(".commands-button").addEventListener("click", () => {
      if (this.q(".command-menu").hidden) this.openCommands("");
      else this.closeCommands();
    });
    this.q(".command-menu").addEventListener("keydown", (event) => this.menuKeys(event));
    this.q(".attach-button").addEventListener("click", () => this.toggleAttach());
    this.q(".keyboard-button").addEventListener("click", () => {
      const board = this.q(".reply-keyboard");
      board.hidden = !board.hidden;
      this.q(".keyboard-button").setAttribute("aria-pressed", String(!board.hidden));
    });
    this.q(".preset").addEventListener("change", (event) => {
      const [lat, lon] = event.target.value.split(",");
      this.q(".lat").value = lat;
      this.q(".lon").value = lon;
    });
    this.q(".send-location").addEventListener("click", () => this.sendLocationFromPanel());
    this.q(".send-file").addEventListener("click", () => this.sendFileFromPanel());
    this.q(".close-pane").addEventListener("click", () => closePane(this.id));
    this.q(".toast-ok").addEventListener("click", () => this.hideToast());
  }

  // --- sending ---

  // Who writes: the user of a private chat, or the one chosen under a group.
  get senderId() {
    return this.isGroup ? Number(this.q(".sender").value) || null : this.id;
  }

  refreshSenders() {
    if (!this.isGroup) return;
    const select = this.q(".sender");
    const chosen = select.value;
    select.replaceChildren(...state.users.map((user) => {
      const option = el("option", null, `${user.first_name} (${user.id})`);
      option.value = String(user.id);
      return option;
    }));
    if (chosen && state.users.some((u) => String(u.id) === chosen)) select.value = chosen;
  }

  async post(body) {
    const sender = this.senderId;
    if (!sender) {
      this.toast("Create a user first: they write in the group.", true);
      return;
    }
    const path = this.isGroup
      ? `/_emulator/chats/${this.id}/messages?user_id=${sender}`
      : `/_emulator/users/${this.id}/messages`;
    try {
      await api(path, body);
    } catch (error) {
      this.toast(`Not sent: ${error.message}`, true);
    }
  }

  sendText(text) {
    return this.post({ text });
  }

  toggleAttach(open) {
    const panel = this.q(".attach-panel");
    panel.hidden = open === undefined ? !panel.hidden : !open;
    this.q(".attach-button").setAttribute("aria-expanded", String(!panel.hidden));
    if (!panel.hidden) this.q(".lat").focus();
  }

  async sendLocationFromPanel() {
    const latitude = Number(this.q(".lat").value);
    const longitude = Number(this.q(".lon").value);
    if (!Number.isFinite(latitude) || Math.abs(latitude) > 90 ||
        !Number.isFinite(longitude) || Math.abs(longitude) > 180) {
      this.toast("Latitude is -90 to 90, longitude -180 to 180.", true);
      return;
    }
    this.toggleAttach(false);
    await this.post({ location: { latitude, longitude } });
    this.input.focus();
  }

  async sendFileFromPanel() {
    const file = this.q(".file").files[0];
    if (!file) {
      this.toast("Choose a file first.", true);
      return;
    }
    const data = await new Promise((resolve, reject) => {
      const reader = new FileReader();
      reader.onload = () => resolve(String(reader.result).split(",", 2)[1] || "");
      reader.onerror = () => reject(reader.error);
      reader.readAsDataURL(file);
    });
    const caption = this.q(".caption").value.trim() || undefined;
    const body = file.type.startsWith("image/")
      ? { photo: data, caption }
      : { document: { file_name: file.name, data, mime_type: file.type }, caption };
    this.q(".file").value = "";
    this.q(".caption").value = "";
    this.toggleAttach(false);
    await this.post(body);
    this.input.focus();
  }

  async click(message, button, node) {
    node.classList.add("pending");
    node.setAttribute("aria-busy", "true");
    try {
      const sender = this.senderId;
      if (!sender) throw new Error("no user to press it");
      const { callback_query_id: query } = await api(`/_emulator/users/${sender}/click`, {
        chat_id: message.chat.id, message_id: message.message_id, data: button.callback_data,
      });
      const { answer } = await api(`/_emulator/callback_answers/${query}?timeout=10`);
      if (answer && answer.text) this.toast(answer.text, answer.show_alert);
      if (answer && answer.url && safeUrl(answer.url)) window.open(safeUrl(answer.url), "_blank");
    } catch (error) {
      this.toast(`The button did not work: ${error.message}`, true);
    } finally {
      node.classList.remove("pending");
      node.removeAttribute("aria-busy");
    }
  }

  async pressKey(button) {
    const keyboard = this.replyKeyboard;
    if (keyboard && keyboard.one_time_keyboard) this.showKeyboard(keyboard, false);
    if (typeof button === "object" && button.request_location) {
      this.toggleAttach(true);
      return;
    }
    if (typeof button === "object" && button.request_contact) {
      const phone = window.prompt("Phone number to share", "+6281234567890");
      if (phone) await this.post({ contact: { phone_number: phone } });
      return;
    }
    await this.sendText(typeof button === "string" ? button : button.text);
  }

  // --- commands menu ---

  async openCommands(prefix) {
    const menu = this.q(".command-menu");
    let commands = [];
    try {
      const sender = this.senderId;
      commands = sender
        ? (await api(`/_emulator/users/${sender}/commands?chat_id=${this.id}`)).commands
        : [];
    } catch {
      commands = [];
    }
    const shown = commands.filter((c) => c.command.startsWith(prefix.toLowerCase()));
    menu.replaceChildren();
    if (!shown.length) {
      menu.hidden = true;
      this.q(".commands-button").setAttribute("aria-expanded", "false");
      return;
    }
    for (const command of shown) {
      const item = el("button", "command");
      item.type = "button";
      item.setAttribute("role", "option");
      item.append(el("span", "command-name", `/${command.command}`),
        el("span", "command-description", command.description));
      item.addEventListener("click", () => {
        this.closeCommands();
        this.input.value = "";
        this.sendText(`/${command.command}`);
        this.input.focus();
      });
      menu.append(item);
    }
    menu.hidden = false;
    this.q(".commands-button").setAttribute("aria-expanded", "true");
  }

  closeCommands() {
    this.q(".command-menu").hidden = true;
    this.q(".commands-button").setAttribute("aria-expanded", "false");
  }

  menuKeys(event) {
    const items = [...this.q(".command-menu").querySelectorAll("button")];
    const at = items.indexOf(document.activeElement);
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      const step = event.key === "ArrowDown" ? 1 : -1;
      const next = at + step;
      if (next < 0) this.input.focus();
      else items[Math.min(next, items.length - 1)].focus();
    } else if (event.key === "Escape") {
      this.closeCommands();
      this.input.focus();
    }
  }

  // --- feedback ---

  toast(text, sticky) {
    const toast = this.q(".toast");
    this.q(".toast-text").textContent = text;
    toast.hidden = false;
    toast.classList.toggle("alert", Boolean(sticky));
    this.q(".toast-ok").hidden = !sticky;
    clearTimeout(this.toastTimer);
    if (sticky) this.q(".toast-ok").focus();
    else this.toastTimer = setTimeout(() => this.hideToast(), 3500);
  }

  hideToast() {
    this.q(".toast").hidden = true;
  }

  // --- receiving ---

  apply(event) {
    if (event.seq <= this.lastSeq) return;
    this.lastSeq = event.seq;
    const message = event.message;
    const existing = this.nodes.get(message.message_id);
    if (event.kind === "delete") {
      if (existing) existing.remove();
      this.nodes.delete(message.message_id);
      return;
    }
    const stick = this.stuck;
    const node = this.renderMessage(event);
    if (existing) existing.replaceWith(node);
    else this.messages.append(node);
    this.nodes.set(message.message_id, node);
    if (event.kind === "bot") this.applyReplyMarkup(event.reply_markup);
    if (!existing || stick) this.scrollDown();
    if (event.kind !== "user" && !existing && state.active !== this.id && !state.sideBySide) {
      this.unread += 1;
      this.tab.querySelector(".badge").textContent = String(this.unread);
    }
  }

  nearBottom() {
    const m = this.messages;
    return m.scrollHeight - m.scrollTop - m.clientHeight < 80;
  }

  scrollDown() {
    this.messages.scrollTop = this.messages.scrollHeight;
    // Again once the layout has settled (images, a pane just shown, fonts).
    requestAnimationFrame(() => { this.messages.scrollTop = this.messages.scrollHeight; });
  }

  applyReplyMarkup(markup) {
    if (!markup) return;
    if (markup.keyboard) this.showKeyboard(markup, true);
    else if (markup.remove_keyboard) this.showKeyboard(null, false);
    if (markup.input_field_placeholder) this.input.placeholder = markup.input_field_placeholder;
    else if (markup.keyboard || markup.remove_keyboard || markup.force_reply) {
      this.input.placeholder = "Write a message…";
    }
  }

  showKeyboard(markup, visible) {
    const board = this.q(".reply-keyboard");
    const toggle = this.q(".keyboard-button");
    if (markup !== this.replyKeyboard) {
      this.replyKeyboard = markup;
      board.replaceChildren();
      for (const row of (markup && markup.keyboard) || []) {
        const line = el("div", "key-row");
        for (const button of row) {
          const label = typeof button === "string" ? button : button.text;
          const key = el("button", "key", label);
          key.type = "button";
          if (typeof button === "object" && (button.request_location || button.request_contact)) {
            key.classList.add("request");
          }
          key.addEventListener("click", () => this.pressKey(button));
          line.append(key);
        }
        board.append(line);
      }
    }
    board.hidden = !(markup && visible);
    toggle.hidden = !markup;
    toggle.setAttribute("aria-pressed", String(!board.hidden));
  }

  renderMessage(event) {
    const message = event.message;
    const mine = event.kind === "user";
    const row = el("div", `message ${mine ? "from-user" : "from-bot"}`);
    row.dataset.messageId = String(message.message_id);
    const bubble = el("div", "bubble");
    row.append(bubble);
    if (this.isGroup && mine) bubble.append(el("div", "sender-name", message.from.first_name));

    if (message.photo && message.photo.length) {
      const biggest = message.photo[message.photo.length - 1];
      const img = el("img", "photo");
      img.src = `/_emulator/files/${encodeURIComponent(biggest.file_id)}`;
      img.alt = message.caption ? `Photo: ${message.caption}` : "Photo";
      img.loading = "lazy";
      bubble.append(img);
    }
    if (message.document) {
      const doc = message.document;
      const link = el("a", "document");
      link.href = `/_emulator/files/${encodeURIComponent(doc.file_id)}`;
      link.download = doc.file_name || "file";
      link.append(el("span", "document-icon", "📄"),
        el("span", "document-name", doc.file_name || "Document"),
        el("span", "document-size", sizeOf(doc.file_size)));
      bubble.append(link);
    }
    if (message.venue) {
      bubble.append(placeCard("venue", message.venue.title, message.venue.address,
        message.venue.location));
    } else if (message.location) {
      const { latitude, longitude } = message.location;
      bubble.append(placeCard("location", "Location",
        `${Number(latitude).toFixed(5)}, ${Number(longitude).toFixed(5)}`, message.location));
    }
    if (message.contact) {
      const card = el("div", "contact");
      card.append(el("span", "contact-icon", "👤"),
        el("span", null, `${message.contact.first_name} · ${message.contact.phone_number}`));
      bubble.append(card);
    }
    const text = message.text ?? message.caption;
    if (text !== undefined && text !== null) {
      const body = el("div", "text");
      renderEntities(body, text, message.entities || message.caption_entities, this);
      bubble.append(body);
    }
    const meta = el("div", "meta");
    if (message.edit_date) meta.append(el("span", "edited", "edited"));
    meta.append(el("time", null, timeOf(message.edit_date || message.date)));
    bubble.append(meta);

    const inline = (message.reply_markup && message.reply_markup.inline_keyboard) ||
      (event.kind === "bot" && event.reply_markup && event.reply_markup.inline_keyboard);
    if (inline && inline.length) row.append(this.inlineKeyboard(message, inline));
    return row;
  }

  inlineKeyboard(message, rows) {
    const board = el("div", "inline-keyboard");
    board.setAttribute("role", "group");
    board.setAttribute("aria-label", "Buttons");
    for (const row of rows) {
      const line = el("div", "button-row");
      for (const button of row) {
        let node;
        if (button.url && safeUrl(button.url)) {
          node = externalLink(safeUrl(button.url), button.text);
          node.className = "inline-button link";
        } else {
          node = el("button", "inline-button", button.text);
          node.type = "button";
          if (button.callback_data !== undefined) {
            node.addEventListener("click", () => this.click(message, button, node));
          } else {
            node.disabled = true;
            node.title = "Not available in the offline chat";
          }
        }
        line.append(node);
      }
      board.append(line);
    }
    return board;
  }
}

function sizeOf(bytes) {
  if (!bytes && bytes !== 0) return "";
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

function placeCard(kind, title, address, location) {
  const card = el("div", `place ${kind}`);
  card.append(el("span", "place-pin", "📍"));
  const body = el("div", "place-body");
  body.append(el("strong", "place-title", title), el("span", "place-address", address));
  const link = externalLink(osmUrl(location), "Open in OpenStreetMap ↗");
  link.className = "osm-link";
  body.append(link);
  card.append(body);
  return card;
}

// --- tabs, panes and the poller ------------------------------------------------------------

function activate(id, focus) {
  state.active = id;
  for (const [paneId, pane] of state.panes) {
    const on = paneId === id;
    pane.tab.setAttribute("aria-selected", String(on));
    pane.tab.tabIndex = on ? 0 : -1;
    pane.root.classList.toggle("active", on);
    if (on) {
      pane.unread = 0;
      pane.tab.querySelector(".badge").textContent = "";
      pane.scrollDown();
      if (focus !== false) pane.input.focus();
    }
  }
  document.getElementById("empty").hidden = state.panes.size > 0;
  save();
}

function moveTab(event, id) {
  const ids = [...state.panes.keys()];
  const at = ids.indexOf(id);
  let next = null;
  if (event.key === "ArrowRight") next = ids[(at + 1) % ids.length];
  if (event.key === "ArrowLeft") next = ids[(at - 1 + ids.length) % ids.length];
  if (next === null) return;
  event.preventDefault();
  activate(next, false);
  state.panes.get(next).tab.focus();
}

async function openPane(chat) {
  if (state.panes.has(chat.id)) {
    activate(chat.id);
    return;
  }
  const pane = new Pane(chat);
  state.panes.set(chat.id, pane);
  document.getElementById("tabs").append(pane.tab);
  document.getElementById("panes").append(pane.root);
  const history = await api(chat.id < 0
    ? `/_emulator/chats/${chat.id}/messages?after=0&timeout=0`
    : `/_emulator/users/${chat.id}/messages?after=0&timeout=0`);
  for (const event of history.events) pane.apply(event);
  activate(chat.id);
  restartPoll();
}

function knowUsers(users) {
  state.users = users;
  for (const pane of state.panes.values()) pane.refreshSenders();
}

function closePane(id) {
  const pane = state.panes.get(id);
  if (!pane) return;
  pane.tab.remove();
  pane.root.remove();
  state.panes.delete(id);
  const next = [...state.panes.keys()].pop() ?? null;
  if (next !== null) activate(next);
  else {
    state.active = null;
    document.getElementById("empty").hidden = false;
    save();
  }
  restartPoll();
}

function restartPoll() {
  if (state.poll) state.poll.abort();
  state.poll = new AbortController();
  poll(state.poll.signal);
}

async function poll(signal) {
  let delay = 500;
  while (!signal.aborted && state.panes.size) {
    const chats = [...state.panes.keys()].map((id) => `chat_id=${id}`).join("&");
    try {
      const response = await fetch(
        `/_emulator/events?after=${state.cursor}&timeout=${POLL_SECONDS}&${chats}`, { signal });
      const data = await response.json();
      if (document.body.classList.contains("server-down")) {
        // Back after an outage: a restarted emulator forgot its users and numbers its
        // events from 1 again, so start over (start() re-creates the open users).
        window.location.reload();
        return;
      }
      for (const event of data.events) state.panes.get(event.chat_id)?.apply(event);
      state.cursor = Math.max(state.cursor, data.last);
      delay = 500;
    } catch (error) {
      if (signal.aborted) return;
      setOffline(true);
      await new Promise((resolve) => setTimeout(resolve, delay));
      delay = Math.min(delay * 2, 5000);
    }
  }
}

function setOffline(down) {
  document.body.classList.toggle("server-down", down);
}

// --- the user dialog ----------------------------------------------------------------------

const NAMES = ["Sari", "Budi", "Dewi", "Agus", "Rina", "Joko", "Maya", "Andi"];

async function openUserDialog() {
  const dialog = document.getElementById("user-dialog");
  if (dialog.open) return;
  let users = [];
  let groups = [];
  try {
    users = (await api("/_emulator/users")).users;
    groups = (await api("/_emulator/chats")).chats.filter((c) => c.type !== "private");
    knowUsers(users);
  } catch {
    users = [];
  }
  const known = document.getElementById("known-users");
  known.replaceChildren();
  const others = [...users, ...groups].filter((c) => !state.panes.has(c.id));
  if (others.length) {
    known.append(el("p", "known-title", "Open again"));
    for (const chat of others) {
      const label = chat.id < 0 ? `👥 ${chat.title}` : `${chat.first_name} · ${chat.id}`;
      const pick = el("button", "known-user", label);
      pick.type = "button";
      pick.addEventListener("click", () => {
        dialog.close();
        openPane(chat);
      });
      known.append(pick);
    }
  }
  let group = -1001000000001;
  while (groups.some((g) => g.id === group)) group -= 1;
  document.getElementById("group-id").value = String(group);
  const taken = new Set(users.map((u) => u.id));
  let next = 1001;
  while (taken.has(next)) next += 1;
  document.getElementById("new-id").value = String(next);
  document.getElementById("new-name").value = NAMES[(next - 1001) % NAMES.length];
  document.getElementById("new-language").value = "id";
  document.getElementById("new-role").value = "citizen";
  document.getElementById("user-error").hidden = true;
  if (!dialog.open) dialog.showModal(); // a second caller may have opened it meanwhile
  document.getElementById("new-name").select();
}

async function createUser(event) {
  event.preventDefault();
  const form = new FormData(document.getElementById("user-form"));
  const error = document.getElementById("user-error");
  const id = Number(form.get("id"));
  const firstName = String(form.get("first_name") || "").trim();
  if (!Number.isInteger(id) || id <= 0 || !firstName) {
    error.textContent = "Give a name and a positive whole number as the id.";
    error.hidden = false;
    return;
  }
  try {
    const { user } = await api("/_emulator/users", {
      id, first_name: firstName, language_code: form.get("language_code"),
    });
    if (state.roles) {
      // The offline runner gives the role in the bot's staff records (and the staff menu).
      const { role } = await api(`/_offline/users/${id}/role`, {
        role: form.get("role"), language_code: form.get("language_code"),
      });
      user.role = role;
    }
    knowUsers([...state.users.filter((u) => u.id !== user.id), user]);
    document.getElementById("user-dialog").close();
    await openPane(user);
  } catch (failure) {
    error.textContent = failure.message;
    error.hidden = false;
  }
}

async function createGroup() {
  const error = document.getElementById("user-error");
  const id = Number(document.getElementById("group-id").value);
  const title = document.getElementById("group-title").value.trim() || "Officers";
  if (!Number.isInteger(id) || id >= 0) {
    error.textContent = "A group id is a negative whole number, e.g. -1001000000001.";
    error.hidden = false;
    return;
  }
  try {
    const { chat } = await api("/_emulator/groups", { id, title });
    document.getElementById("user-dialog").close();
    await openPane(chat);
  } catch (failure) {
    error.textContent = failure.message;
    error.hidden = false;
  }
}

function setLayout(sideBySide) {
  state.sideBySide = sideBySide;
  document.getElementById("panes").classList.toggle("side-by-side", sideBySide);
  document.getElementById("layout-toggle").setAttribute("aria-pressed", String(sideBySide));
  for (const pane of state.panes.values()) pane.scrollDown();
  save();
}

async function offerRoles() {
  // Only the offline runner serves this; the emulator alone (tests) has no roles to give.
  try {
    state.roles = (await api("/_offline/roles")).roles.length > 0;
  } catch {
    state.roles = false;
  }
  document.getElementById("new-role-label").hidden = !state.roles;
}

async function start() {
  document.getElementById("add-user").addEventListener("click", openUserDialog);
  document.getElementById("empty-add").addEventListener("click", openUserDialog);
  document.getElementById("user-form").addEventListener("submit", createUser);
  document.getElementById("group-create").addEventListener("click", createGroup);
  document.getElementById("user-cancel").addEventListener("click",
    () => document.getElementById("user-dialog").close());
  document.getElementById("layout-toggle").addEventListener("click",
    () => setLayout(!state.sideBySide));
  try {
    const { bot } = await api("/_emulator/bot");
    document.getElementById("bot-name").textContent = bot.first_name;
    document.title = `${bot.first_name} · offline chat`;
  } catch {
    setOffline(true);
  }
  await offerRoles();
  const saved = load();
  setLayout(Boolean(saved.sideBySide));
  let known = [];
  try {
    known = (await api("/_emulator/chats")).chats;
    knowUsers((await api("/_emulator/users")).users);
  } catch {
    known = [];
  }
  for (const chat of saved.open || []) {
    // The emulator forgets its chats when it restarts; the page remembers them.
    let current = known.find((c) => c.id === chat.id) && chat;
    if (!current && chat.id < 0) {
      current = (await api("/_emulator/groups", chat).catch(() => null))?.chat;
    } else if (!current) {
      current = (await api("/_emulator/users", chat).catch(() => null))?.user;
      if (current) knowUsers([...state.users, current]);
    }
    if (current) await openPane(current);
  }
  if (saved.active && state.panes.has(saved.active)) activate(saved.active);
  if (!state.panes.size) await openUserDialog();
  document.body.dataset.ready = "true"; // for scripts driving the page
}

start();
