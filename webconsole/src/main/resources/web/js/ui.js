// Shared pieces of the interface: toasts, dialogs, menus, loading/empty/error states.
import { h, icon } from './dom.js';

// ---- Toasts ---------------------------------------------------------------------------------

export function toast(message, kind = 'info') {
  const region = document.getElementById('toasts');
  const close = () => {
    item.classList.add('toast-leaving');
    setTimeout(() => item.remove(), 200);
  };
  const item = h('div', { class: 'toast toast-' + kind, 'data-testid': 'toast', 'data-kind': kind,
    role: kind === 'error' ? 'alert' : 'status' },
  icon(kind === 'error' ? 'alert' : 'check', 'toast-icon'),
  h('span', { class: 'toast-text', 'data-testid': 'toast-message', text: message }),
  h('button', { class: 'icon-btn icon-btn-sm toast-close', type: 'button', 'aria-label': 'Dismiss',
    'data-testid': 'toast-close', onclick: close }, icon('close')));
  region.append(item);
  while (region.children.length > 4) region.firstElementChild.remove();
  setTimeout(close, kind === 'error' ? 10000 : 5000);
}

export function toastError(error) {
  toast(error && error.message ? error.message : String(error), 'error');
}

// ---- Dialogs --------------------------------------------------------------------------------

/**
 * A modal <dialog> (the browser traps focus and closes it on Escape). `build(close)` fills the
 * body; the promise resolves with the value passed to close(), or null when dismissed.
 */
function modal(testid, labelledBy, build) {
  return new Promise((resolve) => {
    let result = null;
    const dialog = h('dialog', { class: 'modal', 'data-testid': testid, 'aria-labelledby': labelledBy });
    const close = (value) => {
      result = value;
      dialog.close();
    };
    dialog.addEventListener('close', () => {
      dialog.remove();
      resolve(result);
    });
    // A click on the backdrop (the dialog element itself, outside its content) dismisses it.
    dialog.addEventListener('click', (event) => {
      if (event.target === dialog) close(null);
    });
    dialog.append(build(close));
    document.body.append(dialog);
    dialog.showModal();
  });
}

let dialogIds = 0;

export function confirmDialog({ title, message, confirmLabel = 'OK', danger = false, testid = 'confirm-dialog' }) {
  const titleId = 'dlg-title-' + (++dialogIds);
  return modal(testid, titleId, (close) => {
    const ok = h('button', { class: 'btn ' + (danger ? 'btn-danger' : 'btn-primary'), type: 'button',
      'data-testid': 'confirm-ok', onclick: () => close(true) }, confirmLabel);
    const body = h('div', { class: 'modal-body' },
      h('h2', { class: 'modal-title', id: titleId, text: title }),
      h('p', { class: 'modal-text', 'data-testid': 'confirm-message', text: message }),
      h('div', { class: 'modal-actions' },
        h('button', { class: 'btn btn-secondary', type: 'button', 'data-testid': 'confirm-cancel',
          onclick: () => close(false) }, 'Cancel'),
        ok));
    // Destructive actions start on Cancel; safe ones on the confirm button.
    queueMicrotask(() => (danger ? body.querySelector('[data-testid="confirm-cancel"]') : ok).focus());
    return body;
  }).then((value) => value === true);
}

/**
 * A one-field form dialog. `submit(value)` may throw an ApiError; its message is shown in the
 * dialog and the dialog stays open. Resolves with submit's result, or null when cancelled.
 */
export function formDialog({ title, label, value = '', placeholder = '', submitLabel, testid, inputTestid,
  maxLength = 200, validate, submit }) {
  const titleId = 'dlg-title-' + (++dialogIds);
  const inputId = 'dlg-input-' + dialogIds;
  return modal(testid, titleId, (close) => {
    const input = h('input', { class: 'input', id: inputId, type: 'text', value, placeholder, maxlength: maxLength,
      autocomplete: 'off', required: true, 'data-testid': inputTestid });
    const error = h('p', { class: 'form-error', 'data-testid': testid + '-error', role: 'alert', hidden: true });
    const button = h('button', { class: 'btn btn-primary', type: 'submit', 'data-testid': testid + '-submit' },
      submitLabel);
    const showError = (message) => {
      error.textContent = message;
      error.hidden = !message;
      input.setAttribute('aria-invalid', message ? 'true' : 'false');
    };
    const form = h('form', { class: 'modal-body', novalidate: true },
      h('h2', { class: 'modal-title', id: titleId, text: title }),
      h('label', { class: 'field-label', for: inputId, text: label }),
      input, error,
      h('div', { class: 'modal-actions' },
        h('button', { class: 'btn btn-secondary', type: 'button', 'data-testid': testid + '-cancel',
          onclick: () => close(null) }, 'Cancel'),
        button));
    input.addEventListener('input', () => showError(''));
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      const text = input.value.trim();
      const problem = validate ? validate(text) : '';
      if (problem) {
        showError(problem);
        input.focus();
        return;
      }
      button.disabled = true;
      try {
        close(await submit(text));
      } catch (e) {
        showError(e.message);
        button.disabled = false;
        input.focus();
      }
    });
    queueMicrotask(() => {
      input.focus();
      input.select();
    });
    return form;
  });
}

