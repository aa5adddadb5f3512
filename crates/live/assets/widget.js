/* Caredesk chat widget. A web site embeds it with one tag:
 *   <script src="https://desk.example.org/chat/widget.js" data-caredesk async></script>
 * It draws a launcher and a chat panel inside a shadow root (so the page's styles and ours never
 * mix), asks the visitor's name and email, and talks to Caredesk over a WebSocket whose address
 * it derives from its own src: same host, same path prefix, wss when the script came over https,
 * so it works unchanged behind a reverse proxy. The resume token lives in sessionStorage: after
 * a network blip or a page reload the chat carries on where it was. */
(function () {
  'use strict';
  if (window.__caredeskChat) return;
  window.__caredeskChat = true;

  var script = document.currentScript || document.querySelector('script[data-caredesk]');
  if (!script || !script.src) return;
  var src = new URL(script.src, location.href);
  var wsUrl = (src.protocol === 'https:' ? 'wss://' : 'ws://') + src.host + src.pathname.replace(/widget\.js$/, 'ws');
  var TOKEN_KEY = 'caredesk-chat-token:' + src.host;

  var css = [
    ':host{all:initial}',
    '*{box-sizing:border-box;font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;font-size:14px}',
    '.launcher{position:fixed;right:20px;bottom:20px;z-index:2147483000;border:0;border-radius:24px;',
    'padding:12px 18px;background:#1f5fbf;color:#fff;cursor:pointer;box-shadow:0 2px 8px rgba(0,0,0,.25)}',
    '.launcher:focus-visible,button:focus-visible,input:focus-visible,textarea:focus-visible{outline:3px solid #f5b700}',
    '.panel{position:fixed;right:20px;bottom:76px;z-index:2147483000;width:320px;max-width:calc(100vw - 40px);',
    'height:440px;max-height:calc(100vh - 100px);display:flex;flex-direction:column;background:#fff;color:#1b1b1b;',
    'border-radius:10px;box-shadow:0 4px 24px rgba(0,0,0,.3);overflow:hidden}',
    '.panel[hidden]{display:none}',
    'header{background:#1f5fbf;color:#fff;padding:10px 12px;display:flex;justify-content:space-between;align-items:center}',
    'header button{background:transparent;border:0;color:#fff;cursor:pointer;font-size:18px}',
    '.status{padding:6px 12px;background:#eef3fb;color:#1b1b1b}',
    '.start{padding:12px;display:flex;flex-direction:column;gap:8px}',
    'label{display:flex;flex-direction:column;gap:2px}',
    'input,textarea{border:1px solid #999;border-radius:6px;padding:6px;color:#1b1b1b;background:#fff}',
    'button.primary{border:0;border-radius:6px;padding:8px 12px;background:#1f5fbf;color:#fff;cursor:pointer}',
    'button.secondary{border:1px solid #1f5fbf;border-radius:6px;padding:6px 10px;background:#fff;color:#1f5fbf;cursor:pointer}',
    '.log{flex:1;overflow-y:auto;margin:0;padding:8px 12px;list-style:none}',
    '.log li{margin:6px 0;padding:6px 8px;border-radius:8px;max-width:85%;white-space:pre-wrap;word-wrap:break-word}',
    '.log li.visitor{background:#1f5fbf;color:#fff;margin-left:auto}',
    '.log li.agent{background:#eceff3}',
    '.log li.system{background:transparent;color:#555;font-style:italic;max-width:100%}',
    '.send{display:flex;gap:6px;padding:8px;border-top:1px solid #ddd}',
    '.send textarea{flex:1;resize:none}',
    '.error{color:#b00020;padding:0 12px}',
    '.chat[hidden],.start[hidden]{display:none}',
    '.chat{display:flex;flex-direction:column;flex:1;min-height:0}'
  ].join('');

  var host = document.createElement('div');
  host.setAttribute('data-caredesk-widget', '');
  var root = host.attachShadow({ mode: 'open' });
  root.innerHTML =
    '<style>' + css + '</style>' +
    '<button class="launcher" type="button" aria-expanded="false" aria-controls="cd-panel">Chat with us</button>' +
    '<div class="panel" id="cd-panel" role="dialog" aria-label="Chat" hidden>' +
    '<header><strong>Chat with us</strong><button type="button" class="close" aria-label="Close chat window">×</button></header>' +
    '<div class="status" role="status" aria-live="polite"></div>' +
    '<form class="start">' +
    '<label>Your name<input name="name" required maxlength="80" autocomplete="name"></label>' +
    '<label>Email<input name="email" type="email" required maxlength="254" autocomplete="email"></label>' +
    '<label>Account number (optional)<input name="account" maxlength="30"></label>' +
    '<button class="primary" type="submit">Start chat</button>' +
    '<p class="error" hidden></p>' +
    '</form>' +
    '<div class="chat" hidden>' +
    '<ol class="log" aria-live="polite"></ol>' +
    '<p class="error" hidden></p>' +
    '<form class="send"><label style="display:none" for="cd-body">Message</label>' +
    '<textarea id="cd-body" name="body" rows="2" maxlength="2000" placeholder="Type a message"></textarea>' +
    '<button class="primary" type="submit">Send</button></form>' +
    '<div style="padding:0 8px 8px"><button class="secondary end" type="button">End chat</button></div>' +
    '</div></div>';

  var $ = function (sel) { return root.querySelector(sel); };
  var launcher = $('.launcher'), panel = $('.panel'), statusLine = $('.status');
  var startForm = $('.start'), chat = $('.chat'), log = $('.log'), sendForm = $('.send');
  var startError = startForm.querySelector('.error'), chatError = chat.querySelector('.error');
  var seen = {}, socket = null, ended = false, retry = 0, hello = null, lastTyping = 0;

  function setStatus(text) { statusLine.textContent = text; }
  function showError(el, text) { el.textContent = text; el.hidden = !text; }
  function open(show) {
    panel.hidden = !show;
    launcher.setAttribute('aria-expanded', String(show));
    if (show) {
      var first = chat.hidden ? startForm.querySelector('input') : sendForm.querySelector('textarea');
      if (first) first.focus();
    }
  }

  function addMessage(m) {
    if (m.chat_message_id && seen[m.chat_message_id]) return;
    if (m.chat_message_id) seen[m.chat_message_id] = true;
    var li = document.createElement('li');
    li.className = m.sender;
    li.textContent = m.body;
    log.appendChild(li);
    log.scrollTop = log.scrollHeight;
  }

  function finish(text) {
    ended = true;
    sessionStorage.removeItem(TOKEN_KEY);
    setStatus(text);
    sendForm.querySelector('textarea').disabled = true;
    sendForm.querySelector('button').disabled = true;
    $('.end').textContent = 'New chat';
  }

  function onFrame(frame) {
    switch (frame.type) {
      case 'welcome':
        retry = 0;
        if (frame.token) sessionStorage.setItem(TOKEN_KEY, frame.token);
        startForm.hidden = true;
        chat.hidden = false;
        showError(chatError, '');
        break;
      case 'queue':
        setStatus('You are number ' + frame.position + ' in the queue');
        break;
      case 'agent':
        setStatus(frame.agent_name ? frame.agent_name + ' is with you' : 'An agent is with you');
        break;
      case 'history':
        frame.messages.forEach(addMessage);
        break;
      case 'message':
        addMessage(frame);
        break;
      case 'typing':
        setStatus('The agent is typing…');
        break;
      case 'ended':
        finish('The chat has ended. Thank you!');
        break;
      case 'error':
        if (frame.code === 'resume_token_unknown') {
          sessionStorage.removeItem(TOKEN_KEY);
          hello = null;
          startForm.hidden = false;
          chat.hidden = true;
        }
        showError(chat.hidden ? startError : chatError, frame.message);
        break;
    }
  }

  function connect() {
    if (!hello) return;
    socket = new WebSocket(wsUrl);
    socket.onopen = function () {
      var token = sessionStorage.getItem(TOKEN_KEY);
      socket.send(JSON.stringify(token ? { type: 'resume', token: token } : hello));
    };
    socket.onmessage = function (e) {
      try { onFrame(JSON.parse(e.data)); } catch (err) { /* a malformed frame is ignored */ }
    };
    socket.onclose = function () {
      socket = null;
      if (ended || !sessionStorage.getItem(TOKEN_KEY)) return;
      // A blip: come back with the token and pick the conversation up again.
      setStatus('Reconnecting…');
      retry = Math.min(retry + 1, 5);
      setTimeout(connect, 500 * Math.pow(2, retry - 1));
    };
  }

  launcher.addEventListener('click', function () { open(panel.hidden); });
  $('.close').addEventListener('click', function () { open(false); launcher.focus(); });
  panel.addEventListener('keydown', function (e) { if (e.key === 'Escape') { open(false); launcher.focus(); } });

  startForm.addEventListener('submit', function (e) {
    e.preventDefault();
    var data = new FormData(startForm);
    hello = { type: 'start', name: data.get('name'), email: data.get('email'), account: data.get('account') || '' };
    ended = false;
    seen = {};
    log.textContent = '';
    showError(startError, '');
    setStatus('Connecting…');
    connect();
  });

  sendForm.addEventListener('submit', function (e) {
    e.preventDefault();
    var box = sendForm.querySelector('textarea');
    var body = box.value.trim();
    if (!body || !socket || socket.readyState !== 1) return;
    socket.send(JSON.stringify({ type: 'message', body: body }));
    box.value = '';
  });
  sendForm.querySelector('textarea').addEventListener('keydown', function (e) {
    if (e.key === 'Enter' && !e.shiftKey) { e.preventDefault(); sendForm.requestSubmit(); }
  });
  sendForm.querySelector('textarea').addEventListener('input', function () {
    var now = Date.now();
    if (socket && socket.readyState === 1 && now - lastTyping > 3000) {
      lastTyping = now;
      socket.send(JSON.stringify({ type: 'typing' }));
    }
  });

  $('.end').addEventListener('click', function () {
    if (ended) {
      chat.hidden = true;
      startForm.hidden = false;
      sendForm.querySelector('textarea').disabled = false;
      sendForm.querySelector('button').disabled = false;
      $('.end').textContent = 'End chat';
      setStatus('');
      return;
    }
    if (socket && socket.readyState === 1) socket.send(JSON.stringify({ type: 'end' }));
  });

  function mount() {
    document.body.appendChild(host);
    if (sessionStorage.getItem(TOKEN_KEY)) {
      hello = { type: 'resume' };
      open(true);
      setStatus('Reconnecting…');
      connect();
    }
  }
  if (document.body) mount(); else document.addEventListener('DOMContentLoaded', mount);
})();
