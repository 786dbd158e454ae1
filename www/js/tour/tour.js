// The guided tour (tour.html): seven chapters of prose, each beside one scene of Descent embedded
// with <descent-scene> (a sandboxed iframe) at a preset, showing only the controls the chapter is
// about. Each figure declares itself in the page:
//
//   <figure class="tour-figure" id="fig-…" data-scene="lazy" data-settings="width=4096"
//           data-controls="width"> <div class="tour-frame"></div> <figcaption>…</figcaption>
//
// Figures load lazily: a scene's frame (and so its workers) is created only when its figure comes
// near the viewport, and stays once made. Only the figures in view train, at most MAX_RUNNING at
// once (those most in view); the others are paused, through the embed's host channel (shell.js,
// listenToHost: postMessage to the frame, which answers with its status, step and a text
// description of its first plot). With reduced motion no figure is started: the reader presses
// Play inside the figure. For print, each figure is replaced by the picture it last drew (a PNG
// the frame draws and sends when asked) or, where it never ran, by its link.

import '../../embed/descent-scene.js';
import { SCENES } from '../scenes/index.js';
import { el, renderNav } from '../core/dom.js';

const MAX_RUNNING = 2;
const VISIBLE_ENOUGH = 0.15; // share of a figure in view for it to train
const NEAR = '400px 0px'; // how close to the viewport a figure's frame is created
const SNAPSHOT_MS = 8000; // a training figure's print picture is refreshed this often

const reducedMotion = typeof matchMedia === 'function' && matchMedia('(prefers-reduced-motion: reduce)').matches;

const STATUS_WORDS = {
  loading: 'loading the engine',
  playing: 'training',
  paused: 'paused',
  finished: 'finished its run',
  diverged: 'diverged',
  refused: 'cannot run these settings',
  failed: 'failed to start',
  crashed: 'stopped (the engine crashed)',
  computing: 'computing',
  done: 'computed',
};

/** The figures of the page, each with its scene, settings and the state the tour keeps. */
function readFigures() {
  return [...document.querySelectorAll('figure.tour-figure')].map((figure) => {
    const scene = figure.dataset.scene;
    const meta = SCENES[scene];
    const settings = new URLSearchParams(figure.dataset.settings ?? '');
    const chapter = figure.closest('section.chapter');
    return {
      figure,
      chapter,
      scene,
      meta,
      settings,
      controls: figure.dataset.controls ?? '',
      frameBox: figure.querySelector('.tour-frame'),
      now: figure.querySelector('.figure-now'),
      element: null, // the <descent-scene>, once near the viewport
      ratio: 0, // share in view
      want: false, // the tour wants it training
      asked: false, // a play was sent and the frame has not yet said it trains
      status: '',
      step: 0,
      text: '',
      printImg: null,
      printUrl: null,
    };
  });
}

function sceneUrl(f, mode = '') {
  const q = [f.settings.toString(), mode].filter(Boolean).join('&');
  return new URL(`${f.meta.page}${q ? `?${q}` : ''}`, location.href).href;
}

/** The chapter's links (its fragment, the presenter link, the full scene) and its print block. */
function decorate(f) {
  const id = f.chapter.id;
  const links = el('ul', { class: 'chapter-links', 'aria-label': 'Links for this chapter' },
    el('li', {}, el('a', { href: `#${id}`, class: 'chapter-link', text: 'Link to this chapter' })),
    el('li', {}, el('a', { href: sceneUrl(f, 'present'), class: 'present-link', text: 'Presenter view of the figure' })),
    el('li', {}, el('a', { href: sceneUrl(f), class: 'scene-link', text: `Open ${f.meta.title} with every control` })));
  f.chapter.querySelector('.chapter-text').append(links);
  f.frameBox.append(el('p', { class: 'placeholder', text: `${f.meta.title} starts when you scroll to it.` }));
  f.printImg = el('img', { alt: '', hidden: '' });
  const print = el('div', { class: 'tour-print' }, f.printImg,
    el('p', { class: 'print-link', text: `Live figure: ${sceneUrl(f)}` }));
  f.figure.insertBefore(print, f.figure.querySelector('figcaption'));
}

/** Creates the figure's frame: a <descent-scene> with the chapter's settings, paused. */
function create(f) {
  if (f.element) return;
  const s = document.createElement('descent-scene');
  s.setAttribute('scene', f.scene);
  if (f.controls) s.setAttribute('controls', f.controls);
  s.setAttribute('title', `${f.meta.title}: the figure of chapter “${f.chapter.querySelector('h2').textContent.replace(/^\d+\s*/, '')}”`);
  for (const [k, v] of f.settings) s.setAttribute(k, v);
  // The tour decides when a frame loads (near the viewport): the browser need not defer it again.
  s.frame?.setAttribute('loading', 'eager');
  f.frameBox.replaceChildren(s);
  f.element = s;
  f.status = 'loading';
  describe(f);
}