// ---- Menus ----------------------------------------------------------------------------------

let openMenu = null;

function closeOpenMenu(returnFocus) {
  if (!openMenu) return;
  const { menu, trigger } = openMenu;
  openMenu = null;
  menu.hidden = true;
  trigger.setAttribute('aria-expanded', 'false');
  if (returnFocus) trigger.focus();
}

document.addEventListener('click', (event) => {
  if (openMenu && !openMenu.menu.contains(event.target) && !openMenu.trigger.contains(event.target)) {
    closeOpenMenu(false);
  }
});
document.addEventListener('keydown', (event) => {
  if (event.key === 'Escape' && openMenu) {
    event.preventDefault();
    closeOpenMenu(true);
  }
});

/**
 * A "more actions" button with a small menu. items: [{label, icon, testid, danger, action}].
 * Returns a wrapper element holding both.
 */
export function actionMenu({ label, testid, items, extraClass = '' }) {
  const menu = h('div', { class: 'menu', role: 'menu', hidden: true, 'data-testid': testid + '-list' });
  const trigger = h('button', { class: 'icon-btn menu-trigger ' + extraClass, type: 'button', 'aria-label': label,
    'aria-haspopup': 'menu', 'aria-expanded': 'false', 'data-testid': testid }, icon('more'));
  for (const item of items) {
    menu.append(h('button', { class: 'menu-item' + (item.danger ? ' menu-item-danger' : ''), type: 'button',
      role: 'menuitem', 'data-testid': item.testid,
      onclick: (event) => {
        event.stopPropagation();
        closeOpenMenu(false);
        item.action();
      } }, icon(item.icon), item.label));
  }
  trigger.addEventListener('click', (event) => {
    event.preventDefault();
    event.stopPropagation();
    const wasOpen = openMenu && openMenu.menu === menu;
    closeOpenMenu(false);
    if (!wasOpen) {
      openMenu = { menu, trigger };
      menu.hidden = false;
      trigger.setAttribute('aria-expanded', 'true');
      menu.querySelector('.menu-item').focus();
    }
  });
  menu.addEventListener('keydown', (event) => {
    const buttons = [...menu.querySelectorAll('.menu-item')];
    const index = buttons.indexOf(document.activeElement);
    if (event.key === 'ArrowDown' || event.key === 'ArrowUp') {
      event.preventDefault();
      const step = event.key === 'ArrowDown' ? 1 : -1;
      buttons[(index + step + buttons.length) % buttons.length].focus();
    } else if (event.key === 'Tab') {
      closeOpenMenu(false);
    }
  });
  return h('div', { class: 'menu-wrap' }, trigger, menu);
}

// ---- States ---------------------------------------------------------------------------------

export function loadingState(text = 'Loading…') {
  return h('div', { class: 'state state-loading', 'data-testid': 'loading', role: 'status' },
    h('span', { class: 'spinner', 'aria-hidden': 'true' }), h('span', { text }));
}

export function emptyState({ iconName, title, text, action, testid }) {
  return h('div', { class: 'state state-empty', 'data-testid': testid },
    h('div', { class: 'state-icon' }, icon(iconName)),
    h('h2', { class: 'state-title', text: title }),
    text ? h('p', { class: 'state-text', text }) : null,
    action || null);
}

export function errorState(error, retry) {
  return h('div', { class: 'state state-error', 'data-testid': 'error-state', role: 'alert' },
    h('div', { class: 'state-icon state-icon-error' }, icon('alert')),
    h('h2', { class: 'state-title', text: 'Something went wrong' }),
    h('p', { class: 'state-text', 'data-testid': 'error-message', text: error.message || String(error) }),
    retry ? h('button', { class: 'btn btn-secondary', type: 'button', 'data-testid': 'error-retry', onclick: retry },
      icon('retry'), 'Try again') : null);
}
