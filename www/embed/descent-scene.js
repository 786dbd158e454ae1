// <descent-scene>: a Descent scene for a blog post or a slide, as one element.
//
//   <script type="module" src="https://YOUR-HOST/descent/embed/descent-scene.js"></script>
//   <descent-scene scene="step" lrMultiple="1.5" seed="7" controls="lrMultiple"
//                  style="height: 640px"></descent-scene>
//
// The element renders a sandboxed iframe (sandbox="allow-scripts": an opaque origin, no access
// to the host page, its storage or its cookies) that shows the scene's embed view and fills the
// element: size the element with CSS (default: the full width, 560 px high).
//
// Attributes:
//   scene       playground | lazy | double-descent | step | weak-labels (required)
//   base        the URL of the Descent site (default: the folder above this script)
//   controls    the controls the embed shows, e.g. "width,lr" (default: none)
//   present     presenter mode (large type, high contrast)
//   play        "1" starts training at once (default: paused; never with reduced motion)
//   title       the iframe's accessible title (default: "Descent: <scene>")
//   any other attribute is a setting of the scene (width, lr, seed, …) and goes to the URL as
//   it is; the scene parses it strictly and drops what it does not know (with a console note).
// Attribute changes reload the frame with the new settings.
//
// The host page may play and pause the scene and hear what it shows, by postMessage to
// element.frame.contentWindow: {descent: 1, type: 'play' | 'pause' | 'snapshot'}; the scene
// answers its parent with {descent: 1, type: 'state', …} and {descent: 1, type: 'snapshot', …}
// (www/js/core/shell.js, listenToHost).

import { SCENES } from '../js/scenes/index.js';

const OWN = new Set(['scene', 'base', 'controls', 'present', 'play', 'title', 'embed',
  'class', 'style', 'id', 'slot', 'hidden', 'tabindex', 'lang', 'dir', 'part', 'exportparts', 'is', 'nonce']);
const DEFAULT_BASE = new URL('../', import.meta.url).href;

let sheet = null;
function styles() {
  if (sheet || typeof CSSStyleSheet !== 'function' || !('replaceSync' in CSSStyleSheet.prototype)) return sheet;
  sheet = new CSSStyleSheet();
  sheet.replaceSync(':host { display: block; position: relative; width: 100%; height: 560px; }'
    + ' :host([hidden]) { display: none; } iframe { position: absolute; inset: 0; width: 100%; height: 100%; border: 0; }');
  return sheet;
}

export class DescentScene extends HTMLElement {
  constructor() {
    super();
    const root = this.attachShadow({ mode: 'open' });
    const s = styles();
    if (s) root.adoptedStyleSheets = [s];
    this.frame = document.createElement('iframe');
    this.frame.setAttribute('sandbox', 'allow-scripts');
    this.frame.setAttribute('loading', 'lazy');
    this.frame.setAttribute('referrerpolicy', 'no-referrer');
    if (!s) Object.assign(this.frame.style, { width: '100%', height: '100%', border: '0', display: 'block' });
    root.append(this.frame);
    this.observer = new MutationObserver(() => this.render());
  }

  connectedCallback() {
    this.observer.observe(this, { attributes: true });
    this.render();
  }

  disconnectedCallback() {
    this.observer.disconnect();
  }

  /** The embed URL of the current attributes, or null (with a console note) if it has none. */
  get src() {
    const name = (this.getAttribute('scene') ?? 'playground').trim();
    const scene = SCENES[name];
    if (!Object.hasOwn(SCENES, name)) {
      console.warn(`<descent-scene>: unknown scene ${JSON.stringify(name.slice(0, 40))}; one of ${Object.keys(SCENES).join(', ')}`);
      return null;
    }
    let base;
    try {
      base = new URL(this.getAttribute('base') ?? DEFAULT_BASE, document.baseURI);
      if (!/^https?:$/.test(base.protocol)) throw new Error('not http(s)');
      if (!base.pathname.endsWith('/')) base.pathname += '/';
    } catch {
      console.warn('<descent-scene>: the base attribute is not an http(s) URL; using the script’s own site');
      base = new URL(DEFAULT_BASE);
    }
    const url = new URL(scene.page, base);
    const q = new URLSearchParams();
    for (const { name: key, value } of this.attributes) {
      if (OWN.has(key) || key.startsWith('aria-') || key.startsWith('data-') || key.startsWith('on')) continue;
      // HTML lower-cases attribute names ("lrmultiple"); the scenes match names case-insensitively.
      q.set(key, value);
    }
    const controls = this.getAttribute('controls');
    let query = q.toString();
    const mode = ['embed'];
    if (controls) mode.push(`controls=${encodeURIComponent(controls).replace(/%2C/gi, ',')}`);
    if (this.hasAttribute('present')) mode.push('present');
    if (this.getAttribute('play') === '1') mode.push('play=1');
    query = [query, ...mode].filter(Boolean).join('&');
    url.search = `?${query}`;
    return { href: url.href, title: this.getAttribute('title') || `Descent: ${scene.title}` };
  }

  render() {
    const s = this.src;
    if (!s) return;
    if (this.frame.getAttribute('src') !== s.href) this.frame.setAttribute('src', s.href);
    this.frame.setAttribute('title', s.title);
  }
}

if (!customElements.get('descent-scene')) customElements.define('descent-scene', DescentScene);