function send(f, type) {
  const w = f.element?.frame?.contentWindow;
  if (w) w.postMessage({ descent: 1, type }, '*');
}

function describe(f) {
  const word = STATUS_WORDS[f.status] ?? f.status;
  let lead = `${f.meta.title}: ${word}`;
  if (f.meta.live && f.status !== 'loading') lead += `, step ${f.step.toLocaleString('en')}`;
  if (reducedMotion && f.status === 'paused' && f.step === 0) lead += ' (press Play in the figure to train it)';
  const state = el('span', { class: 'state', text: `${lead}.` });
  const parts = [state];
  if (f.text) parts.push(` ${f.text}`);
  f.now.replaceChildren(...parts);
  f.figure.dataset.status = f.status;
  f.figure.dataset.step = String(f.step);
}

/** Which figures train: the MAX_RUNNING most in view, never with reduced motion. */
function reconcile(figures) {
  const ranked = figures.filter((f) => f.element && f.ratio >= VISIBLE_ENOUGH).sort((a, b) => b.ratio - a.ratio);
  const chosen = new Set(reducedMotion ? [] : ranked.slice(0, MAX_RUNNING));
  for (const f of figures) {
    const want = chosen.has(f);
    if (want === f.want) continue;
    f.want = want;
    if (want) {
      f.asked = true;
      send(f, 'play');
    } else {
      f.asked = false;
      send(f, 'pause');
      if (f.status === 'playing') send(f, 'snapshot');
    }
  }
}

function onState(f, d, figures) {
  const was = f.status;
  f.status = typeof d.status === 'string' ? d.status.slice(0, 20) : '';
  f.step = Number.isFinite(d.step) ? d.step : 0;
  if (typeof d.text === 'string' && d.text) f.text = d.text.slice(0, 600);
  describe(f);
  if (f.want && f.asked) {
    if (f.status === 'playing') f.asked = false;
    else if (f.status === 'paused' || f.status === 'loading') send(f, 'play');
    else f.asked = false;
  } else if (!f.want && f.status === 'playing') {
    send(f, 'pause'); // a figure out of view, or beyond the MAX_RUNNING in view, waits
  }
  if (was !== f.status && ['paused', 'finished', 'done', 'diverged'].includes(f.status)) send(f, 'snapshot');
  void figures;
}

function onSnapshot(f, d) {
  if (!(d.png instanceof Blob) || d.png.type !== 'image/png' || d.png.size > 8e6) return;
  if (f.printUrl) URL.revokeObjectURL(f.printUrl);
  f.printUrl = URL.createObjectURL(d.png);
  f.printImg.src = f.printUrl;
  f.printImg.alt = `${f.meta.title}: ${typeof d.title === 'string' ? d.title.slice(0, 200) : 'figure'}, as last drawn`;
  f.printImg.hidden = false;
}

function start() {
  renderNav('tour');
  const figures = readFigures();
  figures.forEach(decorate);

  addEventListener('message', (e) => {
    const d = e.data;
    if (!d || typeof d !== 'object' || d.descent !== 1) return;
    const f = figures.find((x) => x.element?.frame?.contentWindow === e.source);
    if (!f) return;
    if (d.type === 'state') onState(f, d, figures);
    else if (d.type === 'snapshot') onSnapshot(f, d);
  });

  const near = new IntersectionObserver((entries) => {
    for (const e of entries) {
      if (!e.isIntersecting) continue;
      const f = figures.find((x) => x.frameBox === e.target);
      if (f) create(f);
      near.unobserve(e.target);
    }
    reconcile(figures);
  }, { rootMargin: NEAR });
  const seen = new IntersectionObserver((entries) => {
    for (const e of entries) {
      const f = figures.find((x) => x.frameBox === e.target);
      if (f) f.ratio = e.isIntersecting ? e.intersectionRatio : 0;
    }
    reconcile(figures);
  }, { threshold: [0, 0.05, 0.15, 0.3, 0.5, 0.7, 0.9, 1] });
  for (const f of figures) {
    near.observe(f.frameBox);
    seen.observe(f.frameBox);
  }

  // The print pictures of the figures that train stay fresh.
  setInterval(() => {
    if (document.hidden) return;
    for (const f of figures) if (f.status === 'playing') send(f, 'snapshot');
  }, SNAPSHOT_MS);

  // A chapter's link: the header above is filled by script, so scroll again once it is.
  const target = location.hash.length > 1 ? document.getElementById(decodeURIComponent(location.hash.slice(1))) : null;
  if (target) target.scrollIntoView();

  window.descentTour = {
    get figures() {
      return figures.map((f) => ({
        id: f.figure.id, chapter: f.chapter.id, scene: f.scene, status: f.status, step: f.step, want: f.want,
        created: !!f.element, ratio: f.ratio, text: f.text, src: f.element?.frame?.getAttribute('src') ?? null,
        printed: !!f.printImg && !f.printImg.hidden,
      }));
    },
    reducedMotion,
  };
}

start();
