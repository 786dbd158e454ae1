// The scenes: the one list that the page nav (shell.js), the embed dialog, the web component
// (embed/descent-scene.js), the end-to-end tests and scripts/screenshot.mjs read. The key is the
// name the web component and the embed snippets use.
// No imports: the web component loads this on the host page, and the tests import it in Node.
//
//   page      the scene's page, relative to the site root
//   title     its name in the nav, the embed title and the header
//   live      a network trains step by step (Play, Step and Reset); otherwise the scene computes
//             its figures once per setting
//   headline  the scene's headline controls: the first group of its control table, which a
//             one-column page shows directly above the plots

export const SCENES = Object.freeze({
  playground: { page: 'index.html', title: 'Playground', live: true, headline: ['width', 'lr', 'initScale'] },
  lazy: { page: 'lazy.html', title: 'Lazy or rich', live: true, headline: ['width', 'alpha', 'lr', 'initScale'] },
  'double-descent': { page: 'double-descent.html', title: 'Double descent', live: false, headline: ['sweep', 'data', 'features'] },
  step: { page: 'step.html', title: 'Step size', live: true, headline: ['width', 'lrMultiple', 'initScale'] },
  'weak-labels': { page: 'weak-labels.html', title: 'Weak labels', live: true, headline: ['bag', 'concentration', 'purified', 'alike'] },
});

// The guided tour (tour.html): the first link of every page's nav, before the scenes. Not a
// scene: it embeds them, one per chapter (js/tour/tour.js).
export const TOUR = Object.freeze({ page: 'tour.html', title: 'Guided tour' });
