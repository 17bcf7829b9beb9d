// The two screens before the vault: first-run setup and sign-in.
import { api } from '../api.js';
import { h, icon } from '../dom.js';

const USERNAME = /^[A-Za-z0-9._-]{1,64}$/;

function field({ id, label, type = 'text', autocomplete, testid, hint, attrs = {} }) {
  const input = h('input', { class: 'input', id, name: id, type, autocomplete, required: true,
    'data-testid': testid, ...attrs });
  return {
    input,
    element: h('div', { class: 'field' },
      h('label', { class: 'field-label', for: id, text: label }),
      input,
      hint ? h('p', { class: 'field-hint', id: id + '-hint', text: hint }) : null),
  };
}

function authShell(title, intro, form, footer) {
  return h('div', { class: 'auth' },
    h('div', { class: 'auth-card' },
      h('div', { class: 'auth-brand' },
        h('img', { class: 'auth-logo', src: 'icon.svg', alt: '', width: '48', height: '48' }),
        h('span', { class: 'auth-brand-name', text: 'Sover' })),
      h('h1', { class: 'auth-title', text: title }),
      h('p', { class: 'auth-intro', text: intro }),
      form),
    footer ? h('p', { class: 'auth-footer' }, icon('shield'), footer) : null);
}

function formError(testid) {
  return h('div', { class: 'form-error form-error-box', role: 'alert', 'data-testid': testid, hidden: true });
}

function show(errorBox, message) {
  errorBox.textContent = message || '';
  errorBox.hidden = !message;
}

export function renderLogin(root, params, app) {
  document.title = 'Sign in · Sover';
  const username = field({ id: 'login-username', label: 'Username', autocomplete: 'username', testid: 'login-username',
    attrs: { autocapitalize: 'none', spellcheck: 'false' } });
  const password = field({ id: 'login-password', label: 'Password', type: 'password', autocomplete: 'current-password',
    testid: 'login-password' });
  const error = formError('login-error');
  const submit = h('button', { class: 'btn btn-primary btn-block btn-lg', type: 'submit', 'data-testid': 'login-submit' },
    'Sign in');
  const form = h('form', { class: 'auth-form', 'data-testid': 'login-form', novalidate: true },
    error, username.element, password.element, submit);
  if (app.notice) {
    show(error, app.notice);
    error.classList.add('form-notice');
    app.notice = '';
  }

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const name = username.input.value.trim();
    const secret = password.input.value;
    if (!name || !secret) {
      show(error, 'Enter your username and password.');
      (name ? password : username).input.focus();
      return;
    }
    submit.disabled = true;
    submit.textContent = 'Signing in…';
    show(error, '');
    try {
      const user = await api.login(name, secret);
      app.signedIn(user);
    } catch (e) {
      show(error, e.message);
      password.input.select();
      password.input.focus();
      submit.disabled = false;
      submit.textContent = 'Sign in';
    }
  });

  root.append(authShell('Welcome back', 'Sign in to see your family’s photos.', form,
    'Your photos stay on your family’s own devices, encrypted.'));
  username.input.focus();
}

export function renderSetup(root, params, app) {
  document.title = 'Set up · Sover';
  const code = field({ id: 'setup-code', label: 'Setup code', autocomplete: 'one-time-code', testid: 'setup-code',
    hint: 'Shown in the node’s console when it first started, and saved in its data folder as “setup-code”.',
    attrs: { autocapitalize: 'none', spellcheck: 'false', 'aria-describedby': 'setup-code-hint' } });
  const username = field({ id: 'setup-username', label: 'Your username', autocomplete: 'username',
    testid: 'setup-username', hint: 'Letters, digits, dots, dashes and underscores.',
    attrs: { autocapitalize: 'none', spellcheck: 'false', maxlength: '64', 'aria-describedby': 'setup-username-hint' } });
  const password = field({ id: 'setup-password', label: 'Password', type: 'password', autocomplete: 'new-password',
    testid: 'setup-password', hint: 'At least 8 characters.', attrs: { 'aria-describedby': 'setup-password-hint' } });
  const confirm = field({ id: 'setup-password-confirm', label: 'Repeat password', type: 'password',
    autocomplete: 'new-password', testid: 'setup-password-confirm' });
  const error = formError('setup-error');
  const submit = h('button', { class: 'btn btn-primary btn-block btn-lg', type: 'submit', 'data-testid': 'setup-submit' },
    'Create admin account');
  const form = h('form', { class: 'auth-form', 'data-testid': 'setup-form', novalidate: true },
    error, code.element, username.element, password.element, confirm.element, submit);

  function problem() {
    if (!code.input.value.trim()) return [code, 'Enter the setup code from the node’s console.'];
    if (!USERNAME.test(username.input.value.trim())) {
      return [username, 'Choose a username of 1 to 64 letters, digits, dots, dashes or underscores.'];
    }
    if (password.input.value.length < 8) return [password, 'Choose a password of at least 8 characters.'];
    if (password.input.value !== confirm.input.value) return [confirm, 'The two passwords are not the same.'];
    return null;
  }

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const found = problem();
    if (found) {
      show(error, found[1]);
      found[0].input.focus();
      return;
    }
    const name = username.input.value.trim();
    submit.disabled = true;
    submit.textContent = 'Setting up…';
    show(error, '');
    try {
      await api.setup(code.input.value.trim(), name, password.input.value);
    } catch (e) {
      if (e.code === 'setup_done') {
        app.setupFinished('This node is already set up. Sign in with your account.');
        return;
      }
      show(error, e.message);
      (e.code === 'bad_setup_code' ? code : e.code === 'username_taken' ? username : password).input.focus();
      submit.disabled = false;
      submit.textContent = 'Create admin account';
      return;
    }
    try {
      app.signedIn(await api.login(name, password.input.value));
    } catch (e) {
      app.setupFinished('Your account is ready. Sign in to continue.');
    }
  });

  root.append(authShell('Set up your Sover node',
    'Create the first account. It will be the family admin, who can add everyone else later.', form, null));
  code.input.focus();
}
