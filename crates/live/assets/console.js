/* The chat console: one WebSocket to /chat/agent/ws carries the queue, the agent's chats and
 * their messages. Several chats stay open at once as tabs; canned answers and knowledge search
 * (the knowledge module's API, with the page's session) sit beside them. */
(function () {
  'use strict';
  var consoleEl = document.getElementById('chat-console');
  if (!consoleEl) return;
  var wsUrl = (location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + consoleEl.dataset.ws;
  var statusEl = document.getElementById('chat-status');
  var queueList = document.getElementById('queue-list');
  var queueTotal = document.getElementById('queue-total');
  var tabs = document.getElementById('chat-tabs');
  var panels = document.getElementById('chat-panels');
  var noChats = document.getElementById('no-chats');
  var template = document.getElementById('chat-panel-template');
  var chats = {}, active = null, socket = null, retry = 0;

  function send(frame) {
    if (socket && socket.readyState === 1) { socket.send(JSON.stringify(frame)); return true; }
    statusEl.textContent = 'Not connected; reconnecting…';
    return false;
  }

  function renderQueue(frame) {
    queueTotal.textContent = String(frame.total);
    queueList.textContent = '';
    frame.waiting.forEach(function (w) {
      var li = document.createElement('li');
      var button = document.createElement('button');
      button.type = 'button';
      button.className = 'ghost take';
      button.textContent = 'Take ' + w.visitor_name;
      button.dataset.session = w.chat_session_id;
      button.addEventListener('click', function () { send({ type: 'take', chat_session_id: w.chat_session_id }); });
      li.appendChild(button);
      queueList.appendChild(li);
    });
  }

  function select(id) {
    active = id;
    Object.keys(chats).forEach(function (key) {
      var c = chats[key], on = String(id) === key;
      c.panel.hidden = !on;
      c.tab.setAttribute('aria-selected', String(on));
      c.tab.tabIndex = on ? 0 : -1;
      if (on) c.tab.classList.remove('unread');
    });
    noChats.hidden = Object.keys(chats).length > 0;
  }

  function addLine(chat, m) {
    if (m.chat_message_id && chat.seen[m.chat_message_id]) return;
    if (m.chat_message_id) chat.seen[m.chat_message_id] = true;
    var li = document.createElement('li');
    li.className = 'chat-line ' + m.sender;
    var who = m.sender === 'visitor' ? chat.session.visitor_name
      : m.sender === 'agent' ? (m.sender_name || 'Agent')
      : m.sender === 'note' ? 'Note for agents' : 'System';
    var strong = document.createElement('strong');
    strong.textContent = who + ': ';
    li.appendChild(strong);
    li.appendChild(document.createTextNode(m.body));
    chat.log.appendChild(li);
    chat.log.scrollTop = chat.log.scrollHeight;
    if (String(active) !== String(chat.session.chat_session_id)) chat.tab.classList.add('unread');
  }

  function openChat(session, messages) {
    var id = session.chat_session_id;
    var chat = chats[id];
    if (!chat) {
      var panel = template.content.firstElementChild.cloneNode(true);
      panel.id = 'chat-panel-' + id;
      panel.dataset.session = id;
      var tab = document.createElement('button');
      tab.type = 'button';
      tab.setAttribute('role', 'tab');
      tab.id = 'chat-tab-' + id;
      tab.setAttribute('aria-controls', panel.id);
      tab.textContent = session.visitor_name;
      tab.addEventListener('click', function () { select(id); });
      panel.setAttribute('aria-labelledby', tab.id);
      panel.querySelector('.chat-title').textContent = session.visitor_name;
      var who = session.visitor_email + (session.visitor_account ? ' · account ' + session.visitor_account : '');
      var whoEl = panel.querySelector('.chat-who');
      whoEl.textContent = who + ' · ';
      var link = document.createElement('a');
      link.href = session.customer_id ? '/customers/' + session.customer_id : '/search?q=' + encodeURIComponent(session.visitor_email);
      link.textContent = session.customer_id ? 'customer ' + session.customer_id : 'no customer matched: search';
      whoEl.appendChild(link);
      chat = { session: session, panel: panel, tab: tab, log: panel.querySelector('.chat-log'), seen: {} };
      chat.typing = panel.querySelector('.chat-typing');
      wire(chat);
      tabs.appendChild(tab);
      panels.appendChild(panel);
      chats[id] = chat;
    }
    (messages || []).forEach(function (m) { addLine(chat, m); });
    select(id);
  }

  function wire(chat) {
    var id = chat.session.chat_session_id;
    var form = chat.panel.querySelector('.chat-send');
    var box = form.querySelector('textarea');
    var lastTyping = 0;
    form.addEventListener('submit', function (e) {
      e.preventDefault();
      var body = box.value.trim();
      if (body && send({ type: 'message', chat_session_id: id, body: body })) box.value = '';
    });
    box.addEventListener('keydown', function (e) {
      if (e.key === 'Enter' && !e.shiftKey) { e.preventDefault(); form.requestSubmit(); }
    });
    box.addEventListener('input', function () {
      var now = Date.now();
      if (now - lastTyping > 3000) { lastTyping = now; send({ type: 'typing', chat_session_id: id }); }
    });
    chat.panel.querySelector('.chat-transfer-form').addEventListener('submit', function (e) {
      e.preventDefault();
      var data = new FormData(e.target);
      var to = parseInt(data.get('to_user_id'), 10);
      send({ type: 'transfer', chat_session_id: id, to_user_id: to > 0 ? to : null, note: data.get('note') || '' });
    });
    chat.panel.querySelector('.chat-end-form').addEventListener('submit', function (e) {
      e.preventDefault();
      var data = new FormData(e.target);
      var customer = parseInt(data.get('customer_id'), 10);
      send({
        type: 'end',
        chat_session_id: id,
        reason_code: data.get('reason_code'),
        disposition_code: data.get('disposition_code') || null,
        needs_follow_up: data.get('needs_follow_up') === '1',
        customer_id: customer > 0 ? customer : null
      });
    });
  }

  function dropChat(frame) {
    var chat = chats[frame.chat_session_id];
    if (!chat) return null;
    chat.tab.remove();
    chat.panel.remove();
    delete chats[frame.chat_session_id];
    var rest = Object.keys(chats);
    select(rest.length ? rest[0] : null);
    return chat;
  }

  function closeChat(frame) {
    var chat = dropChat(frame);
    if (!chat) return;
    var saved = frame.contact_id ? 'transcript saved as contact ' + frame.contact_id : 'no customer known, transcript kept on the chat';
    if (frame.case_id) saved += '; follow-up case opened';
    statusEl.textContent = 'Chat with ' + chat.session.visitor_name + ' ended: ' + saved + '.';
  }

  function transferred(frame) {
    var chat = dropChat(frame);
    if (!chat) return;
    statusEl.textContent = 'Chat with ' + chat.session.visitor_name + ' transferred to ' +
      (frame.to_name || 'the queue') + '.';
  }

  function onFrame(frame) {
    var chat = chats[frame.chat_session_id];
    switch (frame.type) {
      case 'queue': renderQueue(frame); break;
      case 'assigned': openChat(frame.session, frame.messages); break;
      case 'message': if (chat) { addLine(chat, frame); chat.typing.hidden = true; } break;
      case 'typing':
        if (chat) {
          chat.typing.hidden = false;
          clearTimeout(chat.typingTimer);
          chat.typingTimer = setTimeout(function () { chat.typing.hidden = true; }, 4000);
        }
        break;
      case 'visitor_back': if (chat) addLine(chat, { sender: 'system', body: 'The visitor reconnected.' }); break;
      case 'ended': closeChat(frame); break;
      case 'transferred': transferred(frame); break;
      case 'error': statusEl.textContent = frame.message; break;
    }
  }

  function connect() {
    socket = new WebSocket(wsUrl);
    socket.onopen = function () { retry = 0; statusEl.textContent = 'Connected. Waiting chats appear in the queue.'; };
    socket.onmessage = function (e) {
      try { onFrame(JSON.parse(e.data)); } catch (err) { /* a malformed frame is ignored */ }
    };
    socket.onclose = function () {
      statusEl.textContent = 'Connection lost; reconnecting…';
      retry = Math.min(retry + 1, 5);
      setTimeout(connect, 500 * Math.pow(2, retry - 1));
    };
  }

  document.getElementById('take-next').addEventListener('click', function () { send({ type: 'take' }); });
  tabs.addEventListener('keydown', function (e) {
    var ids = Object.keys(chats), at = ids.indexOf(String(active));
    if (e.key === 'ArrowRight' && ids.length) { select(ids[(at + 1) % ids.length]); chats[active].tab.focus(); }
    if (e.key === 'ArrowLeft' && ids.length) { select(ids[(at - 1 + ids.length) % ids.length]); chats[active].tab.focus(); }
  });

  function insertText(text) {
    var chat = chats[active];
    if (!chat) return;
    var box = chat.panel.querySelector('.chat-send textarea');
    box.value = box.value ? box.value.replace(/\s*$/, '') + '\n' + text : text;
    box.focus();
  }

  function searchBox(input, results, url, render) {
    var timer = null;
    input.addEventListener('input', function () {
      clearTimeout(timer);
      timer = setTimeout(function () {
        var q = input.value.trim();
        fetch(url + encodeURIComponent(q), { credentials: 'same-origin' })
          .then(function (r) { return r.ok ? r.json() : []; })
          .then(function (data) {
            results.textContent = '';
            (Array.isArray(data) ? data : data.items || []).slice(0, 8).forEach(function (item) {
              var li = document.createElement('li');
              li.appendChild(render(item));
              results.appendChild(li);
            });
          })
          .catch(function () { results.textContent = ''; });
      }, 200);
    });
  }

  searchBox(document.getElementById('canned-search'), document.getElementById('canned-results'),
    '/api/v1/canned-answers?limit=20&q=', function (answer) {
      var b = document.createElement('button');
      b.type = 'button';
      b.className = 'ghost';
      b.textContent = answer.name;
      b.title = answer.body;
      b.addEventListener('click', function () { insertText(answer.body); });
      return b;
    });
  searchBox(document.getElementById('kb-search'), document.getElementById('kb-results'),
    '/api/v1/articles?limit=8&q=', function (hit) {
      var a = document.createElement('a');
      a.href = '/knowledge/' + hit.article_id;
      a.target = '_blank';
      a.rel = 'noopener';
      a.textContent = hit.title;
      a.title = hit.summary;
      return a;
    });

  connect();
})();
