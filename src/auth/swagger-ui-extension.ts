// Served at /api/auth/swagger-ui.js and added to Swagger UI (a script file, not inline: the
// Content-Security-Policy allows scripts from this site only). It shows who is logged in, or a
// login link, above the API description. "Try it out" needs nothing: the browser sends the
// session cookie with Swagger UI's same-origin requests.
export const SWAGGER_UI_SCRIPT = `(function () {
  'use strict';
  function link(text, href) {
    var a = document.createElement('a');
    a.textContent = text;
    a.href = href;
    return a;
  }
  function render(state) {
    var bar = document.createElement('div');
    bar.id = 'sightline-auth';
    bar.setAttribute('role', 'status');
    var here = window.location.pathname + window.location.search;
    if (state && state.authenticated && state.user) {
      var who = document.createElement('strong');
      who.className = 'sightline-user';
      who.textContent = state.user.name;
      bar.appendChild(document.createTextNode('Logged in as '));
      bar.appendChild(who);
      bar.appendChild(document.createTextNode(' (' + state.user.role + ') \\u00b7 '));
      bar.appendChild(link('Log out', state.logout_url));
      bar.appendChild(document.createTextNode(' \\u00b7 "Try it out" uses your session; scripts: create a token with POST /api/users/me/tokens'));
    } else {
      bar.appendChild(document.createTextNode('Not logged in \\u00b7 '));
      bar.appendChild(link('Log in', '/api/auth/login?next=' + encodeURIComponent(here)));
      bar.appendChild(document.createTextNode(' \\u00b7 or use Authorize with a Bearer token'));
    }
    var old = document.getElementById('sightline-auth');
    if (old) old.remove();
    document.body.insertBefore(bar, document.body.firstChild);
  }
  function load() {
    fetch('/api/auth/session', { credentials: 'same-origin', headers: { accept: 'application/json' } })
      .then(function (res) { return res.ok ? res.json() : null; })
      .then(render, function () { render(null); });
  }
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', load);
  else load();
})();
`;

export const SWAGGER_UI_CSS = `
#sightline-auth { font-family: sans-serif; font-size: 14px; padding: 8px 20px; background: #1f2d3d; color: #fff; }
#sightline-auth a { color: #9fd3ff; font-weight: 600; }
`;
