// The few DOM builders the shell, the pins and the guided tour share (never innerHTML: every page
// runs under Trusted Types), and the site's navigation.

import { SCENES, TOUR } from '../scenes/index.js';

/**
 * A `tag` element: `props` `class` and `text` set className and textContent, a non-string value
 * of a property the element has is assigned, anything else is an attribute; then `children`.
 */
export function el(tag, props = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (k === 'class') e.className = v;
    else if (k === 'text') e.textContent = v;
    else if (k in e && typeof v !== 'string') e[k] = v;
    else e.setAttribute(k, v);
  }
  e.append(...children);
  return e;
}

/** A plain button: `label`, an optional `title`, `cls` (default a small button), `id`, `onClick`. */
export function button(label, { title = '', cls = 'btn btn-small', id = '', onClick } = {}) {
  const b = document.createElement('button');
  b.type = 'button';
  b.className = cls;
  b.textContent = label;
  if (title) b.title = title;
  if (id) b.id = id;
  if (onClick) b.addEventListener('click', onClick);
  return b;
}

/** Fills the page's `nav.scene-nav`: the tour first, then every scene; `current` ('tour' or a scene id) is marked. */
export function renderNav(current) {
  const nav = document.querySelector('nav.scene-nav');
  if (!nav) return;
  const link = (id, { page, title }, extra = {}) => {
    const a = el('a', { href: page, text: title, ...extra });
    if (id === current) a.setAttribute('aria-current', 'page');
    return a;
  };
  nav.replaceChildren(link('tour', TOUR, { class: 'nav-tour' }), ...Object.entries(SCENES).map(([id, s]) => link(id, s)));
}
